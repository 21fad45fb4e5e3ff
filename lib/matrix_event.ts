/**
 * A Matrix room event as the bot reads it: the message in it, the thread
 * and reply it belongs to, without a reply's quoted fallback. Pure.
 *
 * @module
 */
import { mediaOf } from "./attachments.ts";
import type { IncomingMessage } from "./chat_port.ts";

/**
 * Removes a reply fallback (`> <@user:hs> ...` quoted lines, then a blank
 * line) from a body. A body that merely starts with a quote is kept.
 */
export function stripReplyFallback(body: string): string {
  if (!/^> <[@*]?[^>\n]*> /.test(body)) return body;
  const lines = body.split("\n");
  let i = 0;
  while (i < lines.length && lines[i].startsWith(">")) i++;
  if (i === 0) return body;
  if (i < lines.length && lines[i].trim() === "") i++;
  return lines.slice(i).join("\n");
}

/**
 * The event a message replies to (`m.in_reply_to`), or undefined; a
 * thread's fallback reply (`is_falling_back`) is none. Pure.
 */
export function replyTarget(content: unknown): string | undefined {
  const relates = (content as { "m.relates_to"?: unknown } | undefined)?.["m.relates_to"];
  if (!relates || typeof relates !== "object") return undefined;
  const r = relates as Record<string, unknown>;
  if (r.rel_type === "m.thread" && r.is_falling_back === true) return undefined;
  const id = (r["m.in_reply_to"] as { event_id?: unknown } | undefined)?.event_id;
  return typeof id === "string" ? id : undefined;
}

/** What the bot needs of a decrypted room message, or why it is skipped. Pure. */
export function toIncoming(
  room: string,
  event: {
    event_id?: unknown;
    sender?: unknown;
    type?: unknown;
    origin_server_ts?: unknown;
    content?: unknown;
  },
): IncomingMessage | string {
  if (event.type !== "m.room.message") return `type ${String(event.type)}`;
  const content = event.content;
  if (!content || typeof content !== "object") return "no content";
  const c = content as Record<string, unknown>;
  // Decision 34: the caption of an image or file is a message with it attached.
  const media = c.msgtype === "m.image" || c.msgtype === "m.file" ? mediaOf(c) : undefined;
  if (c.msgtype !== "m.text" && media?.caption === undefined) {
    return `msgtype ${String(c.msgtype)}${media ? " without a caption" : ""}`;
  }
  if (typeof c.body !== "string") return "body is not a string";
  if (typeof event.sender !== "string" || typeof event.event_id !== "string") {
    return "no sender or id";
  }
  const relates = c["m.relates_to"] && typeof c["m.relates_to"] === "object"
    ? c["m.relates_to"] as Record<string, unknown>
    : undefined;
  if (relates?.rel_type === "m.replace" || c["m.new_content"]) return "an edit";
  const inReplyTo = relates?.["m.in_reply_to"];
  const threadId = relates?.rel_type === "m.thread" && typeof relates.event_id === "string"
    ? relates.event_id
    : undefined;
  const mentionsRaw = (c["m.mentions"] as { user_ids?: unknown } | undefined)?.user_ids;
  const mentions = Array.isArray(mentionsRaw)
    ? mentionsRaw.filter((m) => typeof m === "string")
    : undefined;
  // A reply in a thread quotes nothing; a classic reply may carry a fallback.
  const body = inReplyTo && !threadId ? stripReplyFallback(c.body) : c.body;
  const repliedTo = replyTarget(c);
  return {
    room,
    sender: event.sender,
    body: media?.caption ?? body,
    eventId: event.event_id,
    threadId,
    mentions,
    ts: typeof event.origin_server_ts === "number" ? event.origin_server_ts : undefined,
    ...(media ? { attachments: [media.attachment] } : {}),
    ...(repliedTo ? { inReplyTo: repliedTo } : {}),
  };
}
