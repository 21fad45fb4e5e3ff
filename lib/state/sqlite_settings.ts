/**
 * {@link SettingsStore} in `state.db`: one row per setting, the value as
 * JSON, read once at start.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import type { SettingsStore, SettingValues } from "./ports.ts";
import { settingsOver } from "./rules.ts";

/** The bot-wide settings in `state.db`. */
export class SqliteSettingsStore implements SettingsStore {
  readonly #db: DatabaseSync;
  readonly #values: SettingValues;

  /**
   * Loads stored values over `defaults`. `validModel` rejects a stored model
   * that the config no longer lists (it falls back to the default).
   */
  constructor(
    db: DatabaseSync,
    defaults: SettingValues,
    validModel: (model: string) => boolean = () => true,
  ) {
    this.#db = db;
    const rows = db.prepare("SELECT key, value FROM settings").all() as Array<
      { key: string; value: string }
    >;
    const stored = new Map(rows.map((r) => [r.key, JSON.parse(r.value)]));
    this.#values = settingsOver(stored, defaults, validModel);
  }

  get values(): SettingValues {
    return { ...this.#values };
  }

  get<K extends keyof SettingValues>(key: K): SettingValues[K] {
    return this.#values[key];
  }

  set<K extends keyof SettingValues>(key: K, value: SettingValues[K]): void {
    this.#db.prepare(
      `INSERT INTO settings (key, value) VALUES (?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
    ).run(key, JSON.stringify(value));
    this.#values[key] = value;
  }
}
