/**
 * The one error boundary: whatever fails after a message was accepted is
 * answered `Something went wrong (<reason>)` (decision 3; the reason is
 * secret-free, "an internal error" for anything but a model failure) and
 * the bot keeps serving. A failure caused by shutdown is not answered: the
 * turn is interrupted and a transport keeps the message for the restart.
 *
 * @module
 */
import { type FailureReason, metrics } from "../bot_metrics.ts";
import { failureReason, LlmError } from "../llm.ts";
import { ProviderError } from "../provider_errors.ts";
import { getLogger } from "../log.ts";
import type { Step } from "./compose.ts";
import { determined, responderOf, type Turn } from "./turn.ts";

const log = getLogger("bot");

/** What users see when their command failed. */
export const BOUNDARY_MESSAGES = {
  failed: (reason: string) => `Something went wrong (${reason})`,
};

/** The error boundary; `signal` is aborted at shutdown. */
export function boundaryStep(signal: AbortSignal): Step<Turn> {
  return async (turn, next) => {
    try {
      await next();
      turn.outcome = "answered";
      metrics.answered();
    } catch (error) {
      const what = `${determined(turn).command.name} from ${turn.msg.sender} in ${turn.msg.room}`;
      if (signal.aborted) {
        log.info(`${what} interrupted by shutdown`);
        turn.outcome = "interrupted";
        return;
      }
      // A model failure is expected and was logged with its model where it happened.
      if (error instanceof LlmError) log.debug(`${what} failed: ${error.reason}`);
      else log.error(`${what} failed: ${(error as Error).stack ?? error}`);
      turn.outcome = "answered";
      metrics.failed(failureKind(error));
      await responderOf(turn).reply(BOUNDARY_MESSAGES.failed(failureReason(error)));
    }
  };
}

/** The metrics' reason of a failure: the provider's failure kind, an empty answer, or internal. */
export function failureKind(error: unknown): FailureReason {
  const cause = error instanceof LlmError ? error.cause ?? error : error;
  if (cause instanceof ProviderError) return cause.kind;
  if (error instanceof LlmError) {
    return error.reason === "the request was cancelled" ? "aborted" : "empty_answer";
  }
  return "internal";
}
