/**
 * `.ai <message>` and the mention form `<bot name>: <message>`: talk to the
 * model in your own thread. Without text, the model answers the thread again.
 *
 * @module
 */
import type { Command } from "./context.ts";
import { converse, modelFor } from "./converse.ts";

/** `.ai`. */
export const ai: Command = {
  name: ".ai",
  admin: false,
  usesModel: true,
  async run(ctx) {
    await ctx.withThread(ctx.sender, () =>
      converse(ctx, {
        owner: ctx.sender,
        userText: ctx.args || undefined,
        model: modelFor(ctx, ctx.sender),
        useTools: ctx.settings.get("tools"),
      }));
  },
};
