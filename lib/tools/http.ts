/**
 * HTTP for tools: one request with its own timeout, tied to the call's
 * abort signal, answering status, headers and body; and reading a body up
 * to a cap.
 *
 * @module
 */

/** A finished HTTP exchange. */
export interface HttpResult {
  status: number;
  ok: boolean;
  headers: Headers;
  text: string;
  /** The body parsed as JSON, `undefined` when it is not JSON. */
  json: unknown;
}

/** Options for {@link request}. */
export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  /** A JSON body (sets content-type). */
  json?: unknown;
  /** Milliseconds before the request is abandoned. */
  timeoutMs: number;
  /** The tool call's signal (timeouts, shutdown). */
  signal?: AbortSignal;
  fetch?: typeof fetch;
}

/** A request that timed out or could not be made, with a short reason. */
export class HttpError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "HttpError";
  }
}

/** Sends one request and reads the whole body. Throws {@link HttpError} on transport failures. */
export async function request(url: string, options: RequestOptions): Promise<HttpResult> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const headers: Record<string, string> = { ...options.headers };
  let body: string | undefined;
  if (options.json !== undefined) {
    headers["content-type"] ??= "application/json";
    body = JSON.stringify(options.json);
  }
  try {
    const response = await (options.fetch ?? fetch)(url, {
      method: options.method ?? (body ? "POST" : "GET"),
      headers,
      body,
      signal,
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: response.status, ok: response.ok, headers: response.headers, text, json };
  } catch (error) {
    if (timeout.aborted) {
      throw new HttpError(`timed out after ${Math.round(options.timeoutMs / 1000)} s`, {
        cause: error,
      });
    }
    if (options.signal?.aborted) throw new HttpError("cancelled", { cause: error });
    throw new HttpError((error as Error).message, { cause: error });
  }
}

/** Reads a body up to `cap` bytes, then stops reading and cancels the rest. */
export async function readCapped(
  body: ReadableStream<Uint8Array> | null,
  cap: number,
): Promise<{ bytes: Uint8Array; capped: boolean }> {
  if (!body) return { bytes: new Uint8Array(), capped: false };
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let capped = false;
  let done = false;
  try {
    while (true) {
      const next = await reader.read();
      if (next.done) {
        done = true;
        break;
      }
      const chunk = next.value;
      if (total + chunk.length > cap) {
        chunks.push(chunk.subarray(0, cap - total));
        total = cap;
        capped = true;
        break;
      }
      chunks.push(chunk);
      total += chunk.length;
    }
  } finally {
    if (!done) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return { bytes, capped };
}
