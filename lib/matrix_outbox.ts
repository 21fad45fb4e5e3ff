/**
 * What the bot sends to Matrix: Markdown body + sanitized HTML, threads
 * kept, long replies split, edits with `m.replace`, media encrypted in
 * encrypted rooms, and transaction ids derived from the triggering event, so
 * a resend after a crash is dropped by the homeserver (or found already
 * sent: its echo may be here first).
 *
 * @module
 */
import type * as sdk from "matrix-js-sdk";
import { encryptAttachment, imageSize } from "./attachments.ts";
import type { ImageOptions, OutgoingMessage } from "./chat_port.ts";
import { getLogger } from "./log.ts";
import { renderMarkdown } from "./markdown.ts";
import { realId } from "./matrix_client.ts";
import { splitMarkdown } from "./split.ts";
import type { ToolImage } from "./tools/registry.ts";

const log = getLogger("matrix");

/** Largest Markdown part per event: body + HTML + encryption stay below the 64 KiB limit. */
export const MAX_PART_BYTES = 16_000;

/** An edit carries its text twice (fallback and `m.new_content`), so it gets half. */
export const EDIT_PART_BYTES: number = MAX_PART_BYTES / 2;

/** A stable transaction id for a key (the event id + a suffix). */
export async function txnIdFor(key: string): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key)),
  );
  return "ig" + [...digest.slice(0, 12)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Options for {@link MatrixOutbox}. */
export interface OutboxOptions {
  /** Send HTML rendered from the Markdown too (`markdown`). */
  markdown: boolean;
}

/** Sends, edits and removes the bot's messages in Matrix rooms. */
export class MatrixOutbox {
  readonly #client: sdk.MatrixClient;
  readonly #options: OutboxOptions;

  /** An outbox sending through `client`. */
  constructor(client: sdk.MatrixClient, options: OutboxOptions) {
    this.#client = client;
    this.#options = options;
  }

  #content(body: string): Record<string, unknown> {
    const content: Record<string, unknown> = { msgtype: "m.text", body };
    if (this.#options.markdown) {
      content.format = "org.matrix.custom.html";
      content.formatted_body = renderMarkdown(body);
    }
    return content;
  }

  /**
   * Decision 36: a reply carries `m.in_reply_to` (no fallback quote); in a
   * thread, the thread relation falls back to the message answered.
   */
  #relation(message: Pick<OutgoingMessage, "threadId" | "replyTo">):
    | Record<string, unknown>
    | undefined {
    if (!message.threadId) {
      return message.replyTo ? { "m.in_reply_to": { event_id: message.replyTo } } : undefined;
    }
    return {
      rel_type: "m.thread",
      event_id: message.threadId,
      is_falling_back: true,
      "m.in_reply_to": { event_id: message.replyTo ?? message.threadId },
    };
  }

  async #sendContent(
    room: string,
    content: Record<string, unknown>,
    key?: string,
  ): Promise<string> {
    const txnId = key ? await txnIdFor(key) : undefined;
    // A resend after a crash whose first attempt reached the homeserver: its
    // remote echo may already be here. Sending again would race that echo.
    const delivered = txnId ? this.#eventIdForTxn(room, txnId) : undefined;
    if (delivered) {
      log.debug(`Already sent as ${delivered} in ${room} (${key})`);
      return delivered;
    }
    // The SDK's typed overloads do not cover hand-built content; the shape is ours.
    const send = this.#client.sendEvent.bind(this.#client) as unknown as (
      roomId: string,
      type: string,
      content: Record<string, unknown>,
      txnId?: string,
    ) => Promise<{ event_id: string }>;
    const sending = send(room, "m.room.message", content, txnId);
    // The local echo is registered synchronously; keep it, as it takes the
    // real id when the remote echo arrives.
    const local = txnId ? this.#client.getRoom(room)?.getEventForTxnId(txnId) : undefined;
    let response: { event_id: string } | undefined;
    try {
      response = await sending;
    } catch (error) {
      // The remote echo of an earlier attempt can arrive while this send is
      // being encrypted or queued; the SDK then trips over its own local echo
      // ("not a local echo") although the event exists: that is a success.
      const id = realId(local?.getId()) ?? (txnId ? this.#eventIdForTxn(room, txnId) : undefined);
      if (!id) throw error;
      log.debug(`Sent ${id} in ${room} (its echo overtook the send: ${(error as Error).message})`);
      return id;
    }
    // When sync delivers the remote echo of an earlier attempt with this
    // transaction id (a resend after a crash) while the send is still being
    // encrypted, the SDK settles the send without an id: the echo has it.
    const id = response?.event_id ?? realId(local?.getId()) ??
      (txnId ? this.#eventIdForTxn(room, txnId) : undefined);
    if (!id) throw new Error(`the homeserver returned no event id (${key ?? "no key"})`);
    log.debug(`Sent ${id} in ${room}${key ? ` for ${key}` : ""}`);
    return id;
  }

  #eventIdForTxn(room: string, txnId: string): string | undefined {
    const events = this.#client.getRoom(room)?.getLiveTimeline().getEvents() ?? [];
    for (let i = events.length - 1; i >= 0; i--) {
      const e = events[i];
      if (e.getTxnId() === txnId || e.getUnsigned()?.transaction_id === txnId) {
        const id = realId(e.getId());
        if (id) return id;
      }
    }
    return undefined;
  }

  /** Sends Markdown, split into several events when too long; returns the first id. */
  async send(room: string, message: OutgoingMessage): Promise<string | undefined> {
    const parts = splitMarkdown(message.body, MAX_PART_BYTES);
    let first: string | undefined;
    for (const [i, part] of parts.entries()) {
      const content = this.#content(part);
      const relation = this.#relation(message);
      if (relation) content["m.relates_to"] = relation;
      const key = message.txnId ? (i === 0 ? message.txnId : `${message.txnId}#${i}`) : undefined;
      const id = await this.#sendContent(room, content, key);
      first ??= id;
    }
    return first;
  }

  /** Replaces a message; overflow goes into new messages after it. */
  async edit(room: string, eventId: string, message: OutgoingMessage): Promise<void> {
    const [head, ...more] = splitMarkdown(message.body, EDIT_PART_BYTES);
    const rest = more.length ? splitMarkdown(more.join("\n\n"), MAX_PART_BYTES) : [];
    const next = this.#content(head);
    const content: Record<string, unknown> = {
      msgtype: "m.text",
      body: `* ${head}`,
      ...(next.formatted_body ? { format: next.format, formatted_body: next.formatted_body } : {}),
      "m.new_content": next,
      "m.relates_to": { rel_type: "m.replace", event_id: eventId },
    };
    // A retried edit gets a fresh id: the earlier attempt's final edit may be
    // older than its placeholder frames.
    const key = message.txnId && message.retry
      ? `${message.txnId}:retry${Date.now()}`
      : message.txnId;
    await this.#sendContent(room, content, key);
    for (const [i, part] of rest.entries()) {
      await this.send(room, {
        ...message,
        body: part,
        retry: false,
        txnId: message.txnId ? `${message.txnId}#${i + 1}` : undefined,
      });
    }
  }

  /** Removes a message. */
  async redact(room: string, eventId: string): Promise<void> {
    await this.#client.redactEvent(room, eventId);
  }

  /** Uploads and posts an image: encrypted (`file`) in encrypted rooms, plain (`url`) elsewhere. */
  async sendImage(room: string, image: ToolImage, options: ImageOptions = {}): Promise<void> {
    const client = this.#client;
    const encrypted = (await client.getCrypto()?.isEncryptionEnabledInRoom(room)) ?? false;
    const size = imageSize(image.bytes);
    const info: Record<string, unknown> = { mimetype: image.mimetype, size: image.bytes.length };
    if (size) Object.assign(info, size);
    const content: Record<string, unknown> = { msgtype: "m.image", body: image.name, info };
    if (encrypted) {
      const { data, info: file } = await encryptAttachment(image.bytes);
      const upload = await client.uploadContent(
        new Blob([data as BlobPart], { type: "application/octet-stream" }),
        { name: "encrypted", type: "application/octet-stream", includeFilename: false },
      );
      content.file = { ...file, url: upload.content_uri };
    } else {
      const upload = await client.uploadContent(
        new Blob([image.bytes as BlobPart], { type: image.mimetype }),
        { name: image.name, type: image.mimetype },
      );
      content.url = upload.content_uri;
    }
    const relation = this.#relation(options);
    if (relation) content["m.relates_to"] = relation;
    await this.#sendContent(room, content, options.txnId);
  }

  /** Shows or clears the typing notice (for at most 30 s). */
  async setTyping(room: string, typing: boolean): Promise<void> {
    await this.#client.sendTyping(room, typing, 30_000);
  }
}
