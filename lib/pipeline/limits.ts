/**
 * Limits (`llm.rate_limit`, `llm.budget`): commands that ask the model are
 * refused, with a reply that says which limit and when it renews, when the
 * sender is over the requests per minute or has used up a budget (today's
 * tokens, this month's USD). Admins have no limits.
 *
 * @module
 */
import { metrics } from "../bot_metrics.ts";
import { getLogger } from "../log.ts";
import { RateLimiter } from "../rate_limit.ts";
import { type BudgetRefusal, formatCount, formatUsd, type UsageLedger } from "../usage.ts";
import type { Step } from "./compose.ts";
import { determined, responderOf, type Turn } from "./turn.ts";

const log = getLogger("bot");

/** Refusals of the per-user limits (`llm.rate_limit`, `llm.budget`). */
export const LIMIT_MESSAGES = {
  rate: (name: string, perMinute: number, seconds: number) =>
    `Slow down, ${name}: at most ${perMinute} requests per minute. Try again in ${seconds} s.`,
  budget: (name: string, tokens: number) =>
    `Sorry ${name}, you have used today's budget of ${
      formatCount(tokens)
    } tokens. It renews at midnight UTC.`,
  monthly: (name: string, usd: number, renews: string) =>
    `Sorry ${name}, you have used this month's budget of ${
      formatUsd(usd)
    }. It renews on ${renews} at midnight UTC.`,
};

/** The refusal for a used-up budget. */
export function budgetMessage(name: string, refusal: BudgetRefusal): string {
  if (refusal.limit === "daily_tokens") return LIMIT_MESSAGES.budget(name, refusal.budget);
  const renews = new Date(refusal.renewsAt).toLocaleDateString("en-US", {
    month: "long",
    day: "numeric",
    timeZone: "UTC",
  });
  return LIMIT_MESSAGES.monthly(name, refusal.budget, renews);
}

/** Options for {@link limitsStep}. */
export interface LimitsOptions {
  /** `llm.rate_limit.requests_per_minute`; 0 for no limit. */
  requestsPerMinute: number;
  /** The budgets (`llm.budget`); none when absent. */
  budget?: Pick<UsageLedger, "refusal">;
}

/** The limits step. */
export function limitsStep(options: LimitsOptions): Step<Turn> {
  const { requestsPerMinute, budget } = options;
  const limiter = new RateLimiter(requestsPerMinute);
  /** A refusal when the sender is over a limit. */
  const overLimit = (sender: string, name: string): string | undefined => {
    const wait = limiter.take(sender);
    if (wait > 0) {
      metrics.refused("requests_per_minute");
      return LIMIT_MESSAGES.rate(name, requestsPerMinute, Math.ceil(wait / 1000));
    }
    const refusal = budget?.refusal(sender);
    if (!refusal) return undefined;
    metrics.refused(refusal.limit);
    return budgetMessage(name, refusal);
  };
  return async (turn, next) => {
    const { command } = determined(turn);
    const refusal = command.limited && !turn.isAdmin
      ? overLimit(turn.msg.sender, turn.senderName)
      : undefined;
    if (refusal) {
      log.info(`${turn.msg.sender} is over a limit; ${command.name} in ${turn.msg.room} refused`);
      await responderOf(turn).reply(refusal);
      return;
    }
    await next();
  };
}
