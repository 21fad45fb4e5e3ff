/**
 * `.reset`: your thread back to the default persona (`.reset stock` is
 * `.stock`). `.stock`: your thread with no system prompt at all.
 * Neither touches your personal model.
 *
 * @module
 */
import type { Command } from "./context.ts";

/** `.stock`. */
export const stock: Command = {
  name: ".stock",
  admin: false,
  async run(ctx) {
    await ctx.withThread(ctx.sender, () => {
      ctx.history.set(ctx.room, ctx.sender, []);
      return Promise.resolve();
    });
    ctx.log.info(`Stock settings applied for ${ctx.senderName} in ${ctx.room}`);
    await ctx.reply(`Stock settings applied for ${ctx.senderName}`);
  },
};

/** `.reset`. */
export const reset: Command = {
  name: ".reset",
  admin: false,
  async run(ctx) {
    if (ctx.args.trim().toLowerCase() === "stock") return stock.run(ctx);
    await ctx.withThread(ctx.sender, () => {
      ctx.history.set(ctx.room, ctx.sender, [{
        role: "system",
        content: ctx.history.defaultPrompt(),
      }]);
      return Promise.resolve();
    });
    const text = `${ctx.botName} reset to default for ${ctx.senderName}`;
    ctx.log.info(`${text} in ${ctx.room}`);
    await ctx.reply(text);
  },
};
