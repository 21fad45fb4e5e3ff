/**
 * Limits (`llm.rate_limit`): commands that ask the model are refused, with
 * a reply, when the sender is over the requests per minute or has used up
 * today's token budget. Admins have no limits.
 *
 * @module
 */
import { metrics } from "../bot_metrics.ts";
import { getLogger } from "../log.ts";
import { RateLimiter } from "../rate_limit.ts";
import type { UsageStore } from "../state/ports.ts";
import type { Step } from "./compose.ts";
import { determined, responderOf, type Turn } from "./turn.ts";

const log = getLogger("bot");

/** Refusals of the per-user limits (`llm.rate_limit`). */
export const LIMIT_MESSAGES = {
  rate: (name: string, perMinute: number, seconds: number) =>
    `Slow down, ${name}: at most ${perMinute} requests per minute. Try again in ${seconds} s.`,
  budget: (name: string, tokens: number) =>
    `Sorry ${name}, you have used today's budget of ${tokens} tokens. It renews at midnight UTC.`,
};

/** Options for {@link limitsStep}. */
export interface LimitsOptions {
  /** `llm.rate_limit.requests_per_minute`; 0 for no limit. */
  requestsPerMinute: number;
  /** The daily token budgets (`llm.rate_limit.daily_tokens`); none when absent. */
  budget?: Pick<UsageStore, "exhausted" | "daily">;
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
    if (budget?.exhausted(sender)) {
      metrics.refused("daily_tokens");
      return LIMIT_MESSAGES.budget(name, budget.daily);
    }
    return undefined;
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
