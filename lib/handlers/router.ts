/**
 * The router: message body → command word and raw arguments (the ways a
 * message addresses the bot), then the typed determination: the command
 * and its parsed arguments. Pure; the command table decides who may run what.
 *
 * @module
 */
import type { Invalid } from "./args.ts";
import type { Command } from "./context.ts";

/** What the router looks at. */
export interface RouteInput {
  /** The message's plain-text body. */
  body: string;
  /** The bot's display name. */
  botName: string;
  /** The bot's user ID. */
  botUserId: string;
  /** User IDs the message mentions (`m.mentions.user_ids`). */
  mentions?: readonly string[];
}

/** A routed command. */
export interface Routed {
  /** The command word, e.g. `.ai`. */
  command: string;
  /** Text after the command word, trimmed; inner newlines kept (decision 18). */
  args: string;
}

/**
 * One way a message can address the bot: the command word and its raw
 * arguments, or `null` when the message is not addressed this way.
 */
export type AddressForm = (input: RouteInput, commands: ReadonlySet<string>) => Routed | null;

/** The bot's names, longest first: a longer name must win over its prefix. */
function namesOf(input: RouteInput): string[] {
  return [input.botName, input.botUserId].filter(Boolean).sort((a, b) => b.length - a.length);
}

function startsWithName(body: string, name: string): boolean {
  return name !== "" && body.slice(0, name.length).toLowerCase() === name.toLowerCase();
}

/** `<bot name>: text` (display name or user ID, names with spaces too) → `.ai`. */
export function byName(input: RouteInput): Routed | null {
  const body = input.body.trim();
  for (const name of namesOf(input)) {
    if (startsWithName(body, name) && body[name.length] === ":") {
      return { command: ".ai", args: body.slice(name.length + 1).trim() };
    }
  }
  return null;
}

/** A known command word as the first token (case-sensitive). */
export function byCommandWord(input: RouteInput, commands: ReadonlySet<string>): Routed | null {
  const body = input.body.trim();
  const token = body.split(/\s/, 1)[0];
  return commands.has(token) ? { command: token, args: body.slice(token.length).trim() } : null;
}

/** A message that mentions the bot (pill) and starts with its name → `.ai`. */
export function byMentionPill(input: RouteInput): Routed | null {
  if (!input.mentions?.includes(input.botUserId)) return null;
  const body = input.body.trim();
  for (const name of namesOf(input)) {
    if (!startsWithName(body, name)) continue;
    const rest = body.slice(name.length);
    if (rest === "" || /^[\s,:]/.test(rest)) {
      return { command: ".ai", args: rest.replace(/^[,:]/, "").trim() };
    }
  }
  return null;
}

/** The ways of being addressed, in order of precedence. */
export const ADDRESS_FORMS: readonly AddressForm[] = [byName, byCommandWord, byMentionPill];

/**
 * Routes a message:
 * 1. `<bot name>: text` (display name or user ID, names with spaces too) → `.ai`;
 * 2. a known command word as the first token (case-sensitive);
 * 3. a message that mentions the bot (pill) and starts with its name → `.ai`.
 * Anything else is `null`: ignored.
 */
export function route(
  input: RouteInput,
  commands: ReadonlySet<string>,
  forms: readonly AddressForm[] = ADDRESS_FORMS,
): Routed | null {
  if (!input.body.trim()) return null;
  for (const form of forms) {
    const routed = form(input, commands);
    if (routed) return routed;
  }
  return null;
}

/** A command with its parsed arguments: what to run. */
export interface Determination<A = unknown> {
  /** The command to run. */
  readonly command: Command<A>;
  /** The arguments as the command's `parse` read them. */
  readonly args: A | Invalid;
}

/**
 * The typed determination of a routed message: its command from `table`
 * and the arguments parsed by that command; `null` for an unknown command.
 */
export function determine(
  routed: Routed,
  table: ReadonlyMap<string, Command>,
): Determination | null {
  const command = table.get(routed.command);
  return command ? { command, args: command.parse(routed.args) } : null;
}
