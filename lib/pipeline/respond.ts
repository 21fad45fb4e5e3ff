/**
 * Respond: for commands that ask the model, the typing notice and (when
 * `.thinking` is on) the "Thinking…" placeholder start, without waiting:
 * the model is asked at once.
 *
 * @module
 */
import type { Step } from "./compose.ts";
import { determined, responderOf, type Turn } from "./turn.ts";

/** Options for {@link respondStep}. */
export interface RespondOptions {
  /** Show the placeholder when `.thinking` is on (default true; tests turn it off). */
  placeholders?: boolean;
}

/** The respond step. */
export function respondStep(options: RespondOptions = {}): Step<Turn> {
  const placeholders = options.placeholders ?? true;
  return (turn, next) => {
    if (determined(turn).command.responder === "placeholder") {
      const placeholder = placeholders && turn.services.settings.get("thinking");
      responderOf(turn).start(turn.senderName, placeholder);
    }
    return next();
  };
}
