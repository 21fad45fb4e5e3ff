/**
 * Room settings (decision 44): reading stored values, a store written once
 * over the rows a storage keeps, and the precedence of personal, room and
 * bot-wide values, as plain functions.
 *
 * @module
 */
import type { RoomSettings, RoomSettingsStore } from "./ports.ts";

/** The names of the room settings, in the order `.room` shows them. */
export const ROOM_SETTING_KEYS: readonly (keyof RoomSettings)[] = [
  "model",
  "persona",
  "tools",
  "stream",
];

const VALID: Record<keyof RoomSettings, (v: unknown) => boolean> = {
  model: (v) => typeof v === "string" && v.length > 0,
  persona: (v) => typeof v === "string" && v.length > 0,
  tools: (v) => typeof v === "boolean",
  stream: (v) => typeof v === "boolean",
};

/**
 * A room's settings from stored (name, JSON text) pairs; unknown names,
 * unreadable JSON and values of the wrong type are left out.
 */
export function roomSettingsFrom(stored: Iterable<readonly [string, string]>): RoomSettings {
  const out: Record<string, unknown> = {};
  for (const [key, text] of stored) {
    if (!Object.hasOwn(VALID, key)) continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      continue;
    }
    if (VALID[key as keyof RoomSettings](value)) out[key] = value;
  }
  return out as RoomSettings;
}

/** Where a room settings store keeps its rows: (room, name) → JSON text. */
export interface RoomSettingRows {
  /** The room's rows. */
  read(room: string): Array<readonly [string, string]>;
  /** Writes one row. */
  write(room: string, key: string, value: string): void;
  /** Removes one row. */
  remove(room: string, key: string): void;
  /** Removes every row. */
  clear(): void;
}

/** A {@link RoomSettingsStore} over {@link RoomSettingRows}. */
export class RowRoomSettingsStore implements RoomSettingsStore {
  readonly #rows: RoomSettingRows;

  /** Keeps room settings in `rows`. */
  constructor(rows: RoomSettingRows) {
    this.#rows = rows;
  }

  get(room: string): RoomSettings {
    return roomSettingsFrom(this.#rows.read(room));
  }

  set<K extends keyof RoomSettings>(
    room: string,
    key: K,
    value: RoomSettings[K] | undefined,
  ): void {
    if (value === undefined) this.#rows.remove(room, key);
    else this.#rows.write(room, key, JSON.stringify(value));
  }

  clearAll(): void {
    this.#rows.clear();
  }
}

/** Where a model choice came from. */
export type ModelSource = "personal" | "room" | "global";

/**
 * The model that answers: the personal model, else the room's, else the
 * global one. A personal or room model the config no longer lists is
 * passed over.
 */
export function effectiveModel(choice: {
  personal?: string;
  room?: string;
  global: string;
  known: (model: string) => boolean;
}): { model: string; source: ModelSource } {
  if (choice.personal && choice.known(choice.personal)) {
    return { model: choice.personal, source: "personal" };
  }
  if (choice.room && choice.known(choice.room)) return { model: choice.room, source: "room" };
  return { model: choice.global, source: "global" };
}

/**
 * Tool calling in a room: the room's switch, else the bot-wide one; never
 * when no tool is available.
 */
export function effectiveTools(
  choice: { room?: boolean; global: boolean; available: boolean },
): boolean {
  return choice.available && (choice.room ?? choice.global);
}

/** Streaming in a room: the room's switch, else the bot-wide one. */
export function effectiveStream(choice: { room?: boolean; global: boolean }): boolean {
  return choice.room ?? choice.global;
}
