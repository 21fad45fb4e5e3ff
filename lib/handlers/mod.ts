/**
 * The command table: the only list of commands. `help.md` is tested against it.
 *
 * @module
 */
import { ai } from "./ai.ts";
import type { Command } from "./context.ts";
import { help } from "./help.ts";
import { model, mymodel } from "./models.ts";
import { custom, persona } from "./persona.ts";
import { reset, stock } from "./reset.ts";
import { room } from "./room.ts";
import { clear, thinking, tools, verbose } from "./settings.ts";
import { usage } from "./usage.ts";
import { x } from "./x.ts";

export type { Answerer, Command, Context, HandlerLog, MediaSettings, Services } from "./context.ts";
export { type Invalid, isInvalid } from "./args.ts";
export { type LocalServer, type ModelCatalog, modelCatalog } from "./catalog.ts";
export {
  ADDRESS_FORMS,
  type AddressForm,
  type Determination,
  determine,
  route,
  type Routed,
  type RouteInput,
} from "./router.ts";

/** Every command, user commands first. */
export const COMMANDS: readonly Command[] = [
  ai,
  x,
  persona,
  custom,
  reset,
  stock,
  help,
  mymodel,
  usage,
  room,
  model,
  tools,
  verbose,
  thinking,
  clear,
];

/** Commands by name. */
export const COMMAND_TABLE: ReadonlyMap<string, Command> = new Map(
  COMMANDS.map((c) => [c.name, c]),
);

/** The command words the router recognises. */
export const COMMAND_NAMES: ReadonlySet<string> = new Set(COMMAND_TABLE.keys());
