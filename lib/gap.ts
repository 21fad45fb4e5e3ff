/**
 * Filling a gap in a room's timeline (decision 29). When a sync is
 * "limited" (more events arrived than one sync carries, e.g. while the bot
 * was down in a busy room), the events before the ones it delivered are
 * fetched backwards page by page until the bot reaches what it has already
 * received, its own join, or the edge of the catch-up window. Pure: the
 * Matrix adapter fetches the pages.
 *
 * @module
 */
import { catchUpVerdict, eventAgeMs } from "./catch_up.ts";

/** A raw event of a `/messages` page. */
export interface RawEvent {
  event_id?: unknown;
  type?: unknown;
  sender?: unknown;
  state_key?: unknown;
  content?: unknown;
  origin_server_ts?: unknown;
  unsigned?: unknown;
}

/** What a page is read against. */
export interface GapContext {
  botUserId: string;
  /** The event was received before (waiting or handled). */
  seen(eventId: string): boolean;
  /** `matrix.catch_up_seconds`. */
  windowSeconds: number;
  /** When the page was fetched (ms). */
  now: number;
  /**
   * The bot's own last message ends the scan: after a lost store, what it
   * answered before is not known otherwise, and it answers in order.
   */
  stopAtOwnMessage?: boolean;
}

/** What one page, newest event first, gave. */
export interface GapPage {
  /** Messages to answer, newest first. */
  found: RawEvent[];
  /** Why the scan stops here, or `undefined` to fetch the next page. */
  stop?: "received" | "joined" | "too old" | "the bot's last message";
}

/** Reads one backwards page of `/messages` (newest first). */
export function scanGapPage(chunk: readonly RawEvent[], ctx: GapContext): GapPage {
  const found: RawEvent[] = [];
  for (const event of chunk) {
    const own = event.sender === ctx.botUserId;
    const membership = (event.content as { membership?: unknown } | undefined)?.membership;
    // Before the bot's own join is history (decision 28).
    if (own && event.type === "m.room.member" && event.state_key === ctx.botUserId) {
      if (membership === "join") return { found, stop: "joined" };
      continue;
    }
    const message = event.type === "m.room.message" || event.type === "m.room.encrypted";
    if (own && message && ctx.stopAtOwnMessage) return { found, stop: "the bot's last message" };
    if (own || !message) continue;
    if (typeof event.event_id !== "string") continue;
    // Everything older reached the bot before the gap.
    if (ctx.seen(event.event_id)) return { found, stop: "received" };
    const age = eventAgeMs(event, ctx.now, ctx.now);
    if (catchUpVerdict(age, ctx.windowSeconds) === "skip") return { found, stop: "too old" };
    found.push(event);
  }
  return { found };
}
