/**
 * Keeps the order of arrival per key across work that gets ready at
 * different times. Encrypted messages are the case: one waiting for its
 * keys must not be overtaken by a later message of the same sender whose
 * keys were already there (the SDK retries decryption when keys arrive, one
 * event at a time, while new events decrypt at once).
 *
 * @module
 */
import { deadline } from "./async.ts";

/** Options for {@link OrderGate}. */
export interface OrderGateOptions {
  /**
   * The longest an item that is ready waits for the earlier items of its
   * key (ms): one that never gets ready (keys that never come) holds the
   * later ones this long at most, then they go on without it.
   */
  maxWaitMs: number;
}

/** Hands items over in their order of arrival per key, each once it is ready. */
export class OrderGate {
  readonly #tails = new Map<string, Promise<void>>();
  readonly #maxWaitMs: number;

  /** A gate whose items wait at most `maxWaitMs` for the earlier ones. */
  constructor(options: OrderGateOptions) {
    this.#maxWaitMs = options.maxWaitMs;
  }

  /**
   * Awaits `ready`, then the earlier items of `key` (bounded), then calls
   * `then` with the value; the next item of `key` is let through only after
   * `then` has been called, so what `then` starts synchronously keeps the
   * order. An item whose `ready` rejects lets the next one through at once.
   */
  async pass<T, R>(key: string, ready: Promise<T>, then: (value: T) => R): Promise<R> {
    const before = this.#tails.get(key);
    let release!: () => void;
    const mine = new Promise<void>((resolve) => release = resolve);
    this.#tails.set(key, mine);
    try {
      const value = await ready;
      if (before) await deadline(before, this.#maxWaitMs).catch(() => {});
      return then(value);
    } finally {
      release();
      if (this.#tails.get(key) === mine) this.#tails.delete(key);
    }
  }

  /** Keys with items waiting or in progress (for tests and stats). */
  get size(): number {
    return this.#tails.size;
  }
}
