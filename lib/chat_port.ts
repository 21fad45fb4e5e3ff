/**
 * The one interface the core uses to talk to a chat network. The Matrix
 * adapter, the terminal console and the tests' in-memory port implement it.
 *
 * @module
 */
import type { Attachment, MediaRef } from "./content.ts";
import type { ToolImage } from "./tools/registry.ts";

/** A text message addressed to the bot, as the core sees it. */
export interface IncomingMessage {
  /** Room ID. */
  room: string;
  /** Sender's user ID. */
  sender: string;
  /** Plain-text body. */
  body: string;
  /** The event's ID, when the network has one. */
  eventId?: string;
  /** Root event of the thread the message was sent in. */
  threadId?: string;
  /** User IDs the message mentions (`m.mentions.user_ids`). */
  mentions?: readonly string[];
  /** Sent in a direct chat: a room of the bot and this one user, marked direct (decision 37). */
  direct?: boolean;
  /** The sender of the message this one replies to (a thread's fallback reply is none). */
  replyToSender?: string;
  /** Server timestamp in ms. */
  ts?: number;
  /** The image or file this message is the caption of (decision 34). */
  attachments?: readonly Attachment[];
  /** The event this message replies to (`m.in_reply_to`, not a thread's fallback). */
  inReplyTo?: string;
  /** `performance.now()` when the transport received it (timing spans). */
  receivedAt?: number;
  /**
   * Handled before (the process stopped before marking it done); replies
   * may already exist in part and are sent idempotently.
   */
  retry?: boolean;
}

/** A Markdown message the core sends. */
export interface OutgoingMessage {
  /** Markdown source; the port renders it if the network supports HTML. */
  body: string;
  /** Keep the reply in this thread. */
  threadId?: string;
  /** The message answered (`m.in_reply_to`, decision 36). */
  replyTo?: string;
  /**
   * Part of a retried handling: an edit must land even if an earlier
   * attempt sent one with the same `txnId` (later placeholder frames may
   * have followed it).
   */
  retry?: boolean;
  /**
   * A key derived from the triggering event, stable across re-handling, so
   * the network can drop a resend after a crash.
   */
  txnId?: string;
}

/** Options for sending an image. */
export interface ImageOptions {
  /** The thread to post into. */
  threadId?: string;
  /** As {@link OutgoingMessage.txnId}. */
  txnId?: string;
  /** As {@link OutgoingMessage.replyTo}. */
  replyTo?: string;
}

/** What the core needs from a chat network. */
export interface ChatPort {
  /** The bot's own user ID. */
  readonly userId: string;
  /** The bot's display name (mention form, `.reset` reply). */
  botName(): string;
  /** Sends a message; returns its event ID when known. */
  send(room: string, message: OutgoingMessage): Promise<string | undefined>;
  /** Replaces an earlier message of the bot. */
  edit(room: string, eventId: string, message: OutgoingMessage): Promise<void>;
  /** Removes an earlier message of the bot. */
  redact(room: string, eventId: string): Promise<void>;
  /** Posts an image. */
  sendImage(room: string, image: ToolImage, options?: ImageOptions): Promise<void>;
  /** Shows or clears the typing notice. */
  setTyping(room: string, typing: boolean): Promise<void>;
  /** A user's display name in the room; the user ID when there is none. */
  displayName(room: string, userId: string): Promise<string>;
  /**
   * A user's power level in the room, from the room's state (`.room` lets
   * moderators change room settings). Networks without one leave it out:
   * everyone is at 0 there.
   */
  powerLevel?(room: string, userId: string): Promise<number>;
  /** The image or file an event carries (the target of a reply), if any. */
  attachmentOf?(room: string, eventId: string): Promise<Attachment | undefined>;
  /**
   * An attachment's bytes: downloaded, decrypted and hash-checked when
   * encrypted. Throws {@link MediaError} when it cannot, or when it is
   * larger than `maxBytes`.
   */
  download?(ref: MediaRef, maxBytes: number): Promise<Uint8Array>;
}

/** An attachment could not be had; `reason` is safe to show users. */
export class MediaError extends Error {
  /** What went wrong, for the reply. */
  readonly reason: string;
  /** True when the attachment is larger than allowed. */
  readonly tooLarge: boolean;
  /** A failure users may read about (`reason`). */
  constructor(reason: string, options: { tooLarge?: boolean; cause?: unknown } = {}) {
    super(reason, { cause: options.cause });
    this.name = "MediaError";
    this.reason = reason;
    this.tooLarge = options.tooLarge ?? false;
  }
}
