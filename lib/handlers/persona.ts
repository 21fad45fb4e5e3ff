/**
 * `.persona <text>`: start a new thread with a persona, in which the model
 * introduces itself. `.custom <prompt>`: the same with a verbatim system prompt.
 * Both use the sender's personal model and never tools (decision 5).
 *
 * @module
 */
import { type Invalid, invalid, parseText, type TextArgs } from "./args.ts";
import type { Command, Context } from "./context.ts";
import { conversationOf, converse, modelFor } from "./converse.ts";

/** What the user "says" to make the model introduce itself in the new thread. */
const INTRODUCE = "introduce yourself";

/**
 * The new thread is stored only with its introduction: when the model fails,
 * the old thread stays and the user can send the command again (decision 30).
 */
function restart(ctx: Context, prompt: string): Promise<void> {
  const owner = conversationOf(ctx);
  return ctx.withThread(owner, async () => {
    const who = `${ctx.senderName} (${ctx.sender})`;
    ctx.log.debug(`System prompt for ${who}: '${prompt}'`);
    try {
      await converse(ctx, {
        owner,
        userText: INTRODUCE,
        model: modelFor(ctx, owner),
        useTools: false,
        thread: [{ role: "system", content: prompt }],
      });
    } catch (error) {
      if (!ctx.signal.aborted) {
        ctx.log.info(`System prompt for ${who} not set: the introduction failed`);
      }
      throw error;
    }
    ctx.log.info(`System prompt for ${who} set`);
  });
}

/** `.persona`: an empty persona is the default one (the room's, when set). */
export const persona: Command<TextArgs> = {
  name: ".persona",
  admin: false,
  limited: true,
  responder: "placeholder",
  parse: parseText,
  async run(ctx) {
    await restart(ctx, ctx.threads.defaultPrompt(ctx.args.text || ctx.rooms.get(ctx.room).persona));
  },
};

/** Reads `.custom`'s prompt; without one the command does nothing. */
export function parseCustom(raw: string): TextArgs | Invalid {
  const prompt = parseText(raw);
  return prompt.text ? prompt : invalid();
}

/** `.custom`. */
export const custom: Command<TextArgs> = {
  name: ".custom",
  admin: false,
  limited: true,
  responder: "placeholder",
  parse: parseCustom,
  async run(ctx) {
    await restart(ctx, ctx.args.text);
  },
};
