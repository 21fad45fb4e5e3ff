/**
 * `.reset`: your thread back to the default persona (the room's, when set) (`.reset stock` is
 * `.stock`). `.stock`: your thread with no system prompt at all.
 * Neither touches your personal model. In a Matrix thread, both act on the
 * thread's shared conversation (decision 38).
 *
 * @module
 */
import { type NoArgs, parseNothing } from "./args.ts";
import type { Command, Context } from "./context.ts";
import { conversationOf } from "./converse.ts";

/** What `.reset` and `.stock` reply. */
export const RESET_MESSAGES = {
  stock: (name: string) => `Stock settings applied for ${name}`,
  reset: (bot: string, name: string) => `${bot} reset to default for ${name}`,
};

/** `.reset`'s arguments: `stock` (any case) empties the thread instead. */
export interface ResetArgs {
  /** Empty the thread (no system prompt) instead of the default persona. */
  readonly stock: boolean;
}

/** Reads `.reset [stock]`; anything else is a plain reset. */
export function parseReset(raw: string): ResetArgs {
  return { stock: raw.trim().toLowerCase() === "stock" };
}

async function applyStock(ctx: Context): Promise<void> {
  const owner = conversationOf(ctx);
  await ctx.withThread(owner, () => {
    ctx.threads.set(ctx.room, owner, []);
    return Promise.resolve();
  });
  ctx.log.info(`Stock settings applied for ${ctx.senderName} in ${ctx.room}`);
  await ctx.reply(RESET_MESSAGES.stock(ctx.senderName));
}

/** `.stock`. */
export const stock: Command<NoArgs> = {
  name: ".stock",
  admin: false,
  limited: false,
  responder: "none",
  parse: parseNothing,
  run: applyStock,
};

/** `.reset`. */
export const reset: Command<ResetArgs> = {
  name: ".reset",
  admin: false,
  limited: false,
  responder: "none",
  parse: parseReset,
  async run(ctx) {
    if (ctx.args.stock) return applyStock(ctx);
    const owner = conversationOf(ctx);
    await ctx.withThread(owner, () => {
      ctx.threads.set(ctx.room, owner, [{
        role: "system",
        content: ctx.threads.defaultPrompt(ctx.rooms.get(ctx.room).persona),
      }]);
      return Promise.resolve();
    });
    const text = RESET_MESSAGES.reset(ctx.botName, ctx.senderName);
    ctx.log.info(`${text} in ${ctx.room}`);
    await ctx.reply(text);
  },
};
