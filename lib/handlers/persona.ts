/**
 * `.persona <text>`: start a new thread with a persona, in which the model
 * introduces itself. `.custom <prompt>`: the same with a verbatim system prompt.
 * Both use the sender's personal model and never tools (decision 5).
 *
 * @module
 */
import type { Command, Context } from "./context.ts";
import { converse, modelFor } from "./converse.ts";

const INTRODUCE = "introduce yourself";

/**
 * The new thread is stored only with its introduction: when the model fails,
 * the old thread stays and the user can send the command again (decision 30).
 */
function restart(ctx: Context, prompt: string): Promise<void> {
  return ctx.withThread(ctx.sender, async () => {
    ctx.log.debug(`System prompt for ${ctx.senderName} (${ctx.sender}): '${prompt}'`);
    const answered = await converse(ctx, {
      owner: ctx.sender,
      userText: INTRODUCE,
      model: modelFor(ctx, ctx.sender),
      useTools: false,
      thread: [{ role: "system", content: prompt }],
    });
    ctx.log.info(
      answered
        ? `System prompt for ${ctx.senderName} (${ctx.sender}) set`
        : `System prompt for ${ctx.senderName} (${ctx.sender}) not set: the introduction failed`,
    );
  });
}

/** `.persona`. */
export const persona: Command = {
  name: ".persona",
  admin: false,
  usesModel: true,
  async run(ctx) {
    await restart(ctx, ctx.history.defaultPrompt(ctx.args.trim()));
  },
};

/** `.custom`. */
export const custom: Command = {
  name: ".custom",
  admin: false,
  usesModel: true,
  async run(ctx) {
    const prompt = ctx.args.trim();
    if (!prompt) return;
    await restart(ctx, prompt);
  },
};
