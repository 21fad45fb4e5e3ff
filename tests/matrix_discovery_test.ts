import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import { fetchWithTimeout, getText, resolveHomeserver } from "../lib/matrix_discovery.ts";
import { type Failure, HomeserverError } from "../lib/homeserver.ts";

const VERSIONS = { versions: ["v1.11"] };
const NOT_FOUND = () => new Response("<html><h1>Not Found</h1></html>", { status: 404 });

/** An HTTP server on 127.0.0.1; `routes` maps a path to its answer, others get an HTML 404. */
function serve(routes: Record<string, () => Response> = {}): Deno.HttpServer<Deno.NetAddr> & {
  url: string;
  seen: string[];
} {
  const seen: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (r) => {
    const path = new URL(r.url).pathname;
    seen.push(path);
    return (routes[path] ?? NOT_FOUND)();
  });
  return Object.assign(server, { url: `http://127.0.0.1:${server.addr.port}`, seen });
}

function homeserver() {
  return serve({ "/_matrix/client/versions": () => Response.json(VERSIONS) });
}

function wellKnown(baseUrl: string) {
  return serve({
    "/.well-known/matrix/client": () => Response.json({ "m.homeserver": { base_url: baseUrl } }),
  });
}

/** A TCP server that accepts connections and never answers (until closed). */
function silent(): Disposable & { port: number } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  (async () => {
    for await (const conn of listener) conns.push(conn);
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    [Symbol.dispose]() {
      listener.close();
      conns.forEach((c) => c.close());
    },
  };
}

/**
 * A plain-HTTP server that, like Synapse's (Twisted), waits for the end of
 * the request head before answering: a TLS hello never ends one, so an
 * https request to it gets no answer at all.
 */
function headWaiter(): Disposable & { port: number } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  const handle = async (conn: Deno.Conn) => {
    conns.add(conn);
    let text = "";
    const buffer = new Uint8Array(4096);
    try {
      while (!text.includes("\r\n\r\n")) {
        const n = await conn.read(buffer);
        if (n === null) return;
        text += new TextDecoder().decode(buffer.subarray(0, n));
      }
      await conn.write(
        new TextEncoder().encode("HTTP/1.0 404 Not Found\r\ncontent-length: 0\r\n\r\n"),
      );
    } catch {
      // Closed by the test.
    } finally {
      conns.delete(conn);
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    }
  };
  (async () => {
    for await (const conn of listener) void handle(conn);
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    [Symbol.dispose]() {
      listener.close();
      for (const c of conns) c.close();
    },
  };
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function failureOf(promise: Promise<unknown>): Promise<Failure> {
  const error = await promise.then(() => undefined, (e) => e);
  ok(error instanceof HomeserverError, `expected a HomeserverError, got ${error}`);
  return error.failure;
}

/**
 * A fetch that sends `https://<name>/…` to a local plain-HTTP server, so
 * server names can be tested on 127.0.0.1 without certificates.
 */
function viaLocal(names: Record<string, string>): typeof fetch {
  return (input, init) => {
    const url = new URL(
      typeof input === "string" ? input : (input as Request).url ?? String(input),
    );
    const local = names[url.host];
    return fetch(local ? `${local}${url.pathname}${url.search}` : url, init);
  };
}

Deno.test("a URL that answers like a homeserver is used as it is", async () => {
  await using hs = homeserver();
  deepStrictEqual(await resolveHomeserver(hs.url + "/"), { baseUrl: hs.url });
  deepStrictEqual(hs.seen, ["/_matrix/client/versions"], "no .well-known needed");
});

Deno.test("a website URL without .well-known: HTTP 404 from <url>: this does not look like a Matrix homeserver", async () => {
  await using site = serve();
  const failure = await failureOf(resolveHomeserver(site.url));
  strictEqual(failure.kind, "not_homeserver");
  strictEqual(
    failure.reason,
    `HTTP 404 from ${site.url}/_matrix/client/versions: this does not look like a Matrix homeserver`,
  );
  deepStrictEqual(site.seen, ["/_matrix/client/versions", "/.well-known/matrix/client"]);
});

Deno.test("a website URL whose .well-known names the homeserver is followed", async () => {
  await using hs = homeserver();
  await using site = wellKnown(hs.url);
  deepStrictEqual(await resolveHomeserver(site.url), {
    baseUrl: hs.url,
    via: `${site.url}/.well-known/matrix/client`,
  });
});

Deno.test("a .well-known that names something that is not a homeserver says so, and who named it", async () => {
  await using other = serve();
  await using site = wellKnown(other.url);
  const failure = await failureOf(resolveHomeserver(site.url));
  strictEqual(failure.kind, "not_homeserver");
  match(failure.reason, new RegExp(`^HTTP 404 from ${other.url}/_matrix/client/versions: `));
  match(failure.reason, /\(the homeserver .*\.well-known\/matrix\/client names\)$/);
});

Deno.test("a closed port: connection refused (host:port)", async () => {
  const port = freePort();
  const failure = await failureOf(resolveHomeserver(`http://127.0.0.1:${port}`));
  strictEqual(failure.kind, "refused");
  strictEqual(failure.reason, `connection refused (127.0.0.1:${port})`);
});

Deno.test("a server that accepts and never answers: timeout", async () => {
  using server = silent();
  const failure = await failureOf(
    resolveHomeserver(`http://127.0.0.1:${server.port}`, { timeoutMs: 300 }),
  );
  strictEqual(failure.kind, "timeout");
  strictEqual(failure.reason, `timeout: no answer from 127.0.0.1:${server.port} within 0.3 s`);
});

Deno.test("https:// against a plain-HTTP port that answers garbage to TLS: TLS handshake failed, use http://", async () => {
  await using hs = homeserver();
  const port = hs.addr.port;
  const failure = await failureOf(resolveHomeserver(`https://127.0.0.1:${port}`));
  strictEqual(failure.kind, "tls");
  match(failure.reason, /^TLS handshake failed: /);
  strictEqual(
    failure.hint,
    `127.0.0.1:${port} answers plain HTTP: use http://127.0.0.1:${port} in matrix.server`,
  );
});

Deno.test("https:// against a plain-HTTP port that never answers TLS is found out before the timeout", async () => {
  using server = headWaiter();
  const failure = await failureOf(
    resolveHomeserver(`https://127.0.0.1:${server.port}`, {
      // Long enough that a timeout would fail the test runner's patience,
      // not this assertion: the probe must conclude first.
      timeoutMs: 60_000,
      tlsProbeAfterMs: 50,
      tlsProbeTimeoutMs: 300,
    }),
  );
  strictEqual(failure.kind, "tls");
  match(
    failure.reason,
    /^TLS handshake failed: no TLS answer from 127\.0\.0\.1:\d+ within 0\.3 s, and it answers plain HTTP$/,
  );
  strictEqual(failure.hint, `Use http://127.0.0.1:${server.port} in matrix.server`);
});

Deno.test("a silent https port that does not speak HTTP either ends in the timeout, not a guess", async () => {
  using server = silent();
  const failure = await failureOf(
    resolveHomeserver(`https://127.0.0.1:${server.port}`, {
      timeoutMs: 1500,
      tlsProbeAfterMs: 50,
      tlsProbeTimeoutMs: 200,
    }),
  );
  strictEqual(failure.kind, "timeout");
});

Deno.test("a server name is resolved through https://<name>/.well-known/matrix/client", async () => {
  await using hs = homeserver();
  await using site = wellKnown(hs.url);
  const resolved = await resolveHomeserver("example.org", {
    fetch: viaLocal({ "example.org": site.url }),
  });
  deepStrictEqual(resolved, {
    baseUrl: hs.url,
    via: "https://example.org/.well-known/matrix/client",
  });
});

Deno.test("a server name without .well-known is used as https://<name>", async () => {
  await using hs = homeserver();
  const resolved = await resolveHomeserver("example.org:8448", {
    fetch: viaLocal({ "example.org:8448": hs.url }),
  });
  deepStrictEqual(resolved, { baseUrl: "https://example.org:8448" });
  deepStrictEqual(hs.seen, ["/.well-known/matrix/client", "/_matrix/client/versions"]);
});

Deno.test("a broken .well-known of a server name is a failure that says what is wrong with it", async () => {
  await using site = serve({
    "/.well-known/matrix/client": () => Response.json({ "m.homeserver": {} }),
  });
  const failure = await failureOf(resolveHomeserver("example.org", {
    fetch: viaLocal({ "example.org": site.url }),
  }));
  strictEqual(failure.kind, "well_known");
  strictEqual(
    failure.reason,
    "server discovery failed: https://example.org/.well-known/matrix/client has no m.homeserver.base_url",
  );
});

Deno.test("a bare server name on a plain-HTTP port fails TLS at once and says to use http://", async () => {
  await using site = serve();
  const port = site.addr.port;
  const failure = await failureOf(resolveHomeserver(`127.0.0.1:${port}`));
  strictEqual(failure.kind, "tls");
  strictEqual(
    failure.hint,
    `127.0.0.1:${port} answers plain HTTP: use http://127.0.0.1:${port} in matrix.server`,
  );
});

Deno.test("stopping ends the wait at once with the stop's reason", async () => {
  using server = silent();
  const controller = new AbortController();
  const pending = resolveHomeserver(`http://127.0.0.1:${server.port}`, {
    signal: controller.signal,
  });
  controller.abort(new Error("stopping"));
  const error = await pending.then(() => undefined, (e) => e);
  match(String(error), /stopping/);
});

Deno.test("getText keeps the status and body of any answer", async () => {
  await using site = serve({ "/x": () => new Response("hello", { status: 418 }) });
  deepStrictEqual(await getText(`${site.url}/x`), {
    url: `${site.url}/x`,
    status: 418,
    body: "hello",
  });
});

Deno.test("fetchWithTimeout gives up on a silent server but leaves long-polls alone", async () => {
  using server = silent();
  const url = `http://127.0.0.1:${server.port}`;
  const timed = fetchWithTimeout(fetch, 200, (u) => u.includes("/sync"));
  const error = await timed(`${url}/_matrix/client/v3/keys/upload`).then(() => undefined, (e) => e);
  strictEqual((error as Error).name, "TimeoutError");
  // The long-poll keeps waiting past the timeout; the caller's own signal ends it.
  const caller = new AbortController();
  const poll = timed(`${url}/_matrix/client/v3/sync?timeout=30000`, { signal: caller.signal })
    .then(() => "answered", (e) => (e as Error).name);
  const outcome = await Promise.race([
    poll,
    new Promise((r) => setTimeout(() => r("still waiting"), 600)),
  ]);
  strictEqual(outcome, "still waiting");
  caller.abort();
  strictEqual(await poll, "AbortError");
});
