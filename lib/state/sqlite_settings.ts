/**
 * {@link SettingsStore} in `state.db`: one row per setting, the value as
 * JSON, read once at start.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import type { SettingsStore, SettingValues } from "./ports.ts";
import { StoredSettings } from "./settings.ts";

/** The bot-wide settings in `state.db`. */
export class SqliteSettingsStore extends StoredSettings implements SettingsStore {
  /**
   * Loads stored values over `defaults`. `validModel` rejects a stored model
   * that the config no longer lists (it falls back to the default).
   */
  constructor(
    db: DatabaseSync,
    defaults: SettingValues,
    validModel: (model: string) => boolean = () => true,
  ) {
    const rows = db.prepare("SELECT key, value FROM settings").all() as Array<
      { key: string; value: string }
    >;
    super(rows.map((r) => [r.key, r.value] as const), defaults, validModel, (key, value) => {
      db.prepare(
        `INSERT INTO settings (key, value) VALUES (?, ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
      ).run(key, value);
    });
  }
}
