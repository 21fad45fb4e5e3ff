/**
 * Per-user limits on model use: requests per minute (in memory, sliding
 * window) and tokens per UTC day (in `state.db`, so a restart does not
 * reset a budget).
 *
 * @module
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";

/** Keys kept before the first prune: a small map is never worth a pass. */
const PRUNE_FLOOR = 256;

/**
 * Sliding-window request limit per key. The map prunes itself: when it has
 * doubled since the last prune, keys without recent requests are dropped,
 * so memory follows the users active within a window, at constant cost per
 * request on average and without a timer.
 */
export class RateLimiter {
  readonly #perMinute: number;
  readonly #windowMs: number;
  readonly #hits = new Map<string, number[]>();
  /** Size of the map at which {@link take} prunes it next. */
  #pruneAt = PRUNE_FLOOR;

  /** `perMinute` 0 disables the limit. */
  constructor(perMinute: number, windowMs = 60_000) {
    this.#perMinute = perMinute;
    this.#windowMs = windowMs;
  }

  /**
   * Records a request when allowed. Returns 0 when allowed, else the
   * milliseconds until the next request would be.
   */
  take(key: string, now: number = Date.now()): number {
    if (this.#perMinute <= 0) return 0;
    const recent = (this.#hits.get(key) ?? []).filter((t) => now - t < this.#windowMs);
    if (recent.length >= this.#perMinute) {
      this.#hits.set(key, recent);
      return this.#windowMs - (now - recent[0]);
    }
    recent.push(now);
    this.#hits.set(key, recent);
    if (this.#hits.size >= this.#pruneAt) {
      this.prune(now);
      this.#pruneAt = Math.max(PRUNE_FLOOR, 2 * this.#hits.size);
    }
    return 0;
  }

  /** Users with requests remembered (for tests and metrics). */
  get size(): number {
    return this.#hits.size;
  }

  /** Drops keys with no recent requests; {@link take} calls it as the map grows. */
  prune(now: number = Date.now()): void {
    for (const [key, times] of this.#hits) {
      if (times.every((t) => now - t >= this.#windowMs)) this.#hits.delete(key);
    }
  }
}

/** The UTC day of a timestamp, `YYYY-MM-DD`. */
export function utcDay(now: number = Date.now()): string {
  return new Date(now).toISOString().slice(0, 10);
}

/** Tokens used per user per UTC day, against a daily budget. */
export class TokenBudget {
  readonly #daily: number;
  readonly #get: StatementSync;
  readonly #add: StatementSync;
  readonly #prune: StatementSync;

  /** `daily` 0 disables the budget (usage is still counted). */
  constructor(db: DatabaseSync, daily: number) {
    this.#daily = daily;
    this.#get = db.prepare("SELECT tokens FROM usage WHERE user = ? AND day = ?");
    this.#add = db.prepare(
      `INSERT INTO usage (user, day, tokens) VALUES (?, ?, ?)
       ON CONFLICT (user, day) DO UPDATE SET tokens = tokens + excluded.tokens`,
    );
    this.#prune = db.prepare("DELETE FROM usage WHERE day < ?");
  }

  /** The daily budget (0 = none). */
  get daily(): number {
    return this.#daily;
  }

  /** Tokens the user used today. */
  used(user: string, now: number = Date.now()): number {
    return (this.#get.get(user, utcDay(now)) as { tokens: number } | undefined)?.tokens ?? 0;
  }

  /** True when the user has no budget left today. */
  exhausted(user: string, now: number = Date.now()): boolean {
    return this.#daily > 0 && this.used(user, now) >= this.#daily;
  }

  /** Adds tokens to today's count and forgets days older than a week. */
  add(user: string, tokens: number, now: number = Date.now()): void {
    if (tokens <= 0) return;
    this.#add.run(user, utcDay(now), Math.round(tokens));
    this.#prune.run(utcDay(now - 7 * 86_400_000));
  }
}
