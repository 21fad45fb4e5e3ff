/**
 * What a command handler gets: the facts of one incoming command, its parsed
 * arguments, and the few services it may use. Handlers never see the config,
 * the store, HTTP or the network.
 *
 * @module
 */
import type { Attachment, MediaRef } from "../content.ts";
import type { Answer, AnswerRequest } from "../llm.ts";
import type {
  PersonalModelStore,
  RoomSettingsStore,
  SettingsStore,
  ThreadStore,
  TokenCount,
} from "../state/ports.ts";
import type { ToolImage, ToolRegistry } from "../tools/registry.ts";
import type { UsageLedger } from "../usage.ts";
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
  /** Settings per room (`.room`). */
  readonly rooms: RoomSettingsStore;
  /** Tokens per user and model, their cost and the budgets (`.usage`). */
  readonly usage: UsageLedger;
  /** Asks the model. */
  readonly llm: Answerer;
  /** The tools the model may be offered. */
  readonly tools: ToolRegistry;
  /** The configured models. */
  readonly catalog: ModelCatalog;
  /** `help.md`. */
  readonly help: string;
  /** `llm.timezone`: where `{date}`, `{time}` and `{weekday}` are read (default UTC). */
  readonly timeZone?: string;
  /** The clock of the prompt variables (tests). */
  readonly now?: () => Date;
  /** Images and files in (decision 34); the defaults when absent. */
  readonly media?: MediaSettings;
}

/** `llm.vision_models`, `llm.max_images`, `llm.max_image_bytes`, `llm.max_file_bytes`. */
export interface MediaSettings {
  /** Globs of the models that see images. */
  visionModels: readonly string[];
  /** Images per request (the most recent ones of the thread). */
  maxImages: number;
  /** Largest image accepted, in bytes. */
  maxImageBytes: number;
  /** Largest text file accepted, in bytes. */
  maxFileBytes: number;
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
  /** Counts an answer's tokens for the sender and the model that answered. */
  recordUsage(model: string, tokens: TokenCount): void;
  /** A user's power level in this room (0 when the network has none or it cannot be read). */
  powerLevel(userId: string): Promise<number>;
  /**
   * Images and files the message brings: those it is the caption of, or
   * the one of the message it replies to. Absent where the network has none.
   */
  attachments?(): Promise<Attachment[]>;
  /** An attachment's bytes (`ChatPort.download`); absent where the network has none. */
  download?(ref: MediaRef, maxBytes: number): Promise<Uint8Array>;
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
