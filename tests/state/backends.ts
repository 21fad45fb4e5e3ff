/**
 * The two implementations of the state ports behind one interface, so each
 * contract test runs against both: SQLite on a real store in a temporary
 * directory, and memory.
 *
 * @module
 */
import type { ThreadOptions } from "../../lib/conversation.ts";
import {
  MemoryInboxStore,
  MemoryPersonalModelStore,
  MemoryRoomSettingsStore,
  MemorySettingsStore,
  MemoryTables,
  MemoryThreadStore,
  MemoryUsageStore,
} from "../../lib/state/memory.ts";
import type {
  InboxStore,
  PersonalModelStore,
  RoomSettingsStore,
  SettingsStore,
  SettingValues,
  ThreadStore,
  UsageStore,
} from "../../lib/state/ports.ts";
import { SqliteInboxStore } from "../../lib/state/sqlite_inbox.ts";
import { SqlitePersonalModelStore } from "../../lib/state/sqlite_models.ts";
import { SqliteRoomSettingsStore } from "../../lib/state/sqlite_room_settings.ts";
import { SqliteSettingsStore } from "../../lib/state/sqlite_settings.ts";
import { SqliteThreadStore } from "../../lib/state/sqlite_threads.ts";
import { SqliteUsageStore } from "../../lib/state/sqlite_usage.ts";
import { Store } from "../../lib/store.ts";

/** Stores on one place of state; stores made after {@link reopen} see what was written before. */
export interface Backend extends Disposable {
  threads(options: ThreadOptions): ThreadStore;
  models(): PersonalModelStore;
  settings(defaults: SettingValues, validModel?: (model: string) => boolean): SettingsStore;
  usage(): UsageStore;
  rooms(): RoomSettingsStore;
  inbox(): InboxStore;
  /** Closes and opens the state again (a restart); stores made before must not be used. */
  reopen(): Backend;
  /** Writes a setting as stored (JSON text) past the store, as an older version might have. */
  storeSetting(key: string, json: string): void;
  /** Writes a room setting as stored (JSON text) past the store (a hand edit, an older version). */
  storeRoomSetting(room: string, key: string, json: string): void;
}

/** A way to open a {@link Backend}. */
export interface BackendKind {
  name: "sqlite" | "memory";
  open(): Backend;
}

/** SQLite on a store in a temporary directory, removed on dispose. */
export const SQLITE: BackendKind = {
  name: "sqlite",
  open() {
    const dir = Deno.makeTempDirSync({ prefix: "infinigpt-state-" });
    let store = Store.open(dir);
    return {
      threads: (options) => new SqliteThreadStore(store.db, options),
      models: () => new SqlitePersonalModelStore(store.db),
      settings: (defaults, validModel) => new SqliteSettingsStore(store.db, defaults, validModel),
      usage: () => new SqliteUsageStore(store.db),
      rooms: () => new SqliteRoomSettingsStore(store.db),
      inbox: () => new SqliteInboxStore(store.db),
      reopen() {
        store.close();
        store = Store.open(dir);
        return this;
      },
      storeSetting(key, json) {
        store.db.prepare("INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)").run(
          key,
          json,
        );
      },
      storeRoomSetting(room, key, json) {
        store.db.prepare("INSERT OR REPLACE INTO room_settings (room, key, value) VALUES (?, ?, ?)")
          .run(room, key, json);
      },
      [Symbol.dispose]() {
        store.close();
        Deno.removeSync(dir, { recursive: true });
      },
    };
  },
};

/** Memory: one set of tables shared by every store made. */
export const MEMORY: BackendKind = {
  name: "memory",
  open() {
    const tables = new MemoryTables();
    return {
      threads: (options) => new MemoryThreadStore(options, tables),
      models: () => new MemoryPersonalModelStore(tables),
      settings: (defaults, validModel) => new MemorySettingsStore(defaults, validModel, tables),
      usage: () => new MemoryUsageStore(tables),
      rooms: () => new MemoryRoomSettingsStore(tables),
      inbox: () => new MemoryInboxStore(tables),
      reopen() {
        return this;
      },
      storeSetting(key, json) {
        tables.settings.set(key, json);
      },
      storeRoomSetting(room, key, json) {
        tables.roomSettings.set(JSON.stringify([room, key]), { room, key, value: json });
      },
      [Symbol.dispose]() {},
    };
  },
};

/** Both implementations. */
export const BACKENDS: readonly BackendKind[] = [SQLITE, MEMORY];

/**
 * Defines one contract test per implementation, named
 * `<port> (<implementation>): <behaviour>`.
 */
export function contract(port: string, name: string, fn: (backend: Backend) => void): void {
  for (const kind of BACKENDS) {
    Deno.test(`${port} (${kind.name}): ${name}`, () => {
      using backend = kind.open();
      fn(backend);
    });
  }
}
