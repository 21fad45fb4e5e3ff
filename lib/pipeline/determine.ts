/**
 * Determination: which command the message runs and its arguments, parsed
 * by the command's own `parse`. An unknown command word ends here.
 *
 * @module
 */
import { type Command, determine } from "../handlers/mod.ts";
import type { Step } from "./compose.ts";
import type { Turn } from "./turn.ts";

/** The determination step over a command table. */
export function determineStep(table: ReadonlyMap<string, Command>): Step<Turn> {
  return (turn, next) => {
    if (!turn.address) return;
    turn.determination = determine(turn.address, table) ?? undefined;
    if (!turn.determination) return;
    return next();
  };
}
