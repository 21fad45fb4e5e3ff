/**
 * The turn: one incoming message on its way through the pipeline, with what
 * the steps found out about it, the responder once there is one, and the
 * outcome.
 *
 * @module
 */
import type { IncomingMessage } from "../chat_port.ts";
import type { Determination, Routed, Services } from "../handlers/mod.ts";
import type { Responder } from "../responder.ts";

/**
 * What became of a message: `ignored` (not for the bot, or not allowed),
 * `answered` (dealt with: the handler ran, or a refusal or an error was
 * replied), `interrupted` (shutdown kept it from being answered; a
 * transport keeps it for after the restart).
 */
export type Outcome = "ignored" | "answered" | "interrupted";

/** One message on its way through the pipeline. */
export interface Turn {
  /** The message as the transport delivered it. */
  readonly msg: IncomingMessage;
  /** The sender is a bot admin (by Matrix ID). Set by intake. */
  isAdmin: boolean;
  /** How the message addressed the bot: command word and raw arguments. */
  address?: Routed;
  /** The command and its parsed arguments. */
  determination?: Determination;
  /** The sender's display name (the user ID until it was looked up). */
  senderName: string;
  /** Sends the replies; set once the message was accepted. */
  responder?: Responder;
  /** The services for the handler; a step may decorate them for the steps after it. */
  services: Services;
  /** What became of the message so far. */
  outcome: Outcome;
}

/** A new turn for `msg`. */
export function newTurn(msg: IncomingMessage, services: Services): Turn {
  return { msg, isAdmin: false, senderName: msg.sender, services, outcome: "ignored" };
}

/** The turn's command and arguments; throws when a step runs before `determine`. */
export function determined(turn: Turn): Determination {
  if (!turn.determination) throw new Error("pipeline: no determination yet");
  return turn.determination;
}

/** The turn's responder; throws when a step runs before `reply`. */
export function responderOf(turn: Turn): Responder {
  if (!turn.responder) throw new Error("pipeline: no responder yet");
  return turn.responder;
}
