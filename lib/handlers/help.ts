/**
 * `.help`: the user part of `help.md`; admins also get the admin part.
 *
 * @module
 */
import { type NoArgs, parseNothing } from "./args.ts";
import type { Command } from "./context.ts";

/** What `.help` says when `help.md` has no user part. */
export const HELP_MESSAGES = {
  fallback: "See README for usage.",
};

/** Splits help text into the user part and the admin part. */
export function splitHelp(text: string): { user: string; admin?: string } {
  const [user, admin] = text.split("~~~");
  return { user: user.trim(), admin: admin?.trim() || undefined };
}

/** `.help`. */
export const help: Command<NoArgs> = {
  name: ".help",
  admin: false,
  limited: false,
  responder: "none",
  parse: parseNothing,
  async run(ctx) {
    const parts = splitHelp(ctx.help);
    await ctx.reply(parts.user || HELP_MESSAGES.fallback);
    if (ctx.isAdmin && parts.admin) await ctx.reply(parts.admin);
  },
};
