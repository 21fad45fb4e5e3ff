/**
 * Admin switches: `.tools`, `.verbose`, `.thinking`, and `.clear`.
 *
 * @module
 */
import type { Command, Context } from "./context.ts";
import { applyToggle, parseToggle } from "./toggle.ts";

const onOff = (value: boolean) => (value ? "ON" : "OFF");

/** `.tools [on|off|toggle|status]`. */
export const tools: Command = {
  name: ".tools",
  admin: true,
  async run(ctx) {
    const arg = ctx.args.trim().toLowerCase();
    const current = ctx.settings.get("tools");
    const state = (on: boolean) => (on ? "enabled" : "disabled");
    if (arg === "" || arg === "status") {
      await ctx.reply(`Tools are currently ${state(current)}`);
      return;
    }
    // Anything that is not a clear on/off flips, as the original did.
    const next = ["on", "enable", "enabled"].includes(arg)
      ? true
      : ["off", "disable", "disabled"].includes(arg)
      ? false
      : !current;
    if (next && ctx.tools.size === 0) {
      await ctx.reply("No tools are available");
      return;
    }
    ctx.settings.set("tools", next);
    ctx.log.info(`Tools ${state(next)} by ${ctx.sender}`);
    await ctx.reply(`Tools are now ${state(next)}`);
  },
};

async function toggle(
  ctx: Context,
  key: "verbose" | "thinking",
  label: string,
  usage: string,
): Promise<void> {
  const action = parseToggle(ctx.args);
  if (action === "invalid") {
    await ctx.reply(usage);
    return;
  }
  const next = applyToggle(action, ctx.settings.get(key));
  if (next === undefined) {
    await ctx.reply(`${label} is **${onOff(ctx.settings.get(key))}**`);
    return;
  }
  ctx.settings.set(key, next);
  ctx.log.info(`${label} set to ${onOff(next)} by ${ctx.sender}`);
  await ctx.reply(`${label} set to **${onOff(next)}**`);
}

/** `.verbose [on|off|toggle]`: leave the brevity clause out of new system prompts. */
export const verbose: Command = {
  name: ".verbose",
  admin: true,
  run: (ctx) => toggle(ctx, "verbose", "Verbose mode", "Usage: .verbose [on|off|toggle]"),
};

/** `.thinking [on|off|toggle]`: the "Thinking…" placeholder. */
export const thinking: Command = {
  name: ".thinking",
  admin: true,
  run: (ctx) => toggle(ctx, "thinking", "Thinking placeholder", "Usage: .thinking [on|off|toggle]"),
};

/** `.clear`: every thread and personal model gone, global model back to default. */
export const clear: Command = {
  name: ".clear",
  admin: true,
  async run(ctx) {
    // An answer in flight would write its exchange into a cleared thread.
    await ctx.withAllThreads(() => {
      ctx.history.clearAll();
      ctx.models.clearAll();
      ctx.settings.set("model", ctx.config.llm.default_model);
      return Promise.resolve();
    });
    ctx.log.info(`Bot reset for everyone by ${ctx.sender}`);
    await ctx.reply("Bot has been reset for everyone");
  },
};
