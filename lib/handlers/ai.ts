/**
 * `.ai <message>` and the mention form `<bot name>: <message>` (and every
 * way of talking without a prefix, decision 37): talk to the model in your
 * own conversation, or in a Matrix thread in the thread's shared one, where
 * each message reaches the model as `<display name>: <text>` (decision 38).
 * Without text, the model answers the conversation again.
 *
 * @module
 */
import { parseText, type TextArgs } from "./args.ts";
import type { Command } from "./context.ts";
import { conversationOf, converse, modelFor, startThread, toolsFor } from "./converse.ts";

/** `.ai`. */
export const ai: Command<TextArgs> = {
  name: ".ai",
  admin: false,
  limited: true,
  responder: "placeholder",
  parse: parseText,
  async run(ctx) {
    const owner = conversationOf(ctx);
    const text = ctx.args.text;
    await ctx.withThread(owner, () => {
      const thread = startThread(ctx, owner);
      return converse(ctx, {
        owner,
        userText: !text ? undefined : owner === ctx.sender ? text : `${ctx.senderName}: ${text}`,
        model: modelFor(ctx, owner),
        useTools: toolsFor(ctx),
        thread,
      });
    });
  },
};
