/**
 * `.ai <message>` and the mention form `<bot name>: <message>`: talk to the
 * model in your own thread. Without text, the model answers the thread again.
 *
 * @module
 */
import { parseText, type TextArgs } from "./args.ts";
import type { Command } from "./context.ts";
import { converse, modelFor, toolsFor } from "./converse.ts";

/** `.ai`. */
export const ai: Command<TextArgs> = {
  name: ".ai",
  admin: false,
  limited: true,
  responder: "placeholder",
  parse: parseText,
  async run(ctx) {
    await ctx.withThread(ctx.sender, () =>
      converse(ctx, {
        owner: ctx.sender,
        userText: ctx.args.text || undefined,
        model: modelFor(ctx, ctx.sender),
        useTools: toolsFor(ctx),
      }));
  },
};
