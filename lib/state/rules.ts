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
 * Months of token usage kept besides the current one: a year back, for the
 * operator's own reckoning; `.usage` shows today and this month.
 */
export const USAGE_KEPT_MONTHS = 12;

/** How long handled marks are kept by default (sync never goes back that far). */
export const HANDLED_KEPT_MS: number = 14 * 86_400_000;

/** The UTC day of a timestamp, `YYYY-MM-DD`. */
export function utcDay(now: number = Date.now()): string {
  return new Date(now).toISOString().slice(0, 10);
}

/** The oldest UTC day whose usage is kept at `now` (a month's first); older days are forgotten. */
export function oldestUsageDay(now: number): string {
  const d = new Date(now);
  return utcDay(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - USAGE_KEPT_MONTHS, 1));
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
