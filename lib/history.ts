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
 * Trims a thread to `size` messages by dropping whole exchanges (a user
 * message and what answers it), oldest first, keeping a leading system
 * message: the first message after the system prompt stays a user message.
 * Messages before the first user message (left by older versions, which
 * trimmed one message at a time) go first. The newest exchange is never
 * dropped, so a thread may exceed `size` by the rest of that exchange.
 * Returns a new array.
 */
export function trimThread(messages: readonly Message[], size: number): Message[] {
  const out = [...messages];
  const start = out[0]?.role === "system" ? 1 : 0;
  while (out.length > size) {
    let end = start + 1;
    while (end < out.length && out[end].role !== "user") end++;
    if (end >= out.length) break;
    out.splice(start, end - start);
  }
  return out;
}

/**
 * The thread as a provider may see it (decision 30): after the system
 * prompt, user and assistant alternate, starting with a user message.
 * - A user message followed by another one was never answered (a failure
 *   stored by an older version): it is dropped, never glued to the next.
 * - Assistant messages before the first user message are dropped.
 * - Consecutive assistant messages (an empty `.ai` answers the thread
 *   again) are joined: the user saw both, so the model sees both.
 * Ids are kept; the input is not changed.
 */
export function wellFormed(messages: readonly Message[]): Message[] {
  const out: Message[] = [];
  for (const m of messages) {
    const last = out.at(-1);
    if (m.role === "user" && last?.role === "user") out.pop();
    if (m.role === "assistant" && last?.role !== "user") {
      if (last?.role === "assistant") last.content += `\n\n${m.content}`;
      continue;
    }
    out.push({ ...m });
  }
  return out;
}

/**
 * The thread before the message with id `id` (a re-handled event whose
 * message an older version stored before it failed or crashed), or the
 * whole thread when no message has that id.
 */
export function before(thread: readonly Message[], id: string | undefined): Message[] {
  const at = id ? thread.findIndex((m) => m.id === id) : -1;
  return at === -1 ? [...thread] : thread.slice(0, at);
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
   * Appends messages in one write and trims to `history_size`. A stored
   * message that has the id of a new one is an earlier copy (an older
   * version stored a user message before its answer failed) and is dropped.
   */
  append(room: string, user: string, ...messages: Message[]): void {
    const ids = new Set(messages.map((m) => m.id).filter(Boolean));
    const thread = this.get(room, user).filter((m) => !m.id || !ids.has(m.id));
    thread.push(...messages);
    this.#save(room, user, trimThread(thread, this.#options.historySize));
  }

  /**
   * The messages to send for an exchange, storing nothing (decision 30): the
   * stored thread (or `thread`) before any earlier copy of `next`, with `next`
   * after it, well-formed and trimmed to `history_size`.
   */
  request(
    room: string,
    user: string,
    options: { next?: Message; thread?: Message[] } = {},
  ): Message[] {
    const { next } = options;
    const thread = before(options.thread ?? this.get(room, user), next?.id);
    return trimThread(wellFormed(next ? [...thread, next] : thread), this.#options.historySize);
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
