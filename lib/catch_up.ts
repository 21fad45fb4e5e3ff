/**
 * The catch-up window (decision 29): after a restart, messages sent while the
 * bot was down are answered when younger than `matrix.catch_up_seconds`,
 * skipped when older. Pure.
 *
 * The cut applies only to what the bot catches up on — the first sync from
 * the homeserver after a start and events left in the inbox from before a
 * crash — never to live events, which are answered whatever their
 * timestamp says.
 *
 * @module
 */

/** The parts of a Matrix event its age is read from. */
export interface AgedEvent {
  origin_server_ts?: unknown;
  unsigned?: unknown;
}

/**
 * How old an event is, in milliseconds. The homeserver's own `unsigned.age`
 * (its clock minus `origin_server_ts`, when it sent the event to the bot)
 * plus the time since then on the bot's clock, so a homeserver whose clock
 * differs from the bot's does not shift the window; `now − origin_server_ts`
 * when the server sent no age. `undefined` when the event has neither.
 */
export function eventAgeMs(event: AgedEvent, receivedAt: number, now: number): number | undefined {
  const age = (event.unsigned as { age?: unknown } | undefined)?.age;
  if (typeof age === "number" && Number.isFinite(age)) return age + Math.max(0, now - receivedAt);
  const ts = event.origin_server_ts;
  return typeof ts === "number" && Number.isFinite(ts) ? now - ts : undefined;
}

/** Whether a caught-up message is answered or skipped; `0` skips all. */
export function catchUpVerdict(
  ageMs: number | undefined,
  windowSeconds: number,
): "answer" | "skip" {
  if (windowSeconds <= 0) return "skip";
  // No timestamp at all: nothing says it is old.
  if (ageMs === undefined) return "answer";
  return ageMs > windowSeconds * 1000 ? "skip" : "answer";
}

/** The one log line for the messages skipped after a start. */
export function skippedLine(count: number, windowSeconds: number): string {
  const what = count === 1 ? "1 message" : `${count} messages`;
  return windowSeconds <= 0
    ? `Not answering ${what} that arrived while the bot was down (matrix.catch_up_seconds is 0)`
    : `Not answering ${what} that arrived while the bot was down and ${
      count === 1 ? "is" : "are"
    } older than matrix.catch_up_seconds (${windowSeconds} s)`;
}
