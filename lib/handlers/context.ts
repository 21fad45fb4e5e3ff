/**
 * What a command handler gets: the facts of one incoming command and the few
 * services it may use. Handlers never touch the store, HTTP or the network.
 *
 * @module
 */
import type { Config } from "../config.ts";
import type { Llm } from "../llm.ts";
import type { Logger } from "../log.ts";
import type { PersonalModelStore, SettingsStore, ThreadStore } from "../state/ports.ts";
import type { ToolImage, ToolRegistry } from "../tools/registry.ts";

/** One incoming command. */
export interface Context {
  readonly room: string;
  readonly sender: string;
  /** The sender's display name (mxid when they have none). */
  readonly senderName: string;
  readonly isAdmin: boolean;
  /** The command word as routed (`.ai` for the mention form). */
  readonly command: string;
  /** Text after the command word, trimmed, newlines kept. */
  readonly args: string;
  readonly eventId?: string;
  readonly botName: string;
  readonly config: Config;
  readonly history: ThreadStore;
  readonly models: PersonalModelStore;
  readonly settings: SettingsStore;
  readonly llm: Llm;
  readonly tools: ToolRegistry;
  /** `help.md`. */
  readonly help: string;
  readonly log: Logger;
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
  /** Counts tokens against the sender's daily budget. */
  recordUsage(tokens: number): void;
  /** Records a moment of this command's processing (timing spans). */
  mark(label: "provider" | "answered"): void;
}

/** One chat command. */
export interface Command {
  /** The command word, e.g. `.ai`. */
  readonly name: string;
  /** Only admins may run it; others are ignored. */
  readonly admin: boolean;
  /** Talks to the model: gets the "Thinking…" placeholder and typing notice. */
  readonly usesModel?: boolean;
  run(ctx: Context): Promise<void>;
}
