/**
 * Concurrency helpers: a FIFO semaphore and a queue that runs tasks with the
 * same key one after another while different keys run in parallel.
 *
 * @module
 */

/** Limits how many tasks run at once; waiters are served in arrival order. */
export class Semaphore {
  #free: number;
  readonly #waiters: Array<() => void> = [];

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) {
      throw new RangeError("size must be a positive integer");
    }
    this.#free = size;
  }

  /** Tasks currently waiting for a slot. */
  get waiting(): number {
    return this.#waiters.length;
  }

  async #acquire(): Promise<void> {
    if (this.#free > 0) {
      this.#free--;
      return;
    }
    await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  #release(): void {
    const next = this.#waiters.shift();
    if (next) next();
    else this.#free++;
  }

  /** Runs `task` when a slot is free. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    await this.#acquire();
    try {
      return await task();
    } finally {
      this.#release();
    }
  }
}

/**
 * Runs tasks in order per key. A failing task does not stop the ones queued
 * after it. Idle keys are forgotten, so memory does not grow with users.
 */
export class KeyedQueue {
  readonly #tails = new Map<string, Promise<unknown>>();
  readonly #pending = new Set<Promise<unknown>>();

  /** Number of keys with queued or running work. */
  get activeKeys(): number {
    return this.#tails.size;
  }

  /** Queues `task` behind earlier tasks of `key`; resolves with its result. */
  push<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const result = previous.then(() => task(), () => task());
    const tail = result.then(() => undefined, () => undefined);
    this.#tails.set(key, tail);
    this.#pending.add(tail);
    tail.then(() => {
      this.#pending.delete(tail);
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }

  /** Resolves when every task queued so far has settled. */
  async idle(): Promise<void> {
    while (this.#pending.size) await Promise.allSettled([...this.#pending]);
  }
}
