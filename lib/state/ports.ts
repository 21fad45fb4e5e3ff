/**
 * The state the core depends on, as interfaces (ports): conversation
 * threads, personal models, bot-wide and per-room settings, token usage and
 * the inbox of incoming events. `sqlite_*.ts` keeps them in `state.db` (production),
 * `memory.ts` in memory (fast tests); both behave the same, which the shared
 * contract tests in `tests/state/` prove.
 *
 * Every write is done when the method returns: a reply is only sent after
 * the state it reports is stored.
 *
 * @module
 */
import type { Message } from "../conversation.ts";

/**
 * Threads per (room, user), and per (room, thread root) for Matrix threads
 * (decision 38): wherever a method takes `user`, a key made by `threadKey`
 * names a thread's shared conversation instead.
 */
export interface ThreadStore {
  /** The default system prompt for a new thread, for the current verbose mode. */
  defaultPrompt(persona?: string): string;
  /** True when the user has a stored thread in the room. */
  has(room: string, user: string): boolean;
  /** A copy of the thread; a new thread starts with the default system prompt. */
  get(room: string, user: string): Message[];
  /** Users with a thread in the room, most recently active first (no thread keys). */
  users(room: string): string[];
  /**
   * Appends messages in one write and trims to `history_size`. A stored
   * message that has the id of a new one is an earlier copy (an older
   * version stored a user message before its answer failed) and is dropped.
   */
  append(room: string, user: string, ...messages: Message[]): void;
  /**
   * The messages to send for an exchange, storing nothing (decision 30): the
   * stored thread (or `thread`) before any earlier copy of `next`, with `next`
   * after it, well-formed and trimmed to `history_size` and `context_tokens`
   * (throws `TooLongError` when `next` alone is over `context_tokens`).
   */
  request(room: string, user: string, options?: { next?: Message; thread?: Message[] }): Message[];
  /** The stored message with this id, if any (to resend an answer after a crash). */
  find(room: string, user: string, id: string): Message | undefined;
  /** Replaces the whole thread. */
  set(room: string, user: string, messages: readonly Message[]): void;
  /** Removes every thread in every room. */
  clearAll(): void;
}

/** Per-user, per-room model choices (`.mymodel`). */
export interface PersonalModelStore {
  /** The user's model in the room, if set. */
  get(room: string, user: string): string | undefined;
  /** Sets the user's model in the room. */
  set(room: string, user: string, model: string): void;
  /** Clears the user's model in the room; true when one was set. */
  clear(room: string, user: string): boolean;
  /** Clears every personal model (`.clear`). */
  clearAll(): void;
}

/** Bot-wide settings that admins change at run time. */
export interface SettingValues {
  /** The default model (`.model`). */
  model: string;
  /** Tool calling on (`.tools`). */
  tools: boolean;
  /** Verbose mode: the brevity clause left out (`.verbose`). */
  verbose: boolean;
  /** The "Thinking…" placeholder shown (`.thinking`). */
  thinking: boolean;
}

/**
 * The bot-wide settings. Values set by admin commands win over the config's
 * start values on the next start.
 */
export interface SettingsStore {
  /** The current values (a copy). */
  readonly values: SettingValues;
  /** Reads one setting. */
  get<K extends keyof SettingValues>(key: K): SettingValues[K];
  /** Changes one setting and stores it. */
  set<K extends keyof SettingValues>(key: K, value: SettingValues[K]): void;
}

/** Tokens in (prompt) and out (completion). */
export interface TokenCount {
  /** Tokens sent to the model. */
  input: number;
  /** Tokens the model produced. */
  output: number;
}

/** Tokens one user spent on one model over a period. */
export interface UsageRow extends TokenCount {
  /** The user's ID. */
  user: string;
  /** The model ('' for counts kept before models were recorded). */
  model: string;
}

/** Which usage {@link UsageStore.sum} adds up. */
export interface UsageQuery {
  /** The first UTC day, `YYYY-MM-DD`. */
  from: string;
  /** The last UTC day (inclusive), `YYYY-MM-DD`. */
  to: string;
  /** Only this user; everyone when absent. */
  user?: string;
}

/**
 * Tokens per user, per model, per UTC day (decision 43). Budgets and costs
 * are reckoned from it (lib/usage.ts); the store only counts.
 */
export interface UsageStore {
  /**
   * Adds tokens to the user's count for the model on `now`'s UTC day
   * (rounded; counts of zero or less are ignored) and forgets days older
   * than the kept days (lib/state/rules.ts).
   */
  add(user: string, model: string, tokens: TokenCount, now?: number): void;
  /** Tokens per user and model over the days of `query`, ordered by user, then model. */
  sum(query: UsageQuery): UsageRow[];
}

/** A room's own settings (decision 44); an absent one falls back to the bot's. */
export interface RoomSettings {
  /** The room's model (`.room model`); a personal model wins over it. */
  model?: string;
  /** The default persona of conversations started in the room (`.room persona`). */
  persona?: string;
  /** Tool calling in the room (`.room tools`). */
  tools?: boolean;
  /** Streamed answers in the room (`.room stream`). */
  stream?: boolean;
}

/** Settings per room, changed by admins and the room's moderators. */
export interface RoomSettingsStore {
  /** The room's settings (a copy; empty when none are set). */
  get(room: string): RoomSettings;
  /** Sets one setting of the room, or clears it with `undefined`. */
  set<K extends keyof RoomSettings>(room: string, key: K, value: RoomSettings[K] | undefined): void;
  /** Clears the settings of every room (`.clear`). */
  clearAll(): void;
}

/** An event waiting to be handled. */
export interface InboxEntry {
  /** The event's id. */
  eventId: string;
  /** The room it was sent in. */
  room: string;
  /** The event as received (possibly encrypted). */
  event: Record<string, unknown>;
  /** When sync delivered it (ms since the epoch). */
  receivedAt: number;
}

/**
 * The durable inbox of incoming events. An event is written here the moment
 * sync delivers it (before the next sync can move past it) and removed, with
 * a "handled" mark, after its reply was sent. After a crash, what is still
 * here is handled again; what is marked is never handled twice. Verification
 * requests handled are remembered here too.
 */
export interface InboxStore {
  /** True when the event is waiting or was handled. */
  seen(eventId: string): boolean;
  /** True when the event was handled. */
  handled(eventId: string): boolean;
  /** Stores an event; false when it was already seen. */
  add(eventId: string, room: string, event: Record<string, unknown>, now?: number): boolean;
  /** Events still waiting, in the order the server received them. */
  pending(): InboxEntry[];
  /** Marks an event handled and removes it from the inbox, in one step. */
  done(eventId: string, room: string, now?: number): void;
  /** Forgets handled marks older than `maxAgeMs` (sync never goes back that far). */
  prune(maxAgeMs?: number, now?: number): void;
  /** True when this verification request was already answered. */
  verificationSeen(txnId: string): boolean;
  /** Remembers an answered verification request. */
  markVerification(txnId: string, now?: number): void;
}
