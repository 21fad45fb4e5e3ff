/**
 * {@link ThreadStore} written once over the few reads and writes a storage
 * supplies ({@link ThreadRows}): the SQLite and the memory thread stores
 * differ only in where the rows are, so they keep threads by the same rules
 * (lib/conversation.ts).
 *
 * @module
 */
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

/**
 * Where a thread store keeps its rows: one per (room, user) or (room, thread
 * root) — `user` is then a key made by `threadKey` — the thread as JSON text.
 */
export interface ThreadRows {
  /** The thread's JSON text, if the user has a thread in the room. */
  read(room: string, user: string): string | undefined;
  /** Writes the thread's JSON text, stamped `updatedAt`. */
  write(room: string, user: string, messages: string, updatedAt: number): void;
  /** Users with a row in the room, the latest `updatedAt` first, then by user id. */
  users(room: string): string[];
  /** Removes every row. */
  clear(): void;
}

/** A {@link ThreadStore} over {@link ThreadRows}. */
export class RowThreadStore implements ThreadStore {
  readonly #rows: ThreadRows;
  readonly #options: ThreadOptions;

  /** Keeps threads in `rows` by `options`. */
  constructor(rows: ThreadRows, options: ThreadOptions) {
    this.#rows = rows;
    this.#options = options;
  }

  defaultPrompt(persona?: string): string {
    return defaultPrompt(this.#options, persona);
  }

  #load(room: string, user: string): Message[] | undefined {
    const text = this.#rows.read(room, user);
    return text === undefined ? undefined : parseThread(text);
  }

  #save(room: string, user: string, messages: readonly Message[]): void {
    this.#rows.write(room, user, JSON.stringify(messages), (this.#options.now ?? Date.now)());
  }

  has(room: string, user: string): boolean {
    return this.#rows.read(room, user) !== undefined;
  }

  get(room: string, user: string): Message[] {
    return this.#load(room, user) ?? newThread(this.#options, this.#options.roomPersona?.(room));
  }

  users(room: string): string[] {
    return this.#rows.users(room);
  }

  append(room: string, user: string, ...messages: Message[]): void {
    this.#save(room, user, appended(this.get(room, user), messages, this.#options.historySize));
  }

  request(
    room: string,
    user: string,
    options: { next?: Message; thread?: Message[] } = {},
  ): Message[] {
    const thread = options.thread ?? this.get(room, user);
    return exchange(thread, options.next, this.#options.historySize, this.#options.contextTokens);
  }

  find(room: string, user: string, id: string): Message | undefined {
    return this.#load(room, user)?.find((m) => m.id === id);
  }

  set(room: string, user: string, messages: readonly Message[]): void {
    this.#save(room, user, trimThread(messages, this.#options.historySize));
  }

  clearAll(): void {
    this.#rows.clear();
  }
}
