/**
 * `.mymodel [id | reset]`: your model in this room. `.model [id | reset]`
 * (admin): the global model.
 *
 * @module
 */
import type { LocalServer } from "./catalog.ts";
import type { Command } from "./context.ts";
import { modelFor } from "./converse.ts";

const LOCAL_LABELS: Record<LocalServer, string> = {
  ollama: "an Ollama",
  lmstudio: "an LM Studio",
};

/** What `.mymodel` and `.model` reply. */
export const MODEL_MESSAGES = {
  mine: (current: string, all: readonly string[]) =>
    `**Your current model**: ${current}\n**Available models**: ${all.join(", ")}`,
  global: (current: string, all: readonly string[]) =>
    `**Current model**: ${current}\n**Available models**: ${all.join(", ")}`,
  mineReset: (name: string, global: string) =>
    `Model for ${name} reset to the global model (${global})`,
  mineResetRoom: (name: string, room: string) =>
    `Model for ${name} reset to the room's model (${room})`,
  mineSet: (name: string, model: string) => `Model for ${name} set to ${model}`,
  globalSet: (model: string) => `Model set to **${model}**`,
  notFound: (wanted: string, all: readonly string[]) =>
    `Model '${wanted}' not found. Available: ${all.join(", ")}`,
  localRefused: (server: LocalServer) =>
    `You cannot set ${
      LOCAL_LABELS[server]
    } model unless it matches the current global model. Please ask an admin to change the global model first.`,
};

/** What `.mymodel` / `.model` ask for. */
export type ModelArgs =
  | { readonly kind: "show" }
  | { readonly kind: "reset" }
  | { readonly kind: "set"; readonly model: string };

/** Reads `.mymodel`'s argument: the whole rest as one id; `reset` in any case. */
export function parseMyModel(raw: string): ModelArgs {
  const wanted = raw.trim();
  if (!wanted) return { kind: "show" };
  if (wanted.toLowerCase() === "reset") return { kind: "reset" };
  return { kind: "set", model: wanted };
}

/** Reads `.model`'s argument: the whole rest as one id; `reset` exactly. */
export function parseModel(raw: string): ModelArgs {
  const wanted = raw.trim();
  if (!wanted) return { kind: "show" };
  if (wanted === "reset") return { kind: "reset" };
  return { kind: "set", model: wanted };
}

/** `.mymodel`. */
export const mymodel: Command<ModelArgs> = {
  name: ".mymodel",
  admin: false,
  limited: false,
  responder: "none",
  parse: parseMyModel,
  async run(ctx) {
    const { args, catalog } = ctx;
    if (args.kind === "show") {
      await ctx.reply(MODEL_MESSAGES.mine(modelFor(ctx, ctx.sender), catalog.models));
      return;
    }
    const global = ctx.settings.get("model");
    const who = `${ctx.senderName} (${ctx.sender}) in ${ctx.room}`;
    if (args.kind === "reset") {
      ctx.models.clear(ctx.room, ctx.sender);
      ctx.log.info(`Model for ${who} reset`);
      const now = modelFor(ctx, ctx.sender);
      await ctx.reply(
        now === ctx.rooms.get(ctx.room).model
          ? MODEL_MESSAGES.mineResetRoom(ctx.senderName, now)
          : MODEL_MESSAGES.mineReset(ctx.senderName, global),
      );
      return;
    }
    // A local server runs one model at a time; only the admin may switch it.
    const server = catalog.localServer(args.model);
    if (server && args.model !== global) {
      await ctx.reply(MODEL_MESSAGES.localRefused(server));
      return;
    }
    if (!catalog.has(args.model)) {
      await ctx.reply(MODEL_MESSAGES.notFound(args.model, catalog.models));
      return;
    }
    ctx.models.set(ctx.room, ctx.sender, args.model);
    ctx.log.info(`Model for ${who} set to ${args.model}`);
    await ctx.reply(MODEL_MESSAGES.mineSet(ctx.senderName, args.model));
  },
};

/** `.model`. */
export const model: Command<ModelArgs> = {
  name: ".model",
  admin: true,
  limited: false,
  responder: "none",
  parse: parseModel,
  async run(ctx) {
    const { args } = ctx;
    const sorted = [...ctx.catalog.models].sort();
    if (args.kind === "show") {
      await ctx.reply(MODEL_MESSAGES.global(ctx.settings.get("model"), sorted));
      return;
    }
    const next = args.kind === "reset" ? ctx.catalog.defaultModel : args.model;
    if (!ctx.catalog.has(next)) {
      await ctx.reply(MODEL_MESSAGES.notFound(args.kind === "reset" ? "reset" : next, sorted));
      return;
    }
    ctx.settings.set("model", next);
    ctx.log.info(`Model set to ${next} by ${ctx.sender}`);
    await ctx.reply(MODEL_MESSAGES.globalSet(next));
  },
};
