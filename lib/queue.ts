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
 * {@link exclusive} runs a task that needs every key at once (a writer
 * among readers): after everything queued before it, before anything after.
 */
export class KeyedQueue {
  readonly #tails = new Map<string, Promise<unknown>>();
  readonly #pending = new Set<Promise<unknown>>();
  /** Settles when the latest exclusive task has; later tasks wait for it. */
  #barrier: Promise<unknown> = Promise.resolve();

  /** Number of keys with queued or running work. */
  get activeKeys(): number {
    return this.#tails.size;
  }

  /** Queues `task` behind earlier tasks of `key`; resolves with its result. */
  push<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = Promise.all([this.#tails.get(key), this.#barrier]);
    return this.#track(previous.then(() => task()), (tail) => {
      this.#tails.set(key, tail);
      tail.then(() => {
        if (this.#tails.get(key) === tail) this.#tails.delete(key);
      });
    });
  }

  /**
   * Runs `task` with every key to itself: after every task queued so far,
   * whatever its key, and before any task queued after this call. Not
   * reentrant: a task of this queue must not wait for it.
   */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    const previous = Promise.all([...this.#tails.values(), this.#barrier]);
    return this.#track(previous.then(() => task()), (tail) => this.#barrier = tail);
  }

  #track<T>(result: Promise<T>, link: (tail: Promise<unknown>) => void): Promise<T> {
    // Tails never reject: a failing task does not stop what is queued after it.
    const tail = result.then(() => undefined, () => undefined);
    link(tail);
    this.#pending.add(tail);
    tail.then(() => this.#pending.delete(tail));
    return result;
  }

  /** Resolves when every task queued so far has settled. */
  async idle(): Promise<void> {
    while (this.#pending.size) await Promise.allSettled([...this.#pending]);
  }
}
