/**
 * Per-user limits on model use: requests per minute (in memory, sliding
 * window) and tokens per UTC day (in `state.db`, so a restart does not
 * reset a budget).
 *
 * @module
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";

/** Sliding-window request limit per key. */
export class RateLimiter {
  readonly #perMinute: number;
  readonly #windowMs: number;
  readonly #hits = new Map<string, number[]>();

  /** `perMinute` 0 disables the limit. */
  constructor(perMinute: number, windowMs = 60_000) {
    this.#perMinute = perMinute;
    this.#windowMs = windowMs;
  }

  /**
   * Records a request when allowed. Returns 0 when allowed, else the
   * milliseconds until the next request would be.
   */
  take(key: string, now = Date.now()): number {
    if (this.#perMinute <= 0) return 0;
    const recent = (this.#hits.get(key) ?? []).filter((t) => now - t < this.#windowMs);
    if (recent.length >= this.#perMinute) {
      this.#hits.set(key, recent);
      return this.#windowMs - (now - recent[0]);
    }
    recent.push(now);
    this.#hits.set(key, recent);
    return 0;
  }

  /** Drops keys with no recent requests (called now and then). */
  prune(now = Date.now()): void {
    for (const [key, times] of this.#hits) {
      if (times.every((t) => now - t >= this.#windowMs)) this.#hits.delete(key);
    }
  }
}

/** The UTC day of a timestamp, `YYYY-MM-DD`. */
export function utcDay(now = Date.now()): string {
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
  used(user: string, now = Date.now()): number {
    return (this.#get.get(user, utcDay(now)) as { tokens: number } | undefined)?.tokens ?? 0;
  }

  /** True when the user has no budget left today. */
  exhausted(user: string, now = Date.now()): boolean {
    return this.#daily > 0 && this.used(user, now) >= this.#daily;
  }

  /** Adds tokens to today's count and forgets days older than a week. */
  add(user: string, tokens: number, now = Date.now()): void {
    if (tokens <= 0) return;
    this.#add.run(user, utcDay(now), Math.round(tokens));
    this.#prune.run(utcDay(now - 7 * 86_400_000));
  }
}
