/**
 * `.x <user> <message>`: talk into another user's thread in this room. The
 * target is a Matrix ID (a new thread is created if needed) or the display
 * name of someone who already has a thread here (longest name wins).
 *
 * @module
 */
import { parseText, type TextArgs } from "./args.ts";
import type { Command } from "./context.ts";
import { converse, modelFor, toolsFor } from "./converse.ts";

/** A user who could be meant by name. */
export interface Candidate {
  /** Their user ID. */
  userId: string;
  /** Their display name in the room. */
  name: string;
}

/** Who `.x` talks to, and what it says. */
export interface XTarget {
  /** Whose thread. */
  target: string;
  /** What to say in it. */
  message: string;
}

/**
 * Parses `.x` arguments (reference §2.3, decision 6). `null` means "ignore":
 * no target, no message, or an unknown name.
 */
export function parseXTarget(args: string, candidates: readonly Candidate[]): XTarget | null {
  const text = args.trim();
  if (!text) return null;
  if (text.startsWith("@")) {
    const first = text.split(/\s/, 1)[0];
    const rest = text.slice(first.length).trim();
    if (first.includes(":")) return rest ? { target: first, message: rest } : null;
  }
  let best: Candidate | undefined;
  for (const c of candidates) {
    if (!c.name) continue;
    const matches = text === c.name || (text.startsWith(c.name) && /\s/.test(text[c.name.length]));
    if (matches && (!best || c.name.length > best.name.length)) best = c;
  }
  if (!best) return null;
  const message = text.slice(best.name.length).trim();
  return message ? { target: best.userId, message } : null;
}

/** `.x`. */
export const x: Command<TextArgs> = {
  name: ".x",
  admin: false,
  limited: true,
  responder: "placeholder",
  // The target is resolved in the handler: names need the room's display names.
  parse: parseText,
  async run(ctx) {
    const users = ctx.threads.users(ctx.room);
    const candidates = await Promise.all(
      users.map(async (userId) => ({ userId, name: await ctx.displayName(userId) })),
    );
    const parsed = parseXTarget(ctx.args.text, candidates);
    if (!parsed) {
      ctx.log.info(`.x from ${ctx.sender} in ${ctx.room} ignored: no known target or no message`);
      return;
    }
    await ctx.withThread(parsed.target, () =>
      converse(ctx, {
        owner: parsed.target,
        userText: parsed.message,
        model: modelFor(ctx, parsed.target),
        useTools: toolsFor(ctx),
      }));
  },
};
