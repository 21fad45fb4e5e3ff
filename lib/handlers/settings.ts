/**
 * Admin switches: `.tools`, `.verbose`, `.thinking`, and `.clear`.
 *
 * @module
 */
import { type Invalid, invalid, type NoArgs, parseNothing } from "./args.ts";
import type { Command, Context } from "./context.ts";
import { applyToggle, parseToggle, type ToggleAction } from "./toggle.ts";

const onOff = (value: boolean) => (value ? "ON" : "OFF");
const state = (on: boolean) => (on ? "enabled" : "disabled");

/** What the admin switches reply. */
export const SETTINGS_MESSAGES = {
  toolsStatus: (on: boolean) => `Tools are currently ${state(on)}`,
  toolsSet: (on: boolean) => `Tools are now ${state(on)}`,
  noTools: "No tools are available",
  toggleStatus: (label: string, on: boolean) => `${label} is **${onOff(on)}**`,
  toggleSet: (label: string, on: boolean) => `${label} set to **${onOff(on)}**`,
  usage: (command: string) => `Usage: ${command} [on|off|toggle]`,
  cleared: "Bot has been reset for everyone",
};

/** A switch's argument, read: show it, set it, or flip it. */
export interface ToggleArgs {
  /** What to do with the switch. */
  readonly action: Exclude<ToggleAction, "invalid">;
}

/**
 * Reads `.tools [on|off|toggle|status]`: empty or `status` shows, the clear
 * on/off words set, and anything else flips, as the original did.
 */
export function parseTools(raw: string): ToggleArgs {
  const arg = raw.trim().toLowerCase();
  if (arg === "" || arg === "status") return { action: "status" };
  if (["on", "enable", "enabled"].includes(arg)) return { action: "on" };
  if (["off", "disable", "disabled"].includes(arg)) return { action: "off" };
  return { action: "toggle" };
}

/** Reads a `.verbose` / `.thinking` argument (see `parseToggle`); other words get the usage. */
export function parseSwitch(command: string): (raw: string) => ToggleArgs | Invalid {
  return (raw) => {
    const action = parseToggle(raw);
    return action === "invalid" ? invalid(SETTINGS_MESSAGES.usage(command)) : { action };
  };
}

/** `.tools [on|off|toggle|status]`. */
export const tools: Command<ToggleArgs> = {
  name: ".tools",
  admin: true,
  limited: false,
  responder: "none",
  parse: parseTools,
  async run(ctx) {
    const current = ctx.settings.get("tools");
    const next = applyToggle(ctx.args.action, current);
    if (next === undefined) {
      await ctx.reply(SETTINGS_MESSAGES.toolsStatus(current));
      return;
    }
    if (next && ctx.tools.size === 0) {
      await ctx.reply(SETTINGS_MESSAGES.noTools);
      return;
    }
    ctx.settings.set("tools", next);
    ctx.log.info(`Tools ${state(next)} by ${ctx.sender}`);
    await ctx.reply(SETTINGS_MESSAGES.toolsSet(next));
  },
};

async function toggle(
  ctx: Context<ToggleArgs>,
  key: "verbose" | "thinking",
  label: string,
): Promise<void> {
  const next = applyToggle(ctx.args.action, ctx.settings.get(key));
  if (next === undefined) {
    await ctx.reply(SETTINGS_MESSAGES.toggleStatus(label, ctx.settings.get(key)));
    return;
  }
  ctx.settings.set(key, next);
  ctx.log.info(`${label} set to ${onOff(next)} by ${ctx.sender}`);
  await ctx.reply(SETTINGS_MESSAGES.toggleSet(label, next));
}

/** `.verbose [on|off|toggle]`: leave the brevity clause out of new system prompts. */
export const verbose: Command<ToggleArgs> = {
  name: ".verbose",
  admin: true,
  limited: false,
  responder: "none",
  parse: parseSwitch(".verbose"),
  run: (ctx) => toggle(ctx, "verbose", "Verbose mode"),
};

/** `.thinking [on|off|toggle]`: the "Thinking…" placeholder. */
export const thinking: Command<ToggleArgs> = {
  name: ".thinking",
  admin: true,
  limited: false,
  responder: "none",
  parse: parseSwitch(".thinking"),
  run: (ctx) => toggle(ctx, "thinking", "Thinking placeholder"),
};

/**
 * `.clear`: every thread, personal model and room setting gone, global model
 * back to default.
 */
export const clear: Command<NoArgs> = {
  name: ".clear",
  admin: true,
  limited: false,
  responder: "none",
  parse: parseNothing,
  async run(ctx) {
    // An answer in flight would write its exchange into a cleared thread.
    await ctx.withAllThreads(() => {
      ctx.threads.clearAll();
      ctx.models.clearAll();
      ctx.rooms.clearAll();
      ctx.settings.set("model", ctx.catalog.defaultModel);
      return Promise.resolve();
    });
    ctx.log.info(`Bot reset for everyone by ${ctx.sender}`);
    await ctx.reply(SETTINGS_MESSAGES.cleared);
  },
};
