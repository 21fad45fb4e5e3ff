/**
 * `.room`: the room's settings (decision 44). Bot admins and the room's
 * moderators change them: `.room model <id>|reset`, `.room persona
 * <text>|reset`, `.room tools on|off|reset`, `.room stream on|off|reset`,
 * and `.room reset` for all of them. A personal model (`.mymodel`) wins over
 * the room's, the room's over the global one.
 *
 * @module
 */
import type { RoomSettings } from "../state/ports.ts";
import { ROOM_SETTING_KEYS } from "../state/room_settings.ts";
import { type Invalid, invalid } from "./args.ts";
import type { Command, Context } from "./context.ts";
import { MODEL_MESSAGES } from "./models.ts";
import { parseToggle } from "./toggle.ts";

/** The power level from which a room member is a moderator. */
export const MODERATOR_LEVEL = 50;

const onOff = (on: boolean) => (on ? "on" : "off");

/** What `.room` replies. */
export const ROOM_MESSAGES = {
  usage: "Usage: .room [model <id>|persona <text>|tools on|off|stream on|off] (or reset)",
  header: "**Room settings**",
  model: (room: string | undefined, global: string) =>
    `- model: ${room ?? `not set (global: ${global})`}`,
  modelGone: (room: string, global: string) =>
    `- model: ${room}, no longer configured (global: ${global} answers)`,
  persona: (room: string | undefined) => `- persona: ${room ?? "not set (the default persona)"}`,
  tools: (room: boolean | undefined, global: boolean) =>
    `- tools: ${room === undefined ? `not set (global: ${onOff(global)})` : onOff(room)}`,
  stream: (room: boolean | undefined) =>
    `- stream: ${room === undefined ? "not set (the bot's default)" : onOff(room)}`,
  footer:
    "A personal model (.mymodel) wins over the room's. Bot admins and room moderators change these.",
  refused: (name: string) =>
    `Sorry ${name}, only bot admins and room moderators (power level ${MODERATOR_LEVEL} or more) can change room settings.`,
  set: (key: keyof RoomSettings, value: string) => `Room ${key} set to ${value}`,
  personaSet:
    "Room persona set: new conversations in this room start with it (.reset starts yours anew)",
  reset: (key: keyof RoomSettings) => `Room ${key} reset`,
  resetAll: "Room settings reset",
  noTools: "No tools are available",
};

/** What `.room` asks for. */
export type RoomArgs =
  | { readonly kind: "show" }
  | { readonly kind: "reset"; readonly key?: keyof RoomSettings }
  | { readonly kind: "set"; readonly key: "model" | "persona"; readonly value: string }
  | { readonly kind: "set"; readonly key: "tools" | "stream"; readonly value: boolean };

/** Reads `.room …`: the setting's name and `reset` in any case; persona text as written. */
export function parseRoom(raw: string): RoomArgs | Invalid {
  const text = raw.trim();
  if (!text) return { kind: "show" };
  const word = text.split(/\s/, 1)[0];
  const key = word.toLowerCase();
  const rest = text.slice(word.length).trim();
  if (key === "reset" && !rest) return { kind: "reset" };
  if (!ROOM_SETTING_KEYS.includes(key as keyof RoomSettings) || !rest) {
    return invalid(ROOM_MESSAGES.usage);
  }
  const setting = key as keyof RoomSettings;
  if (rest.toLowerCase() === "reset") return { kind: "reset", key: setting };
  if (setting === "model" || setting === "persona") {
    return { kind: "set", key: setting, value: rest };
  }
  const action = parseToggle(rest);
  if (action !== "on" && action !== "off") return invalid(ROOM_MESSAGES.usage);
  return { kind: "set", key: setting, value: action === "on" };
}

/** Whether a user may change a room's settings: bot admins and the room's moderators. */
export function mayChangeRoom(who: { isAdmin: boolean; powerLevel: number }): boolean {
  return who.isAdmin || who.powerLevel >= MODERATOR_LEVEL;
}

/** The room's settings, each with what applies when it is not set. */
export function roomReport(
  room: RoomSettings,
  global: { model: string; tools: boolean },
  known: (model: string) => boolean = () => true,
): string {
  return [
    ROOM_MESSAGES.header,
    room.model && !known(room.model)
      ? ROOM_MESSAGES.modelGone(room.model, global.model)
      : ROOM_MESSAGES.model(room.model, global.model),
    ROOM_MESSAGES.persona(room.persona),
    ROOM_MESSAGES.tools(room.tools, global.tools),
    ROOM_MESSAGES.stream(room.stream),
    ROOM_MESSAGES.footer,
  ].join("\n");
}

/** `.room`. */
export const room: Command<RoomArgs> = {
  name: ".room",
  admin: false,
  limited: false,
  responder: "none",
  parse: parseRoom,
  async run(ctx) {
    const { args } = ctx;
    if (args.kind === "show") {
      const global = { model: ctx.settings.get("model"), tools: ctx.settings.get("tools") };
      const known = (model: string) => ctx.catalog.has(model);
      await ctx.reply(roomReport(ctx.rooms.get(ctx.room), global, known));
      return;
    }
    const powerLevel = ctx.isAdmin ? 0 : await ctx.powerLevel(ctx.sender);
    if (!mayChangeRoom({ isAdmin: ctx.isAdmin, powerLevel })) {
      ctx.log.info(
        `${ctx.sender} (power level ${powerLevel}) may not change ${ctx.room}'s settings`,
      );
      await ctx.reply(ROOM_MESSAGES.refused(ctx.senderName));
      return;
    }
    const reply = args.kind === "reset" ? resetRoom(ctx, args.key) : setRoom(ctx, args);
    await ctx.reply(reply);
  },
};

function resetRoom(ctx: Context, key: keyof RoomSettings | undefined): string {
  for (const k of key ? [key] : ROOM_SETTING_KEYS) ctx.rooms.set(ctx.room, k, undefined);
  ctx.log.info(`Room ${key ?? "settings"} of ${ctx.room} reset by ${ctx.sender}`);
  return key ? ROOM_MESSAGES.reset(key) : ROOM_MESSAGES.resetAll;
}

function setRoom(ctx: Context, args: Extract<RoomArgs, { kind: "set" }>): string {
  if (args.key === "model") {
    const model = args.value;
    // A local server runs one model at a time; only an admin may make a room switch it.
    const server = ctx.catalog.localServer(model);
    if (server && !ctx.isAdmin && model !== ctx.settings.get("model")) {
      return MODEL_MESSAGES.localRefused(server);
    }
    if (!ctx.catalog.has(model)) return MODEL_MESSAGES.notFound(model, ctx.catalog.models);
  }
  if (args.key === "tools" && args.value && ctx.tools.size === 0) return ROOM_MESSAGES.noTools;
  ctx.rooms.set(ctx.room, args.key, args.value);
  const shown = typeof args.value === "boolean" ? onOff(args.value) : args.value;
  ctx.log.info(`Room ${args.key} of ${ctx.room} set by ${ctx.sender}`);
  if (args.key === "persona") return ROOM_MESSAGES.personaSet;
  return ROOM_MESSAGES.set(args.key, shown);
}
