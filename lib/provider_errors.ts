/**
 * What went wrong talking to a provider: whatever the `openai` client threw,
 * classified into a few kinds safe to show users, and whether it is worth
 * another attempt.
 *
 * @module
 */
import OpenAI from "openai";

/** What went wrong talking to a provider, in words safe to show users. */
export type FailureKind =
  | "timeout"
  | "unreachable"
  | "auth"
  | "not_found"
  | "rate_limited"
  | "bad_request"
  | "too_long"
  | "server_error"
  | "invalid_response"
  | "aborted";

/** A provider failure with a secret-free classification. */
export class ProviderError extends Error {
  /** What went wrong, for the user. */
  readonly kind: FailureKind;
  /** The HTTP status, when the provider answered. */
  readonly status?: number;
  /** A failure of `kind`; `message` is for the log. */
  constructor(kind: FailureKind, message: string, status?: number, options?: ErrorOptions) {
    super(message, options);
    this.name = "ProviderError";
    this.kind = kind;
    this.status = status;
  }
}

const RETRY_STATUS = new Set([429, 502, 503, 504]);

function causeText(error: unknown): string {
  const parts: string[] = [];
  let e: unknown = error;
  for (let i = 0; e && i < 5; i++) {
    if (e instanceof Error) {
      parts.push(e.message);
      e = e.cause;
    } else {
      parts.push(String(e));
      break;
    }
  }
  return parts.join(" / ");
}

// Deno: "error reading a body from connection"; Node/undici: "terminated" (other side closed).
const BODY_READ_FAILURE =
  /body from connection|connection (reset|closed|aborted)|econnreset|terminated|other side closed|unexpected eof/i;

/** Turns whatever the openai client threw into a {@link ProviderError}. */
export function classify(error: unknown): ProviderError {
  if (error instanceof ProviderError) return error;
  if (error instanceof OpenAI.APIUserAbortError) {
    return new ProviderError("aborted", "request aborted", undefined, { cause: error });
  }
  if (error instanceof OpenAI.APIConnectionTimeoutError) {
    return new ProviderError("timeout", "request timed out", undefined, { cause: error });
  }
  if (error instanceof OpenAI.APIConnectionError) {
    return new ProviderError(
      "unreachable",
      `connection failed: ${causeText(error.cause)}`,
      undefined,
      {
        cause: error,
      },
    );
  }
  if (error instanceof OpenAI.APIError && typeof error.status === "number") {
    const status = error.status;
    const text = error.message.toLowerCase();
    const kind: FailureKind = status === 401 || status === 403
      ? "auth"
      : status === 404
      ? "not_found"
      : status === 429
      ? "rate_limited"
      : status === 413 || text.includes("context_length") || text.includes("context length") ||
          text.includes("maximum context")
      ? "too_long"
      : status >= 500
      ? "server_error"
      : "bad_request";
    return new ProviderError(kind, `HTTP ${status}: ${error.message}`, status, { cause: error });
  }
  if (error instanceof DOMException && error.name === "AbortError") {
    return new ProviderError("aborted", "request aborted", undefined, { cause: error });
  }
  // The connection dropped while the body was read (after the headers): the
  // client throws fetch's own TypeError, not an APIConnectionError.
  if (error instanceof TypeError && BODY_READ_FAILURE.test(causeText(error))) {
    return new ProviderError(
      "unreachable",
      `connection lost: ${causeText(error)}`,
      undefined,
      { cause: error },
    );
  }
  return new ProviderError("invalid_response", causeText(error), undefined, { cause: error });
}

/** Whether a failure is worth another attempt: 429/502/503/504, connection resets. */
export function isRetryable(error: ProviderError): boolean {
  if (error.status !== undefined) return RETRY_STATUS.has(error.status);
  if (error.kind !== "unreachable") return false;
  // Refused connections will be refused again; resets and early closes are transient.
  return !/refused|not known|name resolution|dns/i.test(error.message);
}
