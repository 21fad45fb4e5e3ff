/**
 * Sender: the sender's display name for the replies' header (their user ID
 * when the lookup fails or they have none), and the log line of an
 * accepted command.
 *
 * @module
 */
import type { ChatPort } from "../chat_port.ts";
import { getLogger } from "../log.ts";
import type { Step } from "./compose.ts";
import { determined, type Turn } from "./turn.ts";

const log = getLogger("bot");

/** The sender step. */
export function senderStep(port: Pick<ChatPort, "displayName">): Step<Turn> {
  return async (turn, next) => {
    const { msg } = turn;
    turn.senderName = await port.displayName(msg.room, msg.sender).catch(() => msg.sender) ||
      msg.sender;
    log.info(
      `${turn.senderName} (${msg.sender}) sent ${determined(turn).command.name} in ${msg.room}`,
    );
    log.debug(`${turn.senderName} (${msg.sender}) sent in ${msg.room}: ${msg.body}`);
    await next();
  };
}
