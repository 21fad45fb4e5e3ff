/**
 * `.usage`: your tokens today and this month (UTC), per model, with their
 * cost where `llm.prices` has the model, and your budgets. `.usage all`
 * (admins; ignored from others, like every admin command): this month per
 * user and per model.
 *
 * @module
 */
import type { UsageRow } from "../state/ports.ts";
import {
  formatCount,
  formatTokens,
  formatUsd,
  monthName,
  sumTokens,
  type UsageLedger,
} from "../usage.ts";
import { type Invalid, invalid } from "./args.ts";
import type { Command } from "./context.ts";

/** The label of counts kept before models were recorded. */
const UNKNOWN_MODEL = "earlier (model not recorded)";

/** What `.usage` replies. */
export const USAGE_MESSAGES = {
  usage: "Usage: .usage [all]",
  mine: (name: string) => `**Usage for ${name}** (UTC)`,
  today: "**Today**",
  month: (month: string) => `**This month** (${month})`,
  all: (month: string) => `**Usage this month** (${month}, UTC)`,
  perUser: "**Per user**",
  perModel: "**Per model**",
  total: "**Total**",
  none: "no usage",
  dailyBudget: (used: number, budget: number) =>
    `**Daily budget**: ${formatCount(used)} of ${formatCount(budget)} tokens used`,
  monthlyBudget: (used: number, budget: number) =>
    `**Monthly budget**: ${formatUsd(used)} of ${formatUsd(budget)} used`,
};

/** `.usage`'s arguments. */
export interface UsageArgs {
  /** Everyone's usage this month (admins). */
  readonly all: boolean;
}

/** Reads `.usage [all]`; other words get the usage line. */
export function parseUsage(raw: string): UsageArgs | Invalid {
  const arg = raw.trim().toLowerCase();
  if (arg === "") return { all: false };
  if (arg === "all") return { all: true };
  return invalid(USAGE_MESSAGES.usage);
}

/** `1,234 in / 567 out tokens, $0.0123` (the cost only when a model of the rows is priced). */
export function usageLine(ledger: Pick<UsageLedger, "cost">, rows: readonly UsageRow[]): string {
  const cost = ledger.cost(rows);
  return formatTokens(sumTokens(rows)) + (cost === undefined ? "" : `, ${formatUsd(cost)}`);
}

/** One line per model, `- <model>: <usage>`, or `- no usage`. */
function perModel(ledger: Pick<UsageLedger, "cost">, rows: readonly UsageRow[]): string[] {
  if (!rows.length) return [`- ${USAGE_MESSAGES.none}`];
  const models = [...new Set(rows.map((r) => r.model))];
  return models.map((model) =>
    `- ${model || UNKNOWN_MODEL}: ${usageLine(ledger, rows.filter((r) => r.model === model))}`
  );
}

/** A period's header with its total, then its models (the total alone when there is one model). */
function period(ledger: Pick<UsageLedger, "cost">, header: string, rows: readonly UsageRow[]) {
  const lines = perModel(ledger, rows);
  return rows.length ? [`${header}: ${usageLine(ledger, rows)}`, ...lines] : [header, ...lines];
}

/** The sender's report. */
export function ownReport(
  ledger: Pick<UsageLedger, "cost" | "limits">,
  name: string,
  usage: { today: readonly UsageRow[]; month: readonly UsageRow[] },
  now: number,
): string {
  const lines = [
    USAGE_MESSAGES.mine(name),
    ...period(ledger, USAGE_MESSAGES.today, usage.today),
    ...period(ledger, USAGE_MESSAGES.month(monthName(now)), usage.month),
  ];
  const { dailyTokens, monthlyUsd } = ledger.limits;
  if (dailyTokens > 0) {
    const { input, output } = sumTokens(usage.today);
    lines.push(USAGE_MESSAGES.dailyBudget(input + output, dailyTokens));
  }
  if (monthlyUsd > 0) {
    lines.push(USAGE_MESSAGES.monthlyBudget(ledger.cost(usage.month) ?? 0, monthlyUsd));
  }
  return lines.join("\n");
}

/** Everyone's month: per user (with their models), per model, and the total. */
export function allReport(
  ledger: Pick<UsageLedger, "cost">,
  month: readonly UsageRow[],
  names: ReadonlyMap<string, string>,
  now: number,
): string {
  const lines = [USAGE_MESSAGES.all(monthName(now))];
  if (!month.length) return [...lines, `- ${USAGE_MESSAGES.none}`].join("\n");
  lines.push(USAGE_MESSAGES.perUser);
  for (const user of new Set(month.map((r) => r.user))) {
    const rows = month.filter((r) => r.user === user);
    const name = names.get(user);
    const who = name && name !== user ? `${name} (${user})` : user;
    lines.push(`- ${who}: ${usageLine(ledger, rows)}`);
    if (new Set(rows.map((r) => r.model)).size > 1) {
      lines.push(...perModel(ledger, rows).map((line) => `  ${line}`));
    }
  }
  lines.push(USAGE_MESSAGES.perModel, ...perModel(ledger, month));
  lines.push(`${USAGE_MESSAGES.total}: ${usageLine(ledger, month)}`);
  return lines.join("\n");
}

/** `.usage [all]`. */
export const usage: Command<UsageArgs> = {
  name: ".usage",
  admin: false,
  limited: false,
  responder: "none",
  parse: parseUsage,
  async run(ctx) {
    const now = Date.now();
    if (!ctx.args.all) {
      const report = ownReport(ctx.usage, ctx.senderName, {
        today: ctx.usage.today(ctx.sender, now),
        month: ctx.usage.month(ctx.sender, now),
      }, now);
      await ctx.reply(report);
      return;
    }
    if (!ctx.isAdmin) {
      ctx.log.info(`${ctx.sender} is not an admin; .usage all in ${ctx.room} ignored`);
      return;
    }
    const month = ctx.usage.month(undefined, now);
    const users = [...new Set(month.map((r) => r.user))];
    const names = new Map(
      await Promise.all(users.map(async (u) => [u, await ctx.displayName(u)] as const)),
    );
    await ctx.reply(allReport(ctx.usage, month, names, now));
  },
};
