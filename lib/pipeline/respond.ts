/**
 * Respond: for commands that ask the model, the typing notice starts, and
 * (when `.thinking` is on) the clock after which the "Thinking…"
 * placeholder or the streamed text so far shows (decision 35), without
 * waiting: the model is asked at once.
 *
 * @module
 */
import { effectiveStream } from "../state/room_settings.ts";
import type { Step } from "./compose.ts";
import { determined, responderOf, type Turn } from "./turn.ts";

/** Options for {@link respondStep}. */
export interface RespondOptions {
  /** Show the placeholder when `.thinking` is on (default true; tests turn it off). */
  placeholders?: boolean;
  /** Stream answers while `.thinking` is on (`llm.stream`, default true). */
  stream?: boolean;
}

/** The respond step. */
export function respondStep(options: RespondOptions = {}): Step<Turn> {
  const placeholders = options.placeholders ?? true;
  return (turn, next) => {
    if (determined(turn).command.responder === "placeholder") {
      const placeholder = placeholders && turn.services.settings.get("thinking");
      // `.room stream on|off` wins over `llm.stream` (decision 44).
      const stream = placeholder && effectiveStream({
        room: turn.services.rooms.get(turn.msg.room).stream,
        global: options.stream ?? true,
      });
      responderOf(turn).start(turn.senderName, { placeholder, stream });
    }
    return next();
  };
}
