/**
 * The per-user limit on requests per minute (in memory, sliding window).
 * The daily token budget is state: `UsageStore` in lib/state/ports.ts.
 *
 * @module
 */

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
