/**
 * Waiting, in one place: an abortable {@link delay}, a {@link deadline} for a
 * promise, {@link retry} with backoff (in the manner of std's
 * `async/delay.ts`, `async/deadline.ts` and `async/retry.ts`), and reading
 * the wait a server asks for ({@link parseRetryAfter}).
 *
 * Every wait clears its timer and removes its abort listener when it ends,
 * however it ends, so a long-lived signal (the bot's stop) collects none.
 *
 * @module
 */

/** Options for {@link delay} and {@link deadline}. */
export interface SignalOptions {
  /** Gives up at once when aborted, rejecting with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Resolves after `ms`; rejects with the signal's reason as soon as it aborts
 * (at once when it already has).
 */
export function delay(ms: number, options: SignalOptions = {}): Promise<void> {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** The promise given to {@link deadline} did not settle in time. */
export class DeadlineError extends Error {
  /** The time it had (ms). */
  readonly ms: number;

  /** The error for a deadline of `ms`; the message says it in seconds. */
  constructor(ms: number) {
    super(`timed out after ${Math.round(ms / 100) / 10} s`);
    this.name = "DeadlineError";
    this.ms = ms;
  }
}

/**
 * Settles like `promise`, or rejects with a {@link DeadlineError} after `ms`,
 * or with the signal's reason when it aborts first. The work behind
 * `promise` is not cancelled (its owner does that); its late rejection is
 * not left unhandled.
 */
export function deadline<T>(
  promise: Promise<T>,
  ms: number,
  options: SignalOptions = {},
): Promise<T> {
  const { signal } = options;
  if (signal?.aborted) {
    promise.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const end = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
    const onAbort = () => {
      end();
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      end();
      reject(new DeadlineError(ms));
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
    promise.then((value) => {
      end();
      resolve(value);
    }, (error) => {
      end();
      reject(error);
    });
  });
}

/** Options for {@link retry}. */
export interface RetryOptions {
  /**
   * The wait before each retry (ms): a list whose last entry repeats (an
   * empty list retries nothing), or a function of the retry's index (0 for
   * the first retry).
   */
  delays: readonly number[] | ((retry: number) => number);
  /** Retries at most this many times (default: no limit). */
  maxRetries?: number;
  /** Whether an error is worth another attempt (default: every error). */
  isRetriable?: (error: unknown) => boolean;
  /** The wait the error asks for (a `Retry-After`); it replaces the delay. */
  retryAfterMs?: (error: unknown) => number | undefined;
  /** An error that would wait longer than this is thrown at once. */
  maxDelayMs?: number;
  /** Told of each retry (numbered from 1) before its wait, for the log. */
  onRetry?: (error: unknown, retry: number, delayMs: number) => void;
  /**
   * Stops retrying: an attempt failing after the abort throws its error as
   * it is; a wait in progress rejects with the signal's reason.
   */
  signal?: AbortSignal;
}

/** The wait before the retry after `error`, or `undefined` when `error` is final. */
function waitBefore(error: unknown, retries: number, options: RetryOptions): number | undefined {
  if (options.signal?.aborted) return undefined;
  if (retries >= (options.maxRetries ?? Infinity)) return undefined;
  if (options.isRetriable && !options.isRetriable(error)) return undefined;
  const { delays } = options;
  const wait = options.retryAfterMs?.(error) ??
    (typeof delays === "function" ? delays(retries) : delays[Math.min(retries, delays.length - 1)]);
  if (wait === undefined || wait > (options.maxDelayMs ?? Infinity)) return undefined;
  return wait;
}

/**
 * Runs `fn` until it succeeds, waiting between attempts; throws the last
 * error when it is not retriable, the retries or the longest wait are used
 * up, or the signal aborted.
 */
export async function retry<T>(fn: () => Promise<T>, options: RetryOptions): Promise<T> {
  for (let retries = 0;; retries++) {
    try {
      return await fn();
    } catch (error) {
      const wait = waitBefore(error, retries, options);
      if (wait === undefined) throw error;
      options.onRetry?.(error, retries + 1, wait);
      await delay(wait, { signal: options.signal });
    }
  }
}

/**
 * The wait (ms) an HTTP answer asks for: `retry-after-ms`, else
 * `Retry-After` in seconds or as an HTTP date; `undefined` when it asks for
 * none or says something else.
 */
export function parseRetryAfter(
  headers: Headers | undefined,
  now: number = Date.now(),
): number | undefined {
  if (!headers) return undefined;
  const ms = Number(headers.get("retry-after-ms"));
  if (headers.get("retry-after-ms") && Number.isFinite(ms) && ms >= 0) return ms;
  const value = headers.get("retry-after");
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  // Every HTTP-date form starts with a day name; Date.parse alone accepts
  // garbage such as "-5" or "wait 12" as dates in the past.
  if (!/^(mon|tue|wed|thu|fri|sat|sun)/i.test(value.trim())) return undefined;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
