/**
 * The rules every implementation of the state ports follows, written once
 * so the SQLite and the memory implementations cannot drift apart: which
 * stored settings count, how long usage and handled marks are kept, and the
 * order in which waiting events are replayed.
 *
 * @module
 */
import type { InboxEntry, SettingValues } from "./ports.ts";

/** Days of token usage kept besides today's. */
export const USAGE_KEPT_DAYS = 7;

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
 * The settings in effect: stored values over `defaults`. A stored value of
 * the wrong type, or a model `validModel` rejects (the config no longer
 * lists it), falls back to the default.
 */
export function settingsOver(
  stored: ReadonlyMap<string, unknown>,
  defaults: SettingValues,
  validModel: (model: string) => boolean,
): SettingValues {
  const pick = <K extends keyof SettingValues>(key: K, ok: (v: unknown) => boolean) =>
    stored.has(key) && ok(stored.get(key)) ? stored.get(key) as SettingValues[K] : defaults[key];
  return {
    model: pick("model", (v) => typeof v === "string" && validModel(v)),
    tools: pick("tools", (v) => typeof v === "boolean"),
    verbose: pick("verbose", (v) => typeof v === "boolean"),
    thinking: pick("thinking", (v) => typeof v === "boolean"),
  };
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
