/**
 * The homeserver's client API as the session needs it, before the SDK
 * client exists (checking a session, logging in): each request with a
 * timeout, error answers with their `Retry-After`, and retries with backoff
 * while the homeserver cannot be reached, fails or is busy.
 *
 * @module
 */
import { parseRetryAfter, retry } from "./async.ts";
import {
  classifyNetworkError,
  HOMESERVER_TIMEOUT_MS,
  HomeserverError,
  seconds,
  sentence,
} from "./homeserver.ts";
import { getLogger } from "./log.ts";

const log = getLogger("session");

/** A Matrix error answer. */
export class MatrixHttpError extends Error {
  /** The HTTP status. */
  readonly status: number;
  /** The Matrix error code (`M_FORBIDDEN`, …). */
  readonly errcode?: string;
  /** The wait the homeserver asked for (ms). */
  readonly retryAfterMs?: number;
  /** An error answer. */
  constructor(status: number, errcode: string | undefined, message: string, retryAfterMs?: number) {
    super(message);
    this.status = status;
    this.errcode = errcode;
    this.retryAfterMs = retryAfterMs;
  }
}

/** Options of every request. */
export interface ApiOptions {
  /** Replaces global fetch (tests). */
  fetch?: typeof fetch;
  /** Stops the retries (shutdown while the homeserver is down). */
  signal?: AbortSignal;
  /** Backoff delays while the homeserver is unreachable (ms); the last repeats. */
  backoffMs?: readonly number[];
  /** Timeout of each request (default {@link HOMESERVER_TIMEOUT_MS}; tests shorten it). */
  timeoutMs?: number;
}

/** A base URL without trailing slashes. */
export function baseUrl(server: string): string {
  return server.replace(/\/+$/, "");
}

/**
 * One request to the homeserver, within the timeout; a network failure
 * becomes a {@link HomeserverError} naming its cause, an error answer a
 * {@link MatrixHttpError}. Stopping rejects with the stop signal's reason.
 */
export async function call(
  options: ApiOptions,
  homeserver: string,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<Record<string, unknown>> {
  const url = `${baseUrl(homeserver)}${path}`;
  const timeoutMs = options.timeoutMs ?? HOMESERVER_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  let response: Response;
  let json: Record<string, unknown>;
  try {
    response = await (options.fetch ?? fetch)(url, {
      method,
      headers: {
        ...(body ? { "content-type": "application/json" } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
      signal: options.signal ? AbortSignal.any([options.signal, timeout]) : timeout,
    });
    json = await response.json().catch(() => ({})) as Record<string, unknown>;
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    throw new HomeserverError(classifyNetworkError(error, url, timeoutMs));
  }
  if (!response.ok) {
    const errcode = typeof json.errcode === "string" ? json.errcode : undefined;
    const retry = typeof json.retry_after_ms === "number"
      ? json.retry_after_ms
      : parseRetryAfter(response.headers);
    const said = typeof json.error === "string" && json.error ? `: ${json.error}` : "";
    throw new MatrixHttpError(
      response.status,
      errcode,
      `HTTP ${response.status}${errcode ? ` ${errcode}` : ""} from ${url}${said}`,
      retry,
    );
  }
  return json;
}

/** Unreachable, not (yet) a homeserver, 5xx, rate limited: worth waiting for. */
function isTransient(error: unknown): boolean {
  return error instanceof HomeserverError ||
    (error instanceof MatrixHttpError &&
      (error.status >= 500 || error.status === 429 || error.errcode === "M_LIMIT_EXCEEDED"));
}

/**
 * Runs `task`, retrying while the homeserver is unreachable, 5xx or rate
 * limiting: the operator reads why, and the bot starts once it is fixed.
 */
export function withRetry<T>(
  options: ApiOptions,
  what: string,
  task: () => Promise<T>,
): Promise<T> {
  return retry(task, {
    delays: options.backoffMs ?? [1000, 2000, 4000, 8000, 15_000, 30_000, 60_000],
    isRetriable: isTransient,
    retryAfterMs: (error) => (error instanceof MatrixHttpError && error.retryAfterMs) || undefined,
    signal: options.signal,
    onRetry: (error, _retry, delay) =>
      log.warn(
        `${what} failed: ${sentence((error as Error).message)} Retrying in ${seconds(delay)} s.`,
      ),
  });
}
