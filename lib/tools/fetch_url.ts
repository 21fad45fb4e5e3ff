/**
 * The `fetch_url` tool (reference §5.1, decision 19): GET a public web page
 * and return its readable text. Follows up to 5 redirects, refuses private
 * and local addresses (every hop) unless `tools.allow_private_urls` is set,
 * caps the download, and converts HTML to text.
 *
 * Residual risks of the address check, stated rather than hidden:
 * - DNS rebinding (the name resolving to a public address for the check and
 *   to a private one for the connection). Deno's `fetch` resolves names
 *   itself and cannot be handed an address. For `http:` the connection is
 *   pinned to the checked address through a `tcp` transport client, so a
 *   second lookup never happens. For `https:` it is not (that transport
 *   does not do TLS); there a rebound connection must still present a
 *   certificate valid for the public name, which an internal service does
 *   not have, so the request fails instead of leaking.
 * - The check uses `Deno.resolveDns` (DNS servers from resolv.conf) while an
 *   unpinned `fetch` uses the system resolver, which also reads /etc/hosts.
 *   A name the operator maps to a private address in /etc/hosts and that
 *   DNS answers publicly could be reached over `https:`. A name DNS cannot
 *   resolve at all is refused.
 * - Environment proxies (HTTP_PROXY, HTTPS_PROXY) resolve names themselves
 *   for unpinned requests.
 *
 * @module
 */
import { isBlockedHostname, isIpLiteral, isPublicAddress, normaliseHost } from "./address.ts";
import { htmlToText } from "./html_text.ts";
import { readCapped } from "./http.ts";
import type { BuiltinImplementation, BuiltinOptions } from "./options.ts";

/** `max_bytes` when the model does not give it. */
export const DEFAULT_MAX_BYTES = 65536;
/** Download cap when `tools.fetch_max_bytes` is not set. */
export const DEFAULT_DOWNLOAD_CAP = 2_000_000;
/** Whole-request timeout (reference: 20 s). */
export const FETCH_TIMEOUT_MS = 20_000;
/** Redirects followed before giving up. */
export const MAX_REDIRECTS = 5;

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

const HEADERS = {
  "user-agent": "InfiniGPT fetch_url (Matrix chat bot)",
  accept: "text/html,application/xhtml+xml,text/plain;q=0.9,application/json;q=0.9,*/*;q=0.5",
};

/** A tool result: the fetched text, or an error. */
export type FetchUrlResult =
  | { url: string; status: number; content_type: string; content: string; truncated: boolean }
  | { error: string };

/** How the body of a content type is read; `null` when it is not text. */
export type TextKind = "html" | "text" | "json";

const TEXT_APPLICATION_TYPES = new Set([
  "application/xml",
  "application/javascript",
  "application/x-javascript",
  "application/ecmascript",
  "application/x-sh",
  "application/x-yaml",
  "application/yaml",
  "application/toml",
  "application/sql",
  "application/graphql",
  "application/x-ndjson",
  "application/csv",
  "application/x-www-form-urlencoded",
]);

/** How a media type (lower case, no parameters) is turned into text. */
export function textKind(type: string): TextKind | null {
  if (type === "text/html" || type === "application/xhtml+xml") return "html";
  if (type === "application/json" || type.endsWith("+json") || type === "text/json") return "json";
  if (type.startsWith("text/")) return "text";
  if (type.endsWith("+xml") || TEXT_APPLICATION_TYPES.has(type)) return "text";
  return null;
}

/** The media type and charset of a Content-Type header. */
export function parseContentType(header: string): { type: string; charset?: string } {
  const [type, ...params] = header.split(";");
  let charset: string | undefined;
  for (const param of params) {
    const eq = param.indexOf("=");
    if (eq < 0) continue;
    if (param.slice(0, eq).trim().toLowerCase() !== "charset") continue;
    charset = param.slice(eq + 1).trim().replace(/^"(.*)"$/, "$1").trim() || undefined;
  }
  return { type: type.trim().toLowerCase(), charset };
}

/** The charset an HTML document declares in a `<meta>` near its start. */
function metaCharset(bytes: Uint8Array): string | undefined {
  const head = new TextDecoder("latin1").decode(bytes.subarray(0, 2048));
  return /<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)/i.exec(head)?.[1];
}

function decoderFor(label: string | undefined): TextDecoder {
  try {
    return new TextDecoder(label ?? "utf-8");
  } catch {
    return new TextDecoder("utf-8");
  }
}

/**
 * Cuts `text` to at most `maxBytes` UTF-8 bytes without splitting a
 * character (a partial trailing character is dropped).
 */
export function truncateUtf8(text: string, maxBytes: number): { text: string; truncated: boolean } {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length <= maxBytes) return { text, truncated: false };
  let end = maxBytes;
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  return { text: new TextDecoder().decode(bytes.subarray(0, end)), truncated: true };
}

/** The system's A and AAAA records of `host`; one of the two may fail. */
async function resolveDns(host: string, signal: AbortSignal): Promise<string[]> {
  const results = await Promise.allSettled([
    Deno.resolveDns(host, "A", { signal }),
    Deno.resolveDns(host, "AAAA", { signal }),
  ]);
  const addresses = results.flatMap((r) => r.status === "fulfilled" ? r.value : []);
  if (addresses.length === 0) {
    const failure = results.find((r) => r.status === "rejected");
    if (failure) throw failure.reason;
  }
  return addresses;
}

type HostCheck = { refused: true } | { refused: false; address?: string } | { error: string };

/**
 * Decides whether `hostname` may be fetched: refused when it is a local or
 * metadata name, or when any address it resolves to is not public. Answers
 * the address to connect to (IPv4 first) for a name.
 */
async function checkHost(
  hostname: string,
  options: BuiltinOptions,
  signal: AbortSignal,
): Promise<HostCheck> {
  const host = normaliseHost(hostname);
  if (isBlockedHostname(host)) return { refused: true };
  if (isIpLiteral(host)) return isPublicAddress(host) ? { refused: false } : { refused: true };
  let addresses: string[];
  try {
    addresses = await (options.resolve ? options.resolve(host) : resolveDns(host, signal));
  } catch (error) {
    if (signal.aborted) throw error;
    return { error: `could not resolve ${host}: ${describe(error)}` };
  }
  if (addresses.length === 0) return { error: `could not resolve ${host}` };
  if (!addresses.every(isPublicAddress)) return { refused: true };
  const address = addresses.find((a) => !a.includes(":")) ?? addresses[0];
  return { refused: false, address };
}

/**
 * An HTTP client whose connections all go to `address` (the checked one)
 * whatever the URL's host name resolves to; the URL's host still goes in
 * the Host header. Plain HTTP only: this transport does not speak TLS.
 */
export function pinnedClient(url: URL, address: string): Deno.HttpClient {
  const port = url.port ? Number(url.port) : 80;
  const hostname = address.includes(":") ? `[${address.replace(/%.*$/, "")}]` : address;
  return Deno.createHttpClient({ proxy: { transport: "tcp", hostname, port } });
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    if (error.message === "fetch failed" && error.cause instanceof Error) {
      return error.cause.message;
    }
    return error.message;
  }
  return String(error);
}

function clampInt(value: unknown, fallback: number, min: number, max: number): number {
  const n = typeof value === "number" && Number.isFinite(value) ? Math.floor(value) : fallback;
  return Math.min(max, Math.max(min, n));
}

function sniff(bytes: Uint8Array): { type: string; kind: TextKind | null } {
  const start = bytes.subarray(0, 1024);
  if (start.includes(0)) return { type: "application/octet-stream", kind: null };
  const text = new TextDecoder().decode(start);
  if (/^\s*<(!doctype\s+html|html|head|body)\b/i.test(text)) {
    return { type: "text/html", kind: "html" };
  }
  return { type: "text/plain", kind: "text" };
}

/** Turns a final 2xx response into the tool result. */
async function readResponse(
  response: Response,
  url: URL,
  maxBytes: number,
  cap: number,
): Promise<FetchUrlResult> {
  const header = response.headers.get("content-type") ?? "";
  let { type, charset } = parseContentType(header);
  let kind = type ? textKind(type) : null;
  if (type && !kind) {
    await response.body?.cancel().catch(() => {});
    return { error: `Unsupported content type: ${type}` };
  }
  const { bytes, capped } = await readCapped(response.body, cap);
  if (!type) {
    ({ type, kind } = sniff(bytes));
    if (!kind) return { error: `Unsupported content type: ${type}` };
  }
  if (!charset && kind === "html") charset = metaCharset(bytes);
  // A body cut by the cap may end inside a character: leave that one out.
  const text = decoderFor(charset).decode(bytes, { stream: capped });
  const content = kind === "html" ? htmlToText(text) : text;
  const cut = truncateUtf8(content, maxBytes);
  return {
    url: url.href,
    status: response.status,
    content_type: type,
    content: cut.text,
    truncated: cut.truncated || capped,
  };
}

/**
 * Fetches `args.url` as `fetch_url` does. `timeoutMs` covers the whole call
 * (every hop and the body).
 */
export async function fetchReadable(
  args: Record<string, unknown>,
  signal: AbortSignal,
  options: BuiltinOptions,
  timeoutMs = FETCH_TIMEOUT_MS,
): Promise<FetchUrlResult> {
  const raw = typeof args.url === "string" ? args.url.trim() : String(args.url ?? "");
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { error: `Invalid URL: ${raw}` };
  }
  const cap = clampInt(options.fetchMaxBytes, DEFAULT_DOWNLOAD_CAP, 1, Number.MAX_SAFE_INTEGER);
  const maxBytes = clampInt(args.max_bytes, DEFAULT_MAX_BYTES, 1, cap);
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), timeoutMs);
  const hops: HopOptions = {
    options,
    signal: AbortSignal.any([signal, timeout.signal]),
    cap,
    maxBytes,
  };
  try {
    for (let hop = 0;; hop++) {
      const result = await fetchHop(url, hop, hops);
      if (!("next" in result)) return result;
      url = result.next;
    }
  } catch (error) {
    if (timeout.signal.aborted) {
      return { error: `Request failed: timed out after ${timeoutMs / 1000} s` };
    }
    if (signal.aborted) return { error: "Request failed: cancelled" };
    return { error: `Request failed: ${describe(error)}` };
  } finally {
    clearTimeout(timer);
  }
}

/** What every request of one `fetch_url` call shares. */
interface HopOptions {
  options: BuiltinOptions;
  /** The caller's signal and the whole call's timeout. */
  signal: AbortSignal;
  /** Download cap (bytes). */
  cap: number;
  /** The longest text returned (bytes). */
  maxBytes: number;
}

/** One request of the redirect chain: the tool result, or the URL to go on to. */
async function fetchHop(
  url: URL,
  hop: number,
  o: HopOptions,
): Promise<FetchUrlResult | { next: URL }> {
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return { error: "Only http and https URLs are supported" };
  }
  let client: Deno.HttpClient | undefined;
  if (!o.options.allowPrivateUrls) {
    const check = await checkHost(url.hostname, o.options, o.signal);
    if ("error" in check) return { error: `Request failed: ${check.error}` };
    if (check.refused) {
      return { error: `Refused: ${url.hostname} is a private or local address` };
    }
    if (check.address && url.protocol === "http:") client = pinnedClient(url, check.address);
  }
  try {
    const init: RequestInit & { client?: Deno.HttpClient } = {
      redirect: "manual",
      signal: o.signal,
      headers: HEADERS,
    };
    if (client) init.client = client;
    const response = await (o.options.fetch ?? fetch)(url.href, init);
    const location = response.headers.get("location");
    if (REDIRECT_STATUSES.has(response.status) && location) {
      await response.body?.cancel().catch(() => {});
      return redirectTarget(url, location, hop);
    }
    if (response.status < 200 || response.status > 299) {
      await response.body?.cancel().catch(() => {});
      return { error: `Request failed: HTTP ${response.status}` };
    }
    return await readResponse(response, url, o.maxBytes, o.cap);
  } finally {
    client?.close();
  }
}

/** Where a redirect from `url` leads, unless there were too many or it is not a URL. */
function redirectTarget(url: URL, location: string, hop: number): FetchUrlResult | { next: URL } {
  if (hop >= MAX_REDIRECTS) {
    return { error: `Too many redirects (more than ${MAX_REDIRECTS})` };
  }
  try {
    return { next: new URL(location, url) };
  } catch {
    return { error: `Request failed: invalid redirect location ${location}` };
  }
}

/** The `fetch_url` built-in. */
export const fetchUrl: BuiltinImplementation = {
  run: (args, call, options) => fetchReadable(args, call.signal, options),
};
