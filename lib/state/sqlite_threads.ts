/**
 * {@link ThreadStore} in `state.db`: one row per (room, user), the thread as
 * JSON, kept by the rules of lib/conversation.ts.
 *
 * @module
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import {
  appended,
  defaultPrompt,
  exchange,
  type Message,
  newThread,
  parseThread,
  type ThreadOptions,
  trimThread,
} from "../conversation.ts";
import type { ThreadStore } from "./ports.ts";

/** Threads per (room, user) in `state.db`. */
export class SqliteThreadStore implements ThreadStore {
  readonly #db: DatabaseSync;
  readonly #options: ThreadOptions;
  readonly #get: StatementSync;
  readonly #put: StatementSync;
  readonly #users: StatementSync;

  /** Keeps threads in `db` (a migrated `state.db`). */
  constructor(db: DatabaseSync, options: ThreadOptions) {
    this.#db = db;
    this.#options = options;
    this.#get = db.prepare("SELECT messages FROM threads WHERE room = ? AND user = ?");
    this.#put = db.prepare(
      `INSERT INTO threads (room, user, messages, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (room, user) DO UPDATE SET messages = excluded.messages, updated_at = excluded.updated_at`,
    );
    // Users active at the same moment come in id order (what SQLite did
    // before the order was spelled out, and what the memory store does).
    this.#users = db.prepare(
      "SELECT user FROM threads WHERE room = ? ORDER BY updated_at DESC, user",
    );
  }

  defaultPrompt(persona?: string): string {
    return defaultPrompt(this.#options, persona);
  }

  #load(room: string, user: string): Message[] | undefined {
    const row = this.#get.get(room, user) as { messages: string } | undefined;
    return row ? parseThread(row.messages) : undefined;
  }

  #save(room: string, user: string, messages: readonly Message[]): void {
    this.#put.run(room, user, JSON.stringify(messages), (this.#options.now ?? Date.now)());
  }

  has(room: string, user: string): boolean {
    return this.#get.get(room, user) !== undefined;
  }

  get(room: string, user: string): Message[] {
    return this.#load(room, user) ?? newThread(this.#options);
  }

  users(room: string): string[] {
    return (this.#users.all(room) as Array<{ user: string }>).map((r) => r.user);
  }

  append(room: string, user: string, ...messages: Message[]): void {
    const thread = appended(this.get(room, user), messages, this.#options.historySize);
    this.#save(room, user, thread);
  }

  request(
    room: string,
    user: string,
    options: { next?: Message; thread?: Message[] } = {},
  ): Message[] {
    const thread = options.thread ?? this.get(room, user);
    return exchange(thread, options.next, this.#options.historySize);
  }

  find(room: string, user: string, id: string): Message | undefined {
    return this.#load(room, user)?.find((m) => m.id === id);
  }

  set(room: string, user: string, messages: readonly Message[]): void {
    this.#save(room, user, trimThread(messages, this.#options.historySize));
  }

  clearAll(): void {
    this.#db.exec("DELETE FROM threads");
  }
}
