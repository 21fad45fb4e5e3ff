/**
 * Conversation state: threads per (room, user), personal models and the
 * bot-wide settings, all kept in `state.db` so they survive restarts.
 * Every method writes before it returns, so a reply is only sent after the
 * exchange it reports is durable.
 *
 * @module
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";

/** One stored message. `id` makes appends idempotent (the triggering event id). */
export interface Message {
  role: "system" | "user" | "assistant";
  content: string;
  id?: string;
}

/**
 * The system prompt: `prefix + persona + suffix + extra`, where the extra
 * (brevity) clause is left out while verbose mode is on. Plain concatenation:
 * the configured strings carry their own spacing.
 */
export function systemPrompt(prompt: readonly string[], persona: string, verbose: boolean): string {
  const [prefix = "you are ", suffix = ".", extra = ""] = prompt;
  return prefix + persona + suffix + (verbose ? "" : extra);
}

/**
 * Trims a thread to `size` messages by dropping the oldest non-system
 * message, keeping a leading system message. Returns a new array.
 */
export function trimThread(messages: readonly Message[], size: number): Message[] {
  const out = [...messages];
  const hasSystem = out[0]?.role === "system";
  while (out.length > size) {
    if (hasSystem) {
      if (out.length <= 1) break;
      out.splice(1, 1);
    } else out.shift();
  }
  return out;
}

/** Options for {@link History}. */
export interface HistoryOptions {
  prompt: readonly string[];
  personality: string;
  historySize: number;
  /** Current verbose mode, read when a system prompt is created. */
  verbose: () => boolean;
  now?: () => number;
}

/** Threads per (room, user) in `state.db`. */
export class History {
  readonly #db: DatabaseSync;
  readonly #options: HistoryOptions;
  readonly #get: StatementSync;
  readonly #put: StatementSync;
  readonly #users: StatementSync;

  constructor(db: DatabaseSync, options: HistoryOptions) {
    this.#db = db;
    this.#options = options;
    this.#get = db.prepare("SELECT messages FROM threads WHERE room = ? AND user = ?");
    this.#put = db.prepare(
      `INSERT INTO threads (room, user, messages, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (room, user) DO UPDATE SET messages = excluded.messages, updated_at = excluded.updated_at`,
    );
    this.#users = db.prepare("SELECT user FROM threads WHERE room = ? ORDER BY updated_at DESC");
  }

  /** The default system prompt for a new thread, for the current verbose mode. */
  defaultPrompt(persona?: string): string {
    const o = this.#options;
    return systemPrompt(o.prompt, persona || o.personality, o.verbose());
  }

  #load(room: string, user: string): Message[] | undefined {
    const row = this.#get.get(room, user) as { messages: string } | undefined;
    if (!row) return undefined;
    const parsed = JSON.parse(row.messages);
    return Array.isArray(parsed) ? parsed as Message[] : [];
  }

  #save(room: string, user: string, messages: readonly Message[]): void {
    this.#put.run(room, user, JSON.stringify(messages), (this.#options.now ?? Date.now)());
  }

  /** True when the user has a stored thread in the room. */
  has(room: string, user: string): boolean {
    return this.#get.get(room, user) !== undefined;
  }

  /** A copy of the thread; a new thread starts with the default system prompt. */
  get(room: string, user: string): Message[] {
    return this.#load(room, user) ?? [{ role: "system", content: this.defaultPrompt() }];
  }

  /** Users with a thread in the room, most recently active first. */
  users(room: string): string[] {
    return (this.#users.all(room) as Array<{ user: string }>).map((r) => r.user);
  }

  /**
   * Appends a message and trims to `history_size`. When the message has an
   * `id` already present in the thread, nothing changes and `false` is
   * returned (a re-handled event after a crash).
   */
  append(room: string, user: string, message: Message): boolean {
    const thread = this.get(room, user);
    if (message.id && thread.some((m) => m.id === message.id)) return false;
    thread.push(message);
    this.#save(room, user, trimThread(thread, this.#options.historySize));
    return true;
  }

  /** The stored message with this id, if any (to resend an answer after a crash). */
  find(room: string, user: string, id: string): Message | undefined {
    return this.#load(room, user)?.find((m) => m.id === id);
  }

  /** Replaces the whole thread. */
  set(room: string, user: string, messages: readonly Message[]): void {
    this.#save(room, user, trimThread(messages, this.#options.historySize));
  }

  /** Removes every thread in every room. */
  clearAll(): void {
    this.#db.exec("DELETE FROM threads");
  }
}

/** Per-user, per-room model choices (`.mymodel`). */
export class PersonalModels {
  readonly #db: DatabaseSync;
  readonly #get: StatementSync;
  readonly #put: StatementSync;
  readonly #del: StatementSync;

  constructor(db: DatabaseSync) {
    this.#db = db;
    this.#get = db.prepare("SELECT model FROM personal_models WHERE room = ? AND user = ?");
    this.#put = db.prepare(
      `INSERT INTO personal_models (room, user, model) VALUES (?, ?, ?)
       ON CONFLICT (room, user) DO UPDATE SET model = excluded.model`,
    );
    this.#del = db.prepare("DELETE FROM personal_models WHERE room = ? AND user = ?");
  }

  /** The user's model in the room, if set. */
  get(room: string, user: string): string | undefined {
    return (this.#get.get(room, user) as { model: string } | undefined)?.model;
  }

  /** Sets the user's model in the room. */
  set(room: string, user: string, model: string): void {
    this.#put.run(room, user, model);
  }

  /** Clears the user's model in the room; true when one was set. */
  clear(room: string, user: string): boolean {
    return Number(this.#del.run(room, user).changes) > 0;
  }

  /** Clears every personal model (`.clear`). */
  clearAll(): void {
    this.#db.exec("DELETE FROM personal_models");
  }
}

/** Bot-wide settings that admins change at run time. */
export interface SettingValues {
  model: string;
  tools: boolean;
  verbose: boolean;
  thinking: boolean;
}

/**
 * Settings backed by `state.db`. Values set by admin commands win over the
 * config's start values on the next start.
 */
export class Settings {
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
    const stored = new Map(
      (db.prepare("SELECT key, value FROM settings").all() as Array<{ key: string; value: string }>)
        .map((r) => [r.key, JSON.parse(r.value)]),
    );
    const pick = <K extends keyof SettingValues>(key: K, ok: (v: unknown) => boolean) =>
      stored.has(key) && ok(stored.get(key)) ? stored.get(key) as SettingValues[K] : defaults[key];
    this.#values = {
      model: pick("model", (v) => typeof v === "string" && validModel(v)),
      tools: pick("tools", (v) => typeof v === "boolean"),
      verbose: pick("verbose", (v) => typeof v === "boolean"),
      thinking: pick("thinking", (v) => typeof v === "boolean"),
    };
  }

  /** The current values (a copy). */
  get values(): SettingValues {
    return { ...this.#values };
  }

  /** Reads one setting. */
  get<K extends keyof SettingValues>(key: K): SettingValues[K] {
    return this.#values[key];
  }

  /** Changes one setting and stores it. */
  set<K extends keyof SettingValues>(key: K, value: SettingValues[K]): void {
    this.#db.prepare(
      `INSERT INTO settings (key, value) VALUES (?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
    ).run(key, JSON.stringify(value));
    this.#values[key] = value;
  }
}
