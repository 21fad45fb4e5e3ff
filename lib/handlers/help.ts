/**
 * `.help`: the user part of `help.md`; admins also get the part after `~~~`.
 *
 * @module
 */
import type { Command } from "./context.ts";

/** Splits help text into the user part and the admin part. */
export function splitHelp(text: string): { user: string; admin?: string } {
  const [user, admin] = text.split("~~~");
  return { user: user.trim(), admin: admin?.trim() || undefined };
}

/** `.help`. */
export const help: Command = {
  name: ".help",
  admin: false,
  async run(ctx) {
    const parts = splitHelp(ctx.help);
    await ctx.reply(parts.user || "See README for usage.");
    if (ctx.isAdmin && parts.admin) await ctx.reply(parts.admin);
  },
};
