/**
 * The state ports in memory, for fast tests and for embedding the core
 * without a disk (in the manner of grammY's `MemorySessionStorage`). They
 * behave as the SQLite implementations do — the same contract tests
 * (`tests/state/`) run against both — including the copies: what is stored
 * is JSON text, so a caller's later changes never reach it and what comes
 * back is what `state.db` would give back.
 *
 * Stores built on one {@link MemoryTables} share their data, as stores on
 * one `state.db` do: a new store on the same tables is a reopened store.
 *
 * @module
 */
import { type ThreadOptions, threadRootOf } from "../conversation.ts";
import type {
  InboxEntry,
  InboxStore,
  PersonalModelStore,
  RoomSettingsStore,
  SettingsStore,
  SettingValues,
  ThreadStore,
  TokenCount,
  UsageQuery,
  UsageRow,
  UsageStore,
} from "./ports.ts";
import { RowRoomSettingsStore } from "./room_settings.ts";
import { HANDLED_KEPT_MS, oldestUsageDay, replayOrder, utcDay } from "./rules.ts";
import { StoredSettings } from "./settings.ts";
import { RowThreadStore, type ThreadRows } from "./threads.ts";

/** A stored thread in {@link MemoryTables}. */
export interface ThreadRow {
  /** The room. */
  room: string;
  /** The user whose thread it is. */
  user: string;
  /** The messages as JSON text. */
  messages: string;
  /** When it was last written (orders a room's users by activity). */
  updatedAt: number;
}

/** A waiting event in {@link MemoryTables}: an {@link InboxEntry} with the event as JSON text. */
export type InboxRow = Omit<InboxEntry, "event"> & { event: string };

/** The tables behind the memory stores, the counterpart of `state.db`'s. */
export class MemoryTables {
  /** Threads by room and user. */
  readonly threads: Map<string, ThreadRow> = new Map();
  /** Personal models by room and user. */
  readonly personalModels: Map<string, string> = new Map();
  /** Settings as JSON text, by name. */
  readonly settings: Map<string, string> = new Map();
  /** Tokens by user, UTC day and model. */
  readonly usage: Map<string, UsageRow & { day: string }> = new Map();
  /** Room settings as JSON text, by room and name. */
  readonly roomSettings: Map<string, { room: string; key: string; value: string }> = new Map();
  /** Waiting events by id. */
  readonly inbox: Map<string, InboxRow> = new Map();
  /** When each handled event was marked, by id. */
  readonly handledEvents: Map<string, number> = new Map();
  /** When each answered verification request was marked, by transaction id. */
  readonly verifications: Map<string, number> = new Map();
}

/** The key of a row with a composite primary key. */
function key(...parts: string[]): string {
  return JSON.stringify(parts);
}

/** Orders strings as SQLite's default (binary) collation does for ASCII. */
function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** {@link ThreadStore} in memory. */
export class MemoryThreadStore extends RowThreadStore implements ThreadStore {
  /** Keeps threads in `tables` (new, empty tables by default). */
  constructor(options: ThreadOptions, tables: MemoryTables = new MemoryTables()) {
    super(memoryRows(tables.threads), options);
  }
}

function memoryRows(rows: Map<string, ThreadRow>): ThreadRows {
  return {
    read: (room, user) => rows.get(key(room, user))?.messages,
    write: (room, user, messages, updatedAt) =>
      void rows.set(key(room, user), { room, user, messages, updatedAt }),
    users: (room) =>
      [...rows.values()]
        .filter((r) => r.room === room && threadRootOf(r.user) === undefined)
        .sort((a, b) => b.updatedAt - a.updatedAt || byText(a.user, b.user))
        .map((r) => r.user),
    clear: () => rows.clear(),
  };
}

/** {@link PersonalModelStore} in memory. */
export class MemoryPersonalModelStore implements PersonalModelStore {
  readonly #rows: Map<string, string>;

  /** Keeps personal models in `tables` (new, empty tables by default). */
  constructor(tables: MemoryTables = new MemoryTables()) {
    this.#rows = tables.personalModels;
  }

  get(room: string, user: string): string | undefined {
    return this.#rows.get(key(room, user));
  }

  set(room: string, user: string, model: string): void {
    this.#rows.set(key(room, user), model);
  }

  clear(room: string, user: string): boolean {
    return this.#rows.delete(key(room, user));
  }

  clearAll(): void {
    this.#rows.clear();
  }
}

/** {@link SettingsStore} in memory. */
export class MemorySettingsStore extends StoredSettings implements SettingsStore {
  /**
   * Loads the values in `tables` over `defaults`. `validModel` rejects a
   * stored model that the config no longer lists (it falls back to the
   * default).
   */
  constructor(
    defaults: SettingValues,
    validModel: (model: string) => boolean = () => true,
    tables: MemoryTables = new MemoryTables(),
  ) {
    super(tables.settings, defaults, validModel, (key, value) => tables.settings.set(key, value));
  }
}

/** {@link UsageStore} in memory. */
export class MemoryUsageStore implements UsageStore {
  readonly #rows: Map<string, UsageRow & { day: string }>;

  /** Keeps usage in `tables` (new, empty tables by default). */
  constructor(tables: MemoryTables = new MemoryTables()) {
    this.#rows = tables.usage;
  }

  add(user: string, model: string, tokens: TokenCount, now: number = Date.now()): void {
    const input = Math.max(0, Math.round(tokens.input));
    const output = Math.max(0, Math.round(tokens.output));
    if (input === 0 && output === 0) return;
    const day = utcDay(now);
    const k = key(user, day, model);
    const row = this.#rows.get(k) ?? { user, model, day, input: 0, output: 0 };
    this.#rows.set(k, { ...row, input: row.input + input, output: row.output + output });
    const oldest = oldestUsageDay(now);
    for (const [k, row] of this.#rows) if (row.day < oldest) this.#rows.delete(k);
  }

  sum(query: UsageQuery): UsageRow[] {
    const sums = new Map<string, UsageRow>();
    for (const row of this.#rows.values()) {
      if (row.day < query.from || row.day > query.to) continue;
      if (query.user !== undefined && row.user !== query.user) continue;
      const k = key(row.user, row.model);
      const sum = sums.get(k) ?? { user: row.user, model: row.model, input: 0, output: 0 };
      sums.set(k, { ...sum, input: sum.input + row.input, output: sum.output + row.output });
    }
    return [...sums.values()].sort((a, b) => byText(a.user, b.user) || byText(a.model, b.model));
  }
}

/** {@link RoomSettingsStore} in memory. */
export class MemoryRoomSettingsStore extends RowRoomSettingsStore implements RoomSettingsStore {
  /** Keeps room settings in `tables` (new, empty tables by default). */
  constructor(tables: MemoryTables = new MemoryTables()) {
    const rows = tables.roomSettings;
    super({
      read: (room) =>
        [...rows.values()].filter((r) => r.room === room).map((r) => [r.key, r.value] as const),
      write: (room, k, value) => void rows.set(key(room, k), { room, key: k, value }),
      remove: (room, k) => void rows.delete(key(room, k)),
      clear: () => rows.clear(),
    });
  }
}

/** {@link InboxStore} in memory. */
export class MemoryInboxStore implements InboxStore {
  readonly #tables: MemoryTables;

  /** Keeps the inbox in `tables` (new, empty tables by default). */
  constructor(tables: MemoryTables = new MemoryTables()) {
    this.#tables = tables;
  }

  seen(eventId: string): boolean {
    return this.#tables.inbox.has(eventId) || this.handled(eventId);
  }

  handled(eventId: string): boolean {
    return this.#tables.handledEvents.has(eventId);
  }

  add(eventId: string, room: string, event: Record<string, unknown>, now = Date.now()): boolean {
    if (this.seen(eventId)) return false;
    this.#tables.inbox.set(eventId, {
      eventId,
      room,
      event: JSON.stringify(event),
      receivedAt: now,
    });
    return true;
  }

  pending(): InboxEntry[] {
    const rows = [...this.#tables.inbox.values()]
      .sort((a, b) => a.receivedAt - b.receivedAt || byText(a.eventId, b.eventId));
    return replayOrder(rows.map((r) => ({ ...r, event: JSON.parse(r.event) })));
  }

  done(eventId: string, _room: string, now = Date.now()): void {
    this.#tables.inbox.delete(eventId);
    this.#tables.handledEvents.set(eventId, now);
  }

  prune(maxAgeMs = HANDLED_KEPT_MS, now = Date.now()): void {
    for (const marks of [this.#tables.handledEvents, this.#tables.verifications]) {
      for (const [id, at] of marks) if (at < now - maxAgeMs) marks.delete(id);
    }
  }

  verificationSeen(txnId: string): boolean {
    return this.#tables.verifications.has(txnId);
  }

  markVerification(txnId: string, now = Date.now()): void {
    if (!this.#tables.verifications.has(txnId)) this.#tables.verifications.set(txnId, now);
  }
}
