/**
 * Messages the bot cannot decrypt (decision 42): when to tell the sender
 * (once per user per room per hour), what to say, and how long a message
 * waiting for its keys may still be answered. Pure.
 *
 * @module
 */

/** How often, at most, one user is told in one room. */
export const NOTICE_INTERVAL_MS = 3_600_000;

/** The notice, addressed to the sender by name. */
export function undecryptableNotice(name: string): string {
  return `${name}, I can't read your encrypted message yet. If this keeps happening, verify me or send it again.`;
}

/** Remembers who was told where, so each user hears it at most once per room per hour. */
export class NoticeLimiter {
  readonly #told = new Map<string, number>();
  readonly #intervalMs: number;

  /** A limiter allowing one notice per user and room per `intervalMs`. */
  constructor(intervalMs = NOTICE_INTERVAL_MS) {
    this.#intervalMs = intervalMs;
  }

  /** True (and remembered) when `user` in `room` may be told now. */
  take(room: string, user: string, now: number): boolean {
    const key = `${room}\u0000${user}`;
    const last = this.#told.get(key);
    if (last !== undefined && now - last < this.#intervalMs) return false;
    this.#told.set(key, now);
    // Old entries go, so the map stays as small as the last hour.
    if (this.#told.size > 1000) {
      for (const [k, at] of this.#told) if (now - at >= this.#intervalMs) this.#told.delete(k);
    }
    return true;
  }
}

/**
 * How long (seconds) a message whose keys are late may still be answered:
 * the catch-up window (decision 29), but never less than the wait before
 * the notice — a message is not "old" because its keys took a moment, even
 * when `catch_up_seconds` is 0.
 */
export function lateAnswerSeconds(catchUpSeconds: number, decryptWaitSeconds: number): number {
  return Math.max(catchUpSeconds, decryptWaitSeconds);
}
