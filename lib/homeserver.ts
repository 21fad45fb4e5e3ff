/**
 * What the operator's `matrix.server` means and what went wrong when the
 * homeserver cannot be used (decision 33), as pure functions: server name or
 * URL, the `.well-known/matrix/client` answer, the `/_matrix/client/versions`
 * answer, and network errors turned into a cause and what to try. Every
 * user-facing string about homeserver faults lives here.
 *
 * @module
 */

/** Every homeserver request but the `/sync` long-poll gives up after this long. */
export const HOMESERVER_TIMEOUT_MS = 30_000;

/** `matrix.server`, understood. */
export type ServerRef =
  | { kind: "url"; url: string }
  | { kind: "name"; name: string };

// Matrix server name grammar: IPv4, [IPv6] or a DNS name, then an optional port.
const SERVER_NAME =
  /^(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*)(?::(\d{1,5}))?$/;

/**
 * `matrix.server` as a URL (`https://matrix.example.org`) or a server name
 * (`example.org`, `example.org:8448`, `[::1]:8448`); `undefined` when it is
 * neither.
 */
export function parseServerRef(value: string): ServerRef | undefined {
  const text = value.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    try {
      const url = new URL(text);
      if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
      return { kind: "url", url: text.replace(/\/+$/, "") };
    } catch {
      return undefined;
    }
  }
  const match = SERVER_NAME.exec(text);
  if (!match || (match[1] !== undefined && Number(match[1]) > 65535)) return undefined;
  return { kind: "name", name: text };
}

/** The client discovery document of a server name or URL's host. */
export function wellKnownUrl(ref: ServerRef): string {
  const origin = ref.kind === "name" ? `https://${ref.name}` : new URL(ref.url).origin;
  return `${origin}/.well-known/matrix/client`;
}

/** What a `.well-known/matrix/client` answer says. */
export type WellKnown =
  | { baseUrl: string }
  | { absent: string }
  | { error: string };

/** Reads a `.well-known/matrix/client` answer. Pure. */
export function parseWellKnown(answer: { url: string; status: number; body: string }): WellKnown {
  if (answer.status !== 200) return { absent: `HTTP ${answer.status} from ${answer.url}` };
  let json: unknown;
  try {
    json = JSON.parse(answer.body);
  } catch {
    return { error: `${answer.url} is not JSON` };
  }
  const homeserver = json && typeof json === "object"
    ? (json as Record<string, unknown>)["m.homeserver"]
    : undefined;
  const base = homeserver && typeof homeserver === "object"
    ? (homeserver as Record<string, unknown>).base_url
    : undefined;
  if (typeof base !== "string" || !base.trim()) {
    return { error: `${answer.url} has no m.homeserver.base_url` };
  }
  const ref = parseServerRef(base);
  if (ref?.kind !== "url") {
    return { error: `${answer.url}: m.homeserver.base_url "${base}" is not an http(s) URL` };
  }
  return { baseUrl: ref.url };
}

/** Why the homeserver cannot be used, and what to try. */
export interface Failure {
  kind:
    | "refused"
    | "dns"
    | "tls"
    | "timeout"
    | "closed"
    | "unreachable"
    | "protocol"
    | "http"
    | "not_homeserver"
    | "well_known"
    | "other";
  /** The cause, e.g. `connection refused (127.0.0.1:8008)`. */
  reason: string;
  /** What to try, a sentence. */
  hint?: string;
}

/** `text` ending as a sentence, so another can follow it. */
export function sentence(text: string): string {
  return /[.?!]$/.test(text) ? text : `${text}.`;
}

/** The one-line text of a failure: cause, then what to try. */
export function failureText(failure: Failure): string {
  return failure.hint ? `${failure.reason}. ${failure.hint}` : failure.reason;
}

/** The homeserver cannot be used (yet); the message says why and what to try. */
export class HomeserverError extends Error {
  readonly failure: Failure;
  constructor(failure: Failure) {
    super(failureText(failure));
    this.name = "HomeserverError";
    this.failure = failure;
  }
}

const NOT_HOMESERVER_HINT =
  "matrix.server should be the homeserver's client URL (as Element shows it, e.g. " +
  "https://matrix.example.org) or its server name (example.org)";

/**
 * Whether a `/_matrix/client/versions` answer comes from a Matrix
 * homeserver; the failure when it does not. Pure.
 */
export function checkVersionsAnswer(
  answer: { url: string; status: number; body: string },
): Failure | undefined {
  const { url, status } = answer;
  if (status >= 500) {
    return {
      kind: "http",
      reason: `HTTP ${status} from ${url}`,
      hint: "The homeserver, or the proxy in front of it, is not working right now",
    };
  }
  if (status === 200) {
    try {
      const versions = (JSON.parse(answer.body) as { versions?: unknown })?.versions;
      if (Array.isArray(versions) && versions.some((v) => typeof v === "string")) return undefined;
    } catch {
      // Not JSON: reported below.
    }
  }
  return {
    kind: "not_homeserver",
    reason: `HTTP ${status} from ${url}: this does not look like a Matrix homeserver`,
    hint: NOT_HOMESERVER_HINT,
  };
}

/** Seconds for a message: whole from 1 s up, tenths below. */
export function seconds(ms: number): string {
  return ms >= 1000 ? String(Math.round(ms / 1000)) : (ms / 1000).toFixed(1);
}

/** `host:port` of a URL, with the scheme's default port. */
export function hostPortOf(url: string): { host: string; port: number; hostPort: string } {
  try {
    const u = new URL(url);
    const port = Number(u.port) || (u.protocol === "https:" ? 443 : 80);
    return { host: u.hostname, port, hostPort: `${u.hostname}:${port}` };
  } catch {
    return { host: url, port: 0, hostPort: url };
  }
}

/** The names and messages of an error and of its causes, outermost first. */
function chain(error: unknown): Array<{ name: string; message: string }> {
  const out: Array<{ name: string; message: string }> = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 8; depth++) {
    if (current instanceof Error || (typeof current === "object" && "message" in current)) {
      const e = current as { name?: unknown; message?: unknown; cause?: unknown };
      out.push({ name: String(e.name ?? "Error"), message: String(e.message ?? "") });
      current = e.cause;
    } else {
      out.push({ name: "Error", message: String(current) });
      break;
    }
  }
  return out;
}

// Deno's fetch says "error sending request for url (…): client error (Connect): <detail>".
function detailOf(message: string): string {
  const at = message.lastIndexOf("): ");
  return (at === -1 ? message : message.slice(at + 3)).trim();
}

/**
 * The cause of a failed request to the homeserver at `url` (a fetch error,
 * or the SDK's `ConnectionError` around one), and what to try. Pure.
 */
export function classifyNetworkError(
  error: unknown,
  url: string,
  timeoutMs: number = HOMESERVER_TIMEOUT_MS,
): Failure {
  const links = chain(error);
  const lower = links.map((l) => l.message).join(" | ").toLowerCase();
  const { host, hostPort } = hostPortOf(url);
  const detail = detailOf(links.at(-1)?.message ?? String(error));
  const facts: FailureFacts = { lower, host, hostPort, detail, timeoutMs };
  if (links.some((l) => l.name === "TimeoutError")) return NETWORK_FAILURES[0].failure(facts);
  const rule = NETWORK_FAILURES.find((r) => r.pattern.test(lower));
  if (rule) return rule.failure(facts);
  if (links.some((l) => l.name === "AbortError")) {
    return { kind: "timeout", reason: `timeout: the request to ${hostPort} was given up` };
  }
  return { kind: "other", reason: detail || "unknown error" };
}

/** What {@link NETWORK_FAILURES} describe a failure with. */
interface FailureFacts {
  lower: string;
  host: string;
  hostPort: string;
  detail: string;
  timeoutMs: number;
}

/**
 * Network failures by the words of their error chain (lower case), first
 * match wins; the first is also any `TimeoutError` in the chain.
 */
const NETWORK_FAILURES: ReadonlyArray<
  { pattern: RegExp; failure: (facts: FailureFacts) => Failure }
> = [
  {
    pattern: /aborted due to timeout|timed out/,
    failure: ({ hostPort, timeoutMs }) => ({
      kind: "timeout",
      reason: `timeout: no answer from ${hostPort} within ${seconds(timeoutMs)} s`,
      hint: "Is the host up, and is the port in matrix.server the homeserver's?",
    }),
  },
  {
    pattern:
      /dns error|failed to lookup address|name or service not known|nodename nor servname|no such host|temporary failure in name resolution|no address associated/,
    failure: ({ host, detail }) => ({
      kind: "dns",
      reason: `DNS lookup failed for ${host} (${detail})`,
      hint: "Check the host name in matrix.server, and this machine's DNS",
    }),
  },
  {
    pattern: /connection refused|econnrefused|os error 111\b|os error 10061\b/,
    failure: ({ hostPort }) => ({
      kind: "refused",
      reason: `connection refused (${hostPort})`,
      hint:
        "Nothing listens there: is the homeserver running, and is the port in matrix.server right?",
    }),
  },
  {
    pattern: /certificate|\btls\b|handshake|corrupt message|invalidcontenttype|\bssl\b/,
    failure: ({ lower, host, hostPort, detail }) => ({
      kind: "tls",
      reason: `TLS handshake failed: ${detail} (${hostPort})`,
      hint: /certificate/.test(lower)
        ? `The server's certificate is not trusted for ${host} (self-signed, expired or for another name)`
        : `If ${hostPort} is a plain-HTTP port, use http://${hostPort}`,
    }),
  },
  {
    pattern:
      /no route to host|network is unreachable|host is unreachable|os error 11[03]\b|os error 101\b/,
    failure: ({ hostPort, detail }) => ({
      kind: "unreachable",
      reason: `host unreachable (${hostPort}: ${detail})`,
      hint: "Check the network between this machine and the homeserver",
    }),
  },
  {
    pattern: /connection closed|connection reset|broken pipe|unexpected eof|os error 104\b/,
    failure: ({ hostPort }) => ({
      kind: "closed",
      reason: `${hostPort} closed the connection without answering`,
      hint: "Is it the homeserver's HTTP(S) port, and is the scheme (http/https) right?",
    }),
  },
  {
    pattern: /invalid http|http version|parse error|invalid status/,
    failure: ({ hostPort, detail }) => ({
      kind: "protocol",
      reason: `${hostPort} does not answer in HTTP (${detail})`,
      hint: "Is it the homeserver's HTTP(S) port?",
    }),
  },
];

/**
 * A homeserver error as the SDK reports it (a `MatrixError` with an HTTP
 * status, or a `ConnectionError`), in one line: why the sync failed. Pure.
 */
export function describeHomeserverError(
  error: unknown,
  baseUrl: string,
  timeoutMs: number = HOMESERVER_TIMEOUT_MS,
): string {
  if (error instanceof HomeserverError) return error.message;
  const e = error as { httpStatus?: unknown; errcode?: unknown; data?: { error?: unknown } };
  if (error && typeof error === "object" && typeof e.httpStatus === "number") {
    const what = typeof e.errcode === "string" ? ` ${e.errcode}` : "";
    const why = typeof e.data?.error === "string" && e.data.error ? `: ${e.data.error}` : "";
    return `HTTP ${e.httpStatus}${what}${why}`;
  }
  return failureText(classifyNetworkError(error, baseUrl, timeoutMs));
}

/** The failure when `.well-known/matrix/client` is broken (FAIL_PROMPT in the Matrix spec). */
export function wellKnownFailure(error: string): Failure {
  return {
    kind: "well_known",
    reason: `server discovery failed: ${error}`,
    hint: "Fix the .well-known file, or set matrix.server to the homeserver's client URL",
  };
}

/**
 * The failure of a TLS handshake that got no answer, found out by a second
 * look at the port: when it answers plain HTTP, the scheme is wrong.
 */
export function noTlsAnswerFailure(
  hostPort: string,
  waitedMs: number,
  plainHttp: boolean,
): Failure {
  const s = seconds(waitedMs);
  return plainHttp
    ? {
      kind: "tls",
      reason:
        `TLS handshake failed: no TLS answer from ${hostPort} within ${s} s, and it answers plain HTTP`,
      hint: `Use http://${hostPort} in matrix.server`,
    }
    : {
      kind: "tls",
      reason: `TLS handshake failed: no TLS answer from ${hostPort} within ${s} s`,
      hint: `Is ${hostPort} an https port?`,
    };
}

/** What the login (or whoami) answer lacks, as a sentence; `undefined` when complete. Pure. */
export function missingLoginFields(
  answer: unknown,
  fields: readonly string[],
): string | undefined {
  const json = answer && typeof answer === "object" ? answer as Record<string, unknown> : {};
  const missing = fields.filter((f) => typeof json[f] !== "string" || !json[f]);
  return missing.length ? missing.join(", ") : undefined;
}
