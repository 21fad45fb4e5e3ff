/**
 * The rules every implementation of the state ports follows, written once
 * so the SQLite and the memory implementations cannot drift apart: how long
 * usage and handled marks are kept, and the order in which waiting events
 * are replayed.
 *
 * @module
 */
import type { InboxEntry } from "./ports.ts";

/**
 * Days of token usage kept: more than the current month and the twelve
 * before it, for the operator's own reckoning (`.usage` shows today and this
 * month). A rolling window of days, not whole months, so each new day
 * forgets one day of rows, never a month at once.
 */
export const USAGE_KEPT_DAYS = 400;

/** How long handled marks are kept by default (sync never goes back that far). */
export const HANDLED_KEPT_MS: number = 14 * 86_400_000;

/** The UTC day of a timestamp, `YYYY-MM-DD`. */
export function utcDay(now: number = Date.now()): string {
  return new Date(now).toISOString().slice(0, 10);
}

/** The oldest UTC day whose usage is kept at `now`; older days are forgotten. */
export function oldestUsageDay(now: number): string {
  return utcDay(now - USAGE_KEPT_DAYS * 86_400_000);
}

/**
 * Waiting events in replay order, given them ordered by receive time, then
 * event id. One sync delivers many events at the same moment: they are
 * replayed in the server's order, or a user's later message would be
 * answered first. Returns a new array.
 */
export function replayOrder(entries: readonly InboxEntry[]): InboxEntry[] {
  const ts = (e: InboxEntry) =>
    typeof e.event.origin_server_ts === "number" ? e.event.origin_server_ts : e.receivedAt;
  return [...entries].sort((a, b) => ts(a) - ts(b) || a.receivedAt - b.receivedAt);
}
