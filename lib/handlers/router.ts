/**
 * The router: message body → command and arguments. Pure; the command table
 * decides who may run what.
 *
 * @module
 */

/** What the router looks at. */
export interface RouteInput {
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
  command: string;
  /** Text after the command word, trimmed; inner newlines kept (decision 18). */
  args: string;
}

function startsWithName(body: string, name: string): boolean {
  return name !== "" && body.slice(0, name.length).toLowerCase() === name.toLowerCase();
}

/**
 * Routes a message:
 * 1. `<bot name>: text` (display name or user ID, names with spaces too) → `.ai`;
 * 2. a known command word as the first token (case-sensitive);
 * 3. a message that mentions the bot (pill) and starts with its name → `.ai`.
 * Anything else is `null`: ignored.
 */
export function route(input: RouteInput, commands: ReadonlySet<string>): Routed | null {
  const body = input.body.trim();
  if (!body) return null;
  const names = [input.botName, input.botUserId].filter(Boolean).sort((a, b) =>
    b.length - a.length
  );
  for (const name of names) {
    if (startsWithName(body, name) && body[name.length] === ":") {
      return { command: ".ai", args: body.slice(name.length + 1).trim() };
    }
  }
  const token = body.split(/\s/, 1)[0];
  if (commands.has(token)) return { command: token, args: body.slice(token.length).trim() };
  if (input.mentions?.includes(input.botUserId)) {
    for (const name of names) {
      if (!startsWithName(body, name)) continue;
      const rest = body.slice(name.length);
      if (rest === "" || /^[\s,:]/.test(rest)) {
        return { command: ".ai", args: rest.replace(/^[,:]/, "").trim() };
      }
    }
  }
  return null;
}
