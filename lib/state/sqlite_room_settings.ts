/**
 * {@link RoomSettingsStore} in `state.db`: one row per (room, setting), the
 * value as JSON.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import type { RoomSettingsStore } from "./ports.ts";
import { RowRoomSettingsStore } from "./room_settings.ts";

/** Settings per room in `state.db`. */
export class SqliteRoomSettingsStore extends RowRoomSettingsStore implements RoomSettingsStore {
  /** Keeps room settings in `db` (a migrated `state.db`). */
  constructor(db: DatabaseSync) {
    const read = db.prepare("SELECT key, value FROM room_settings WHERE room = ?");
    const write = db.prepare(
      `INSERT INTO room_settings (room, key, value) VALUES (?, ?, ?)
       ON CONFLICT (room, key) DO UPDATE SET value = excluded.value`,
    );
    const remove = db.prepare("DELETE FROM room_settings WHERE room = ? AND key = ?");
    super({
      read: (room) =>
        (read.all(room) as Array<{ key: string; value: string }>).map((r) =>
          [r.key, r.value] as const
        ),
      write: (room, key, value) => void write.run(room, key, value),
      remove: (room, key) => void remove.run(room, key),
      clear: () => db.exec("DELETE FROM room_settings"),
    });
  }
}
