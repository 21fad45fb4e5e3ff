/**
 * Usage and cost (decision 43), as pure arithmetic: UTC days and months,
 * prices by model glob, costs, the budget decision and how numbers are
 * written; and {@link UsageLedger}, which keeps the counts in a
 * {@link UsageStore} and tells an observer (metrics) what it counted and
 * refused.
 *
 * @module
 */
import { globMatch } from "./providers.ts";
import type { TokenCount, UsageRow, UsageStore } from "./state/ports.ts";
import { utcDay } from "./state/rules.ts";

/** USD per million tokens, in and out (`llm.prices` values). */
export interface ModelPrice {
  /** USD per 1M input (prompt) tokens. */
  input: number;
  /** USD per 1M output (completion) tokens. */
  output: number;
}

/** The per-user budgets (`llm.budget`) and the prices they are counted in. */
export interface BudgetLimits {
  /** Tokens (in + out) per user per UTC day; 0: none. */
  dailyTokens: number;
  /** USD per user per UTC month; 0: none. Only priced models count. */
  monthlyUsd: number;
  /** `llm.prices`: model glob → price. */
  prices: Readonly<Record<string, ModelPrice>>;
}

/** Which budget refuses a request, and when it renews (ms since the epoch, UTC). */
export type BudgetRefusal =
  | { readonly limit: "daily_tokens"; readonly budget: number; readonly renewsAt: number }
  | { readonly limit: "monthly_usd"; readonly budget: number; readonly renewsAt: number };

/** The first day of `now`'s UTC month, `YYYY-MM-01`. */
export function utcMonthStart(now: number): string {
  return `${utcDay(now).slice(0, 7)}-01`;
}

/** The next UTC midnight after `now`. */
export function nextUtcDay(now: number): number {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
}

/** The first moment of the UTC month after `now`'s. */
export function nextUtcMonth(now: number): number {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** `now`'s UTC month in words: `December 2026`. */
export function monthName(now: number): string {
  return new Date(now).toLocaleString("en-US", { month: "long", year: "numeric", timeZone: "UTC" });
}

/**
 * The price of `model`: the entry named exactly like it, else the first
 * entry (in file order) whose glob (`*`, `?`, case-insensitive) matches it.
 * Counts kept before models were recorded (model '') have no price.
 */
export function priceOf(
  model: string,
  prices: Readonly<Record<string, ModelPrice>>,
): ModelPrice | undefined {
  if (!model) return undefined;
  if (Object.hasOwn(prices, model)) return prices[model];
  const pattern = Object.keys(prices).find((p) => globMatch(p, model));
  return pattern === undefined ? undefined : prices[pattern];
}

/** The cost in USD of `tokens` at `price` (not rounded). */
export function costOf(tokens: TokenCount, price: ModelPrice): number {
  return (tokens.input * price.input + tokens.output * price.output) / 1_000_000;
}

/** The cost of usage rows in USD, only the priced models counted; undefined when none is priced. */
export function costOfRows(
  rows: readonly UsageRow[],
  prices: Readonly<Record<string, ModelPrice>>,
): number | undefined {
  let total: number | undefined;
  for (const row of rows) {
    const price = priceOf(row.model, prices);
    if (price) total = (total ?? 0) + costOf(row, price);
  }
  return total;
}

/** Token counts summed. */
export function sumTokens(rows: readonly TokenCount[]): TokenCount {
  return rows.reduce((a, r) => ({ input: a.input + r.input, output: a.output + r.output }), {
    input: 0,
    output: 0,
  });
}

const GROUPED = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const CENTS = new Intl.NumberFormat("en-US", {
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
});

/** A whole number with thousands separators: `1,234`. */
export function formatCount(n: number): string {
  return GROUPED.format(n);
}

/**
 * A cost in USD: four decimals below a dollar (`$0.0123`), cents from a
 * dollar on (`$1,234.57`), half up; a cost too small for four decimals is
 * `<$0.0001`, none at all `$0.0000`.
 */
export function formatUsd(usd: number): string {
  // The nudge keeps halves that binary fractions store just below .5 rounding up.
  const nudge = (x: number) => x * (1 + Number.EPSILON * 4);
  if (usd >= 1) return `$${CENTS.format(Math.round(nudge(usd) * 100) / 100)}`;
  const tenThousandths = Math.round(nudge(usd) * 10_000);
  if (tenThousandths === 0 && usd > 0) return "<$0.0001";
  if (tenThousandths >= 10_000) return "$1.00";
  return `$${(tenThousandths / 10_000).toFixed(4)}`;
}

/** `1,234 in / 567 out tokens`. */
export function formatTokens(tokens: TokenCount): string {
  return `${formatCount(tokens.input)} in / ${formatCount(tokens.output)} out tokens`;
}

/**
 * Which budget, if any, `user`'s usage so far has used up: the daily token
 * budget first (today's tokens in and out), then the monthly USD budget
 * (this month's cost of the priced models).
 */
export function budgetRefusal(
  usage: { today: readonly UsageRow[]; month: readonly UsageRow[] },
  limits: BudgetLimits,
  now: number,
): BudgetRefusal | undefined {
  if (limits.dailyTokens > 0) {
    const { input, output } = sumTokens(usage.today);
    if (input + output >= limits.dailyTokens) {
      return { limit: "daily_tokens", budget: limits.dailyTokens, renewsAt: nextUtcDay(now) };
    }
  }
  if (limits.monthlyUsd > 0) {
    const cost = costOfRows(usage.month, limits.prices) ?? 0;
    if (cost >= limits.monthlyUsd) {
      return { limit: "monthly_usd", budget: limits.monthlyUsd, renewsAt: nextUtcMonth(now) };
    }
  }
  return undefined;
}

/** What the ledger counted: one answer's tokens. */
export interface UsageEvent extends TokenCount {
  /** Who asked. */
  user: string;
  /** The model that answered. */
  model: string;
}

/** Hooks for metrics: tokens counted, requests refused by a budget. */
export interface UsageObserver {
  /** An answer's tokens were counted. */
  counted?(event: UsageEvent): void;
  /** A request was refused by a budget. */
  refused?(event: { user: string; limit: BudgetRefusal["limit"] }): void;
}

/** Options for {@link UsageLedger}. */
export interface UsageLedgerOptions {
  /** Where the counts are kept. */
  store: UsageStore;
  /** The budgets and prices; none and no prices when absent. */
  limits?: BudgetLimits;
  /** Told about counts and refusals (metrics). */
  observer?: UsageObserver;
}

const NO_LIMITS: BudgetLimits = { dailyTokens: 0, monthlyUsd: 0, prices: {} };

/** The tokens users spend, their cost, and the budgets against them. */
export class UsageLedger {
  readonly #store: UsageStore;
  readonly #observer?: UsageObserver;
  /** The budgets and prices. */
  readonly limits: BudgetLimits;

  /** A ledger over `options.store`. */
  constructor(options: UsageLedgerOptions) {
    this.#store = options.store;
    this.limits = options.limits ?? NO_LIMITS;
    this.#observer = options.observer;
  }

  /** Counts an answer's tokens for `user` and `model`. */
  record(user: string, model: string, tokens: TokenCount, now: number = Date.now()): void {
    this.#store.add(user, model, tokens, now);
    this.#observer?.counted?.({ user, model, input: tokens.input, output: tokens.output });
  }

  /** `user`'s usage per model today (UTC). */
  today(user: string, now: number = Date.now()): UsageRow[] {
    const day = utcDay(now);
    return this.#store.sum({ from: day, to: day, user });
  }

  /** Usage per user and model this month (UTC), of `user` or of everyone. */
  month(user?: string, now: number = Date.now()): UsageRow[] {
    return this.#store.sum({ from: utcMonthStart(now), to: utcDay(now), user });
  }

  /** The budget `user` has used up, if any; the observer hears of a refusal. */
  refusal(user: string, now: number = Date.now()): BudgetRefusal | undefined {
    const { dailyTokens, monthlyUsd } = this.limits;
    if (dailyTokens <= 0 && monthlyUsd <= 0) return undefined;
    const refusal = budgetRefusal(
      {
        today: dailyTokens > 0 ? this.today(user, now) : [],
        month: monthlyUsd > 0 ? this.month(user, now) : [],
      },
      this.limits,
      now,
    );
    if (refusal) this.#observer?.refused?.({ user, limit: refusal.limit });
    return refusal;
  }

  /** The cost of rows in USD; undefined when no model among them has a price. */
  cost(rows: readonly UsageRow[]): number | undefined {
    return costOfRows(rows, this.limits.prices);
  }
}
