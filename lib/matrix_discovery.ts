/**
 * Finding the homeserver (decision 33): `matrix.server` is a server name or
 * a URL. A name is looked up at `https://<name>/.well-known/matrix/client`
 * (`m.homeserver.base_url`), else used as `https://<name>`; a URL is used
 * when it answers `/_matrix/client/versions` like a homeserver, else its own
 * `.well-known` is followed. Every request has a timeout; every failure says
 * its cause and what to try (lib/homeserver.ts).
 *
 * @module
 */
import { deadline } from "./async.ts";
import {
  checkVersionsAnswer,
  classifyNetworkError,
  type Failure,
  HOMESERVER_TIMEOUT_MS,
  HomeserverError,
  hostPortOf,
  noTlsAnswerFailure,
  parseServerRef,
  parseWellKnown,
  type WellKnown,
  wellKnownFailure,
  wellKnownUrl,
} from "./homeserver.ts";

/**
 * An https request still unanswered after this long gets a second look at
 * its port: a plain-HTTP server (Synapse's own listener, for one) never
 * answers a TLS hello, so without it the operator would see only a timeout.
 */
export const TLS_PROBE_AFTER_MS = 2_000;

/** How long the second look waits for a TLS handshake, then for a plain-HTTP answer. */
export const TLS_PROBE_TIMEOUT_MS = 3_000;

/** Options for {@link resolveHomeserver} and {@link getText}. */
export interface DiscoveryOptions {
  fetch?: typeof fetch;
  /** Per request (default {@link HOMESERVER_TIMEOUT_MS}). */
  timeoutMs?: number;
  /** The bot is stopping: give up at once (rejects with the signal's reason). */
  signal?: AbortSignal;
  /** Defaults {@link TLS_PROBE_AFTER_MS}, {@link TLS_PROBE_TIMEOUT_MS}. */
  tlsProbeAfterMs?: number;
  tlsProbeTimeoutMs?: number;
}

/** The homeserver found, and how. */
export interface Resolved {
  /** The client-server API base URL. */
  baseUrl: string;
  /** The `.well-known` document that named it, when one did. */
  via?: string;
}

/**
 * A fetch that gives up after `timeoutMs` except for requests `skip` says
 * are long-polls. The timeout aborts with a `TimeoutError`, which the
 * Matrix SDK reports as a `ConnectionError` (retried like a network error).
 */
export function fetchWithTimeout(
  base: typeof fetch,
  timeoutMs: number = HOMESERVER_TIMEOUT_MS,
  skip: (url: string) => boolean = () => false,
): typeof fetch {
  return (input, init) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    if (skip(url)) return base(input, init);
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    return base(input, { ...init, signal });
  };
}

/**
 * Runs `use` on a new connection, giving up after `ms` (or on `signal`)
 * with `silent`; `failed` when connecting or `use` throws. The connection
 * is closed in every case, also when it is only made after the wait ended.
 */
async function withConnection<C extends { close(): void }, T>(
  connect: () => Promise<C>,
  use: (conn: C) => Promise<T>,
  outcomes: { silent: T; failed: T },
  ms: number,
  signal: AbortSignal,
): Promise<T> {
  const close = (c: C) => {
    try {
      c.close();
    } catch {
      // Already closed.
    }
  };
  let conn: C | undefined;
  let over = false;
  const work = (async () => {
    const made = await connect();
    if (over) {
      close(made);
      return outcomes.silent;
    }
    conn = made;
    return await use(made);
  })().catch(() => outcomes.failed);
  try {
    // `work` never rejects: the deadline or the signal is the silence.
    return await deadline(work, ms, { signal }).catch(() => outcomes.silent);
  } finally {
    over = true;
    if (conn) {
      close(conn);
      // Settles at once now that its connection is closed.
      await work;
    }
  }
}

/** Whether `host:port` answers a plain HTTP request (within `timeoutMs`). */
function speaksPlainHttp(
  host: string,
  port: number,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<boolean> {
  return withConnection(
    () => Deno.connect({ hostname: host, port }),
    async (conn) => {
      await conn.write(new TextEncoder().encode(`HEAD / HTTP/1.0\r\nHost: ${host}\r\n\r\n`));
      const buffer = new Uint8Array(5);
      let got = 0;
      while (got < 5) {
        const n = await conn.read(buffer.subarray(got));
        if (n === null) break;
        got += n;
      }
      return new TextDecoder().decode(buffer.subarray(0, got)) === "HTTP/";
    },
    { silent: false, failed: false },
    timeoutMs,
    signal,
  );
}

/**
 * The second look at an https port that has not answered: a TLS handshake,
 * and when that gets no answer, a plain HTTP request. Resolves with a
 * failure only when it is sure (the port answers plain HTTP), so a slow but
 * working server is never given up early.
 */
async function probeTls(
  url: string,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<Failure | undefined> {
  const { host, port, hostPort } = hostPortOf(url);
  const hostname = host.replace(/^\[|\]$/g, "");
  const outcome = await withConnection(
    () => Deno.connectTls({ hostname, port }),
    async (conn) => {
      await conn.handshake();
      return "done" as const;
    },
    { silent: "silent" as const, failed: "failed" as const },
    timeoutMs,
    signal,
  );
  if (outcome !== "silent" || signal.aborted) return undefined;
  const plain = await speaksPlainHttp(hostname, port, timeoutMs, signal);
  return plain ? noTlsAnswerFailure(hostPort, timeoutMs, true) : undefined;
}

/** A failed https request whose cause a plain-HTTP check can make sure of. */
async function refineTls(
  failure: Failure,
  url: string,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<Failure> {
  if (failure.kind !== "tls" || !url.startsWith("https:") || /certificate/.test(failure.reason)) {
    return failure;
  }
  const { host, port, hostPort } = hostPortOf(url);
  if (await speaksPlainHttp(host.replace(/^\[|\]$/g, ""), port, timeoutMs, signal)) {
    return {
      ...failure,
      hint: `${hostPort} answers plain HTTP: use http://${hostPort} in matrix.server`,
    };
  }
  return failure;
}

/**
 * GETs `url` and reads the body, within the timeout; a network failure
 * becomes a {@link HomeserverError} naming its cause. Stopping rejects with
 * the stop signal's reason.
 */
export async function getText(
  url: string,
  options: DiscoveryOptions = {},
): Promise<{ url: string; status: number; body: string }> {
  const timeoutMs = options.timeoutMs ?? HOMESERVER_TIMEOUT_MS;
  const probeTimeoutMs = options.tlsProbeTimeoutMs ?? TLS_PROBE_TIMEOUT_MS;
  const done = new AbortController();
  const probed = new AbortController();
  const signals = [AbortSignal.timeout(timeoutMs), probed.signal];
  if (options.signal) signals.push(options.signal);
  let probe: Promise<void> | undefined;
  let probeFailure: Failure | undefined;
  const timer = url.startsWith("https:")
    ? setTimeout(() => {
      probe = probeTls(url, probeTimeoutMs, done.signal).then((failure) => {
        if (failure && !done.signal.aborted) {
          probeFailure = failure;
          probed.abort();
        }
      });
    }, options.tlsProbeAfterMs ?? TLS_PROBE_AFTER_MS)
    : undefined;
  try {
    const response = await (options.fetch ?? fetch)(url, {
      headers: { accept: "application/json" },
      signal: AbortSignal.any(signals),
    });
    return { url, status: response.status, body: await response.text() };
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    if (probeFailure) throw new HomeserverError(probeFailure);
    const failure = classifyNetworkError(error, url, timeoutMs);
    throw new HomeserverError(await refineTls(failure, url, probeTimeoutMs, done.signal));
  } finally {
    clearTimeout(timer);
    done.abort();
    await probe;
  }
}

async function versionsFailure(
  baseUrl: string,
  options: DiscoveryOptions,
): Promise<Failure | undefined> {
  return checkVersionsAnswer(await getText(`${baseUrl}/_matrix/client/versions`, options));
}

async function wellKnown(url: string, options: DiscoveryOptions): Promise<WellKnown> {
  return parseWellKnown(await getText(url, options));
}

/** Adds where a URL came from to the failures found at it. */
function named(error: unknown, via: string): unknown {
  if (!(error instanceof HomeserverError)) return error;
  const f = error.failure;
  return new HomeserverError({ ...f, reason: `${f.reason} (the homeserver ${via} names)` });
}

/**
 * Finds the homeserver's base URL for `matrix.server`, checking that it
 * answers like a Matrix homeserver. Throws {@link HomeserverError} (worth
 * retrying: the server may come up, DNS or a certificate may be fixed).
 */
export async function resolveHomeserver(
  server: string,
  options: DiscoveryOptions = {},
): Promise<Resolved> {
  const ref = parseServerRef(server);
  if (!ref) {
    throw new HomeserverError({
      kind: "other",
      reason: `matrix.server "${server}" is neither a URL nor a server name`,
    });
  }
  const wellKnownAt = wellKnownUrl(ref);
  if (ref.kind === "name") {
    const found = await wellKnown(wellKnownAt, options);
    if ("error" in found) throw new HomeserverError(wellKnownFailure(found.error));
    if ("baseUrl" in found) {
      const failure = await versionsFailure(found.baseUrl, options).catch((e) => {
        throw named(e, wellKnownAt);
      });
      if (failure) throw named(new HomeserverError(failure), wellKnownAt);
      return { baseUrl: found.baseUrl, via: wellKnownAt };
    }
    const baseUrl = `https://${ref.name}`;
    const failure = await versionsFailure(baseUrl, options);
    if (failure) throw new HomeserverError(failure);
    return { baseUrl };
  }
  const failure = await versionsFailure(ref.url, options);
  if (!failure) return { baseUrl: ref.url };
  // An answer, but not a homeserver's (a website, its proxy): the site may
  // name its homeserver, as the Matrix spec lets a server name do.
  const found = await wellKnown(wellKnownAt, options).catch((error) => {
    if (options.signal?.aborted) throw error;
    return { absent: String(error) } as WellKnown;
  });
  if ("baseUrl" in found && found.baseUrl !== ref.url) {
    const next = await versionsFailure(found.baseUrl, options).catch((e) => {
      throw named(e, wellKnownAt);
    });
    if (next) throw named(new HomeserverError(next), wellKnownAt);
    return { baseUrl: found.baseUrl, via: wellKnownAt };
  }
  throw new HomeserverError(failure);
}
