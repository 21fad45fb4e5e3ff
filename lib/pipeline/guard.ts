/**
 * Guard: admin commands from anyone else are ignored, without a reply.
 *
 * @module
 */
import { getLogger } from "../log.ts";
import type { Step } from "./compose.ts";
import { determined, type Turn } from "./turn.ts";

const log = getLogger("bot");

/** The admin guard. */
export function guardStep(): Step<Turn> {
  return (turn, next) => {
    const { command } = determined(turn);
    if (command.admin && !turn.isAdmin) {
      log.info(`${turn.msg.sender} is not an admin; ${command.name} in ${turn.msg.room} ignored`);
      return;
    }
    return next();
  };
}
