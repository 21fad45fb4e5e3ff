/**
 * What a command handler gets: the facts of one incoming command, its parsed
 * arguments, and the few services it may use. Handlers never see the config,
 * the store, HTTP or the network.
 *
 * @module
 */
import type { Answer, AnswerRequest } from "../llm.ts";
import type { PersonalModelStore, SettingsStore, ThreadStore } from "../state/ports.ts";
import type { ToolImage, ToolRegistry } from "../tools/registry.ts";
import type { Invalid } from "./args.ts";
import type { ModelCatalog } from "./catalog.ts";

/** Asks the model (the {@link Llm} in production). */
/** Where a handler logs (the command's LogTape logger in the bot). */
export interface HandlerLog {
  /** Message and reply text, thinking: only for debugging. */
  debug(message: string): void;
  /** Who did what, where, with which model. */
  info(message: string): void;
  /** Something failed but the bot answered. */
  warn(message: string): void;
  /** Something failed that should not have. */
  error(message: string): void;
}

/** What asks the model for answers (`Llm`, or a test double). */
export interface Answerer {
  /** Produces an answer; throws `LlmError` with a user-safe reason. */
  answer(request: AnswerRequest): Promise<Answer>;
}

/** The bot-wide services handlers use (the per-message ones are on {@link Context}). */
export interface Services {
  /** Conversation threads per (room, user). */
  readonly threads: ThreadStore;
  /** Personal models per (room, user). */
  readonly models: PersonalModelStore;
  /** The bot-wide settings (`.model`, `.tools`, `.verbose`, `.thinking`). */
  readonly settings: SettingsStore;
  /** Asks the model. */
  readonly llm: Answerer;
  /** The tools the model may be offered. */
  readonly tools: ToolRegistry;
  /** The configured models. */
  readonly catalog: ModelCatalog;
  /** `help.md`. */
  readonly help: string;
}

/** One incoming command, with arguments of type `A`: its facts and the services. */
export interface Context<A = unknown> extends Services {
  /** The room's ID. */
  readonly room: string;
  /** The sender's user ID. */
  readonly sender: string;
  /** The sender's display name (mxid when they have none). */
  readonly senderName: string;
  /** The sender is a bot admin (by Matrix ID). */
  readonly isAdmin: boolean;
  /** The triggering event's ID, when the network has one (idempotent replies). */
  readonly eventId?: string;
  /** Root event of the thread the command was sent in. */
  readonly threadId?: string;
  /** The bot's display name. */
  readonly botName: string;
  /** The arguments, as the command's `parse` read them. */
  readonly args: A;
  /** The command's logger (`handlers.<command>`). */
  readonly log: HandlerLog;
  /** Aborted when the bot shuts down. */
  readonly signal: AbortSignal;
  /** Sends a Markdown reply (the first one replaces the placeholder). */
  reply(text: string): Promise<void>;
  /**
   * Shows the first reply's text so far while the answer streams; absent
   * when this reply does not stream (`.thinking off`, `llm.stream: false`).
   */
  readonly stream?: (text: string) => void;
  /** Posts an image into the room. */
  replyImage(image: ToolImage): Promise<void>;
  /** A user's display name in this room. */
  displayName(userId: string): Promise<string>;
  /**
   * Runs `task` with exclusive use of `user`'s thread in this room, after
   * earlier tasks on that thread: `.x` into someone's thread and their own
   * `.ai` must not interleave (decision 17). Not reentrant for one thread.
   */
  withThread<T>(user: string, task: () => Promise<T>): Promise<T>;
  /**
   * Runs `task` with exclusive use of every thread of every room (`.clear`):
   * after the thread tasks already queued, before any queued later.
   */
  withAllThreads<T>(task: () => Promise<T>): Promise<T>;
  /** Counts tokens against the sender's daily budget. */
  recordUsage(tokens: number): void;
}

/** One chat command. */
export interface Command<A = unknown> {
  /** The command word, e.g. `.ai`. */
  readonly name: string;
  /** Only admins may run it; others are ignored. */
  readonly admin: boolean;
  /** Counts against the per-user limits (`llm.rate_limit`): it asks the model. */
  readonly limited: boolean;
  /** What shows while it runs: the "Thinking…" placeholder and typing notice, or nothing. */
  readonly responder: "placeholder" | "none";
  /** Reads the text after the command word (trimmed). Pure. */
  parse(raw: string): A | Invalid;
  /** Acts on the parsed arguments. */
  run(ctx: Context<A>): Promise<void>;
}
