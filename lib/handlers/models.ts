/**
 * `.mymodel [id | reset]`: your model in this room. `.model [id | reset]`
 * (admin): the global model.
 *
 * @module
 */
import { allModels } from "../config.ts";
import type { Command } from "./context.ts";
import { modelFor } from "./converse.ts";

const LOCAL_RULES: ReadonlyArray<[provider: string, label: string]> = [
  ["ollama", "an Ollama"],
  ["lmstudio", "an LM Studio"],
];

/** `.mymodel`. */
export const mymodel: Command = {
  name: ".mymodel",
  admin: false,
  async run(ctx) {
    const wanted = ctx.args.trim();
    const all = allModels(ctx.config);
    if (!wanted) {
      await ctx.reply(
        `**Your current model**: ${modelFor(ctx, ctx.sender)}\n**Available models**: ${
          all.join(", ")
        }`,
      );
      return;
    }
    const global = ctx.settings.get("model");
    if (wanted.toLowerCase() === "reset") {
      ctx.models.clear(ctx.room, ctx.sender);
      ctx.log.info(`Model for ${ctx.senderName} (${ctx.sender}) in ${ctx.room} reset`);
      await ctx.reply(`Model for ${ctx.senderName} reset to the global model (${global})`);
      return;
    }
    // A local server runs one model at a time; only the admin may switch it.
    for (const [provider, label] of LOCAL_RULES) {
      if (ctx.config.llm.models[provider]?.includes(wanted) && wanted !== global) {
        await ctx.reply(
          `You cannot set ${label} model unless it matches the current global model. Please ask an admin to change the global model first.`,
        );
        return;
      }
    }
    if (!all.includes(wanted)) {
      await ctx.reply(`Model '${wanted}' not found. Available: ${all.join(", ")}`);
      return;
    }
    ctx.models.set(ctx.room, ctx.sender, wanted);
    ctx.log.info(`Model for ${ctx.senderName} (${ctx.sender}) in ${ctx.room} set to ${wanted}`);
    await ctx.reply(`Model for ${ctx.senderName} set to ${wanted}`);
  },
};

/** `.model`. */
export const model: Command = {
  name: ".model",
  admin: true,
  async run(ctx) {
    const wanted = ctx.args.trim();
    const sorted = allModels(ctx.config).sort();
    if (!wanted) {
      await ctx.reply(
        `**Current model**: ${ctx.settings.get("model")}\n**Available models**: ${
          sorted.join(", ")
        }`,
      );
      return;
    }
    const next = wanted === "reset" ? ctx.config.llm.default_model : wanted;
    if (!sorted.includes(next)) {
      await ctx.reply(`Model '${wanted}' not found. Available: ${sorted.join(", ")}`);
      return;
    }
    ctx.settings.set("model", next);
    ctx.log.info(`Model set to ${next} by ${ctx.sender}`);
    await ctx.reply(`Model set to **${next}**`);
  },
};
