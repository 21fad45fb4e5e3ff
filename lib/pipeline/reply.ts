/**
 * Reply: opens the turn's responder once the message was accepted, and
 * closes it after everything, the error boundary's reply included: the
 * animation and typing notice stop, and a placeholder nobody replaced is
 * removed (unless shutdown interrupted the answer, which comes after the
 * restart and reuses it).
 *
 * @module
 */
import type { ChatPort } from "../chat_port.ts";
import { Responder, type ResponderOptions } from "../responder.ts";
import type { Step } from "./compose.ts";
import type { Turn } from "./turn.ts";

/** The reply step. */
export function replyStep(port: ChatPort, options: ResponderOptions = {}): Step<Turn> {
  return async (turn, next) => {
    const responder = turn.responder = new Responder(port, turn.msg, options);
    try {
      await next();
    } finally {
      await responder.finish(turn.outcome === "interrupted");
    }
  };
}
