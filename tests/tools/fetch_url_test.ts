import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import {
  fetchReadable,
  fetchUrl,
  parseContentType,
  pinnedClient,
  textKind,
  truncateUtf8,
} from "../../lib/tools/fetch_url.ts";
import type { BuiltinOptions } from "../../lib/tools/options.ts";

type Handler = (request: Request) => Response | Promise<Response>;

/** A local HTTP server on 127.0.0.1 recording the paths it was asked for. */
function startServer(handler: Handler) {
  const paths: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    paths.push(new URL(request.url).pathname);
    return handler(request);
  });
  const port = server.addr.port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    paths,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

/** Runs the tool as the registry does. */
function run(args: Record<string, unknown>, options: BuiltinOptions): Promise<unknown> {
  return fetchUrl.run(args, { signal: new AbortController().signal }, options);
}

/** Fake DNS: names under .test resolve as listed; anything else fails. */
const DNS: Record<string, string[]> = {
  "public.test": ["93.184.216.34"],
  "other.test": ["93.184.216.35", "2606:2800:220:1:248:1893:25c8:1946"],
  "loopback.test": ["127.0.0.1"],
  "mixed.test": ["93.184.216.34", "10.0.0.7"],
  "mapped.test": ["::ffff:127.0.0.1"],
  "nat64.test": ["64:ff9b:1::a00:1"],
  "teredo.test": ["93.184.216.34", "2001:0:4136:e378:8000:63bf:3fff:fdd2"],
  "doc.test": ["3fff::1"],
  "empty.test": [],
};

/**
 * Options with the address check on: DNS is {@link DNS}, and every request
 * that passes the check goes to the local server whatever its host.
 */
function guarded(port: number) {
  const requests: Array<{ url: string; pinned: boolean }> = [];
  const resolved: string[] = [];
  const options: BuiltinOptions = {
    allowPrivateUrls: false,
    resolve: (host) => {
      resolved.push(host);
      const addresses = DNS[host];
      return addresses ? Promise.resolve(addresses) : Promise.reject(new Error("NXDOMAIN"));
    },
    fetch: (input, init) => {
      const { client, ...rest } = (init ?? {}) as RequestInit & { client?: Deno.HttpClient };
      requests.push({ url: String(input), pinned: client !== undefined });
      const target = new URL(String(input));
      target.hostname = "127.0.0.1";
      target.port = String(port);
      return fetch(target, rest);
    },
  };
  return { options, requests, resolved };
}

const LOCAL: BuiltinOptions = { allowPrivateUrls: true };

Deno.test("follows a chain of 3 redirects and reports the final url", async () => {
  await using server = startServer((request) => {
    const path = new URL(request.url).pathname;
    if (path === "/a") return Response.redirect(`${server.url}/b`, 301);
    if (path === "/b") return new Response(null, { status: 302, headers: { location: "c" } });
    if (path === "/c") return new Response(null, { status: 307, headers: { location: "/end" } });
    return new Response("arrived", { headers: { "content-type": "text/plain" } });
  });
  const result = await run({ url: `${server.url}/a` }, LOCAL);
  deepStrictEqual(result, {
    url: `${server.url}/end`,
    status: 200,
    content_type: "text/plain",
    content: "arrived",
    truncated: false,
  });
  deepStrictEqual(server.paths, ["/a", "/b", "/c", "/end"]);
});

function chain(hops: number): Handler {
  return (request) => {
    const n = Number(new URL(request.url).pathname.slice(1));
    if (n < hops) {
      return new Response(null, { status: 308, headers: { location: `/${n + 1}` } });
    }
    return new Response(`done after ${n}`, { headers: { "content-type": "text/plain" } });
  };
}

Deno.test("follows exactly 5 redirects", async () => {
  await using server = startServer(chain(5));
  const result = await run({ url: `${server.url}/0` }, LOCAL) as { content: string; url: string };
  strictEqual(result.content, "done after 5");
  strictEqual(result.url, `${server.url}/5`);
});

Deno.test("refuses a sixth redirect", async () => {
  await using server = startServer(chain(6));
  const result = await run({ url: `${server.url}/0` }, LOCAL);
  deepStrictEqual(result, { error: "Too many redirects (more than 5)" });
  deepStrictEqual(server.paths, ["/0", "/1", "/2", "/3", "/4", "/5"]);
});

Deno.test("reports a redirect without a Location as a failed request", async () => {
  await using server = startServer(() => new Response(null, { status: 302 }));
  deepStrictEqual(await run({ url: server.url }, LOCAL), { error: "Request failed: HTTP 302" });
});

Deno.test("refuses a redirect from a public host to a loopback address", async () => {
  await using server = startServer((request) => {
    const path = new URL(request.url).pathname;
    if (path === "/start") {
      return Response.redirect(`http://127.0.0.1:${server.port}/secret`, 302);
    }
    return new Response("secret");
  });
  const { options, requests } = guarded(server.port);
  const result = await run({ url: `http://public.test:${server.port}/start` }, options);
  deepStrictEqual(result, { error: "Refused: 127.0.0.1 is a private or local address" });
  deepStrictEqual(server.paths, ["/start"]);
  strictEqual(requests.length, 1);
});

Deno.test("refuses a redirect to a name that resolves to a loopback address", async () => {
  await using server = startServer((request) => {
    const path = new URL(request.url).pathname;
    if (path === "/start") return Response.redirect(`http://loopback.test:${server.port}/x`, 302);
    return new Response("secret");
  });
  const { options, resolved } = guarded(server.port);
  const result = await run({ url: `http://public.test:${server.port}/start` }, options);
  deepStrictEqual(result, { error: "Refused: loopback.test is a private or local address" });
  deepStrictEqual(resolved, ["public.test", "loopback.test"]);
  deepStrictEqual(server.paths, ["/start"]);
});

Deno.test("checks every hop and follows redirects between public hosts", async () => {
  await using server = startServer((request) => {
    const url = new URL(request.url);
    if (url.pathname === "/start") return Response.redirect(`http://other.test:${server.port}/end`);
    return new Response("public content", { headers: { "content-type": "text/plain" } });
  });
  const { options, requests, resolved } = guarded(server.port);
  const result = await run({ url: `http://public.test:${server.port}/start` }, options);
  deepStrictEqual(result, {
    url: `http://other.test:${server.port}/end`,
    status: 200,
    content_type: "text/plain",
    content: "public content",
    truncated: false,
  });
  deepStrictEqual(resolved, ["public.test", "other.test"]);
  deepStrictEqual(requests, [
    { url: `http://public.test:${server.port}/start`, pinned: true },
    { url: `http://other.test:${server.port}/end`, pinned: true },
  ]);
});

Deno.test("allows a public IP address without a DNS lookup", async () => {
  await using server = startServer(() => new Response("ok"));
  const { options, requests, resolved } = guarded(server.port);
  const result = await run({ url: `http://93.184.216.34:${server.port}/` }, options) as {
    content: string;
  };
  strictEqual(result.content, "ok");
  deepStrictEqual(resolved, []);
  strictEqual(requests.length, 1);
});

const refused: Array<[url: string, host: string]> = [
  ["http://127.0.0.1/", "127.0.0.1"],
  ["http://127.1/", "127.0.0.1"],
  ["http://2130706433/", "127.0.0.1"],
  ["http://10.1.2.3/", "10.1.2.3"],
  ["http://172.20.0.1/", "172.20.0.1"],
  ["http://192.168.1.1/", "192.168.1.1"],
  ["http://169.254.169.254/latest/meta-data/", "169.254.169.254"],
  ["http://100.64.0.1/", "100.64.0.1"],
  ["http://[::1]/", "[::1]"],
  ["http://[fe80::1]/", "[fe80::1]"],
  ["http://[fd00::1]/", "[fd00::1]"],
  ["http://[::ffff:127.0.0.1]/", "[::ffff:7f00:1]"],
  ["http://[::]/", "[::]"],
  ["http://0.0.0.0/", "0.0.0.0"],
  ["http://localhost/", "localhost"],
  ["http://localhost./", "localhost."],
  ["http://api.localhost:8080/", "api.localhost"],
  ["http://metadata.google.internal/computeMetadata/v1/", "metadata.google.internal"],
  ["https://loopback.test/", "loopback.test"],
  ["http://mixed.test/", "mixed.test"],
  ["http://mapped.test/", "mapped.test"],
  ["http://nat64.test/", "nat64.test"],
  ["http://teredo.test/", "teredo.test"],
  ["http://doc.test/", "doc.test"],
  ["http://[64:ff9b:1::a00:1]/", "[64:ff9b:1::a00:1]"],
  ["http://[64:ff9b::7f00:1]/", "[64:ff9b::7f00:1]"],
  ["http://[::ffff:0:a00:1]/", "[::ffff:0:a00:1]"],
  ["http://[2001::1]/", "[2001::1]"],
  ["http://[2001:2::1]/", "[2001:2::1]"],
  ["http://[3fff::1]/", "[3fff::1]"],
  ["http://[2002:7f00:1::]/", "[2002:7f00:1::]"],
  ["http://[::7f00:1]/", "[::7f00:1]"],
];

for (const [url, host] of refused) {
  Deno.test(`refuses ${url} and sends no request`, async () => {
    const { options, requests } = guarded(1);
    const result = await run({ url }, options);
    deepStrictEqual(result, { error: `Refused: ${host} is a private or local address` });
    deepStrictEqual(requests, []);
  });
}

Deno.test("reports a name that does not resolve and sends no request", async () => {
  for (const host of ["nowhere.test", "empty.test"]) {
    const { options, requests } = guarded(1);
    const result = await run({ url: `http://${host}/` }, options) as { error: string };
    ok(result.error.startsWith(`Request failed: could not resolve ${host}`), result.error);
    deepStrictEqual(requests, []);
  }
});

Deno.test("reaches private addresses when allowPrivateUrls is true", async () => {
  await using server = startServer(() => new Response("internal"));
  const result = await run({ url: server.url }, LOCAL) as { content: string };
  strictEqual(result.content, "internal");
});

Deno.test("a pinned client connects to the checked address whatever the name", async () => {
  await using server = startServer((request) => new Response(request.headers.get("host")));
  const url = new URL(`http://pinned.invalid:${server.port}/`);
  using client = pinnedClient(url, "127.0.0.1");
  const response = await fetch(url, { client });
  strictEqual(await response.text(), `pinned.invalid:${server.port}`);
});

Deno.test("converts HTML to text with the title first", async () => {
  const html = `<!DOCTYPE html><html><head><title>Caf&eacute; news</title>
    <script>alert("x")</script><style>body{}</style></head>
    <body><h1>Today</h1><p>Fish &amp; chips &#8364;5 &mdash; <a href="/m">menu</a></p>
    <ul><li>one</li><li>two</li></ul></body></html>`;
  await using server = startServer(() =>
    new Response(html, { headers: { "content-type": "text/html; charset=utf-8" } })
  );
  const result = await run({ url: server.url }, LOCAL);
  deepStrictEqual(result, {
    url: `${server.url}/`,
    status: 200,
    content_type: "text/html",
    content: "Title: Café news\n\nToday\n\nFish & chips €5 — menu\n\none\ntwo",
    truncated: false,
  });
});

Deno.test("returns JSON as it is", async () => {
  const body = '{"a": [1, 2], "b": "<p>not html</p>"}';
  await using server = startServer(() =>
    new Response(body, { headers: { "content-type": "application/json" } })
  );
  const result = await run({ url: server.url }, LOCAL) as { content: string; content_type: string };
  strictEqual(result.content, body);
  strictEqual(result.content_type, "application/json");
});

Deno.test("cuts the text at max_bytes without splitting a character", async () => {
  // "€" is three bytes: bytes 4 to 6.
  await using server = startServer(() =>
    new Response("abc€def", { headers: { "content-type": "text/plain" } })
  );
  const at = async (max: number) =>
    await run({ url: server.url, max_bytes: max }, LOCAL) as {
      content: string;
      truncated: boolean;
    };
  deepStrictEqual([(await at(5)).content, (await at(5)).truncated], ["abc", true]);
  deepStrictEqual([(await at(6)).content, (await at(6)).truncated], ["abc€", true]);
  deepStrictEqual([(await at(9)).content, (await at(9)).truncated], ["abc€def", false]);
  deepStrictEqual([(await at(0)).content, (await at(0)).truncated], ["a", true]);
});

Deno.test("truncateUtf8 drops a partial character at the cut", () => {
  deepStrictEqual(truncateUtf8("😀😀", 7), { text: "😀", truncated: true });
  deepStrictEqual(truncateUtf8("😀😀", 8), { text: "😀😀", truncated: false });
  deepStrictEqual(truncateUtf8("é", 1), { text: "", truncated: true });
});

Deno.test("stops downloading a huge streaming body at the download cap", async () => {
  const total = 10_000_000;
  let produced = 0;
  let finished = false;
  const { promise: cancelled, resolve: onCancel } = Promise.withResolvers<void>();
  await using server = startServer(() => {
    const chunk = new TextEncoder().encode("x".repeat(65536));
    return new Response(
      new ReadableStream<Uint8Array>({
        pull(controller) {
          if (produced >= total) {
            finished = true;
            controller.close();
            return;
          }
          controller.enqueue(chunk);
          produced += chunk.length;
        },
        cancel() {
          onCancel();
        },
      }, { highWaterMark: 0 }),
      { headers: { "content-type": "text/plain" } },
    );
  });
  const result = await run(
    { url: server.url, max_bytes: 1_000_000 },
    { allowPrivateUrls: true, fetchMaxBytes: 100_000 },
  ) as { content: string; truncated: boolean };
  strictEqual(result.truncated, true);
  strictEqual(result.content.length, 100_000);
  // The server sees the connection go away long before it has sent 10 MB.
  const timer = Promise.withResolvers<void>();
  const guard = setTimeout(timer.resolve, 10_000);
  await Promise.race([cancelled, timer.promise]);
  clearTimeout(guard);
  strictEqual(finished, false);
  ok(produced < total, `server produced ${produced} bytes`);
});

Deno.test("clamps max_bytes to the download cap and marks the cut", async () => {
  await using server = startServer(() => new Response("0123456789abcdefghij"));
  const result = await run(
    { url: server.url, max_bytes: 1000 },
    { allowPrivateUrls: true, fetchMaxBytes: 10 },
  ) as { content: string; truncated: boolean };
  deepStrictEqual([result.content, result.truncated], ["0123456789", true]);
});

Deno.test("leaves out a character the download cap cuts in half", async () => {
  // "😀" is four bytes; a cap of 5 keeps "ab" and three bytes of it.
  await using server = startServer(() =>
    new Response("ab😀", { headers: { "content-type": "text/plain; charset=utf-8" } })
  );
  const result = await run({ url: server.url }, { allowPrivateUrls: true, fetchMaxBytes: 5 }) as {
    content: string;
    truncated: boolean;
  };
  deepStrictEqual([result.content, result.truncated], ["ab", true]);
});

Deno.test("a body exactly as long as the cap is not truncated", async () => {
  await using server = startServer(() => new Response("0123456789"));
  const result = await run({ url: server.url }, { allowPrivateUrls: true, fetchMaxBytes: 10 }) as {
    content: string;
    truncated: boolean;
  };
  deepStrictEqual([result.content, result.truncated], ["0123456789", false]);
});

Deno.test("reports a non-2xx final status", async () => {
  await using server = startServer((request) =>
    new Response("nope", { status: new URL(request.url).pathname === "/gone" ? 404 : 500 })
  );
  deepStrictEqual(await run({ url: `${server.url}/gone` }, LOCAL), {
    error: "Request failed: HTTP 404",
  });
  deepStrictEqual(await run({ url: `${server.url}/boom` }, LOCAL), {
    error: "Request failed: HTTP 500",
  });
});

Deno.test("refuses URLs that are not http or https", async () => {
  for (const url of ["ftp://example.com/file.txt", "file:///etc/passwd", "data:text/plain,hi"]) {
    deepStrictEqual(await run({ url }, LOCAL), {
      error: "Only http and https URLs are supported",
    });
  }
});

Deno.test("refuses a redirect to a URL that is not http or https", async () => {
  await using server = startServer(() => Response.redirect("file:///etc/passwd", 302));
  deepStrictEqual(await run({ url: server.url }, LOCAL), {
    error: "Only http and https URLs are supported",
  });
});

Deno.test("reports an invalid URL", async () => {
  deepStrictEqual(await run({ url: "not a url" }, LOCAL), { error: "Invalid URL: not a url" });
  deepStrictEqual(await run({ url: "http://" }, LOCAL), { error: "Invalid URL: http://" });
});

Deno.test("refuses binary content types", async () => {
  await using server = startServer((request) => {
    const type = new URL(request.url).searchParams.get("type")!;
    return new Response(new Uint8Array([0x89, 0x50, 0x4e, 0x47]), {
      headers: { "content-type": type },
    });
  });
  for (const type of ["image/png", "application/octet-stream", "application/pdf"]) {
    deepStrictEqual(await run({ url: `${server.url}/?type=${encodeURIComponent(type)}` }, LOCAL), {
      error: `Unsupported content type: ${type}`,
    });
  }
});

Deno.test("refuses an untyped body that looks binary and reads an untyped text body", async () => {
  await using server = startServer((request) =>
    new URL(request.url).pathname === "/bin"
      ? new Response(new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00]))
      : new Response(new TextEncoder().encode("<html><title>T</title><p>hi</p></html>"))
  );
  deepStrictEqual(await run({ url: `${server.url}/bin` }, LOCAL), {
    error: "Unsupported content type: application/octet-stream",
  });
  const html = await run({ url: `${server.url}/page` }, LOCAL) as { content: string };
  strictEqual(html.content, "Title: T\n\nhi");
});

Deno.test("decodes an iso-8859-1 body by its declared charset", async () => {
  // "café" and "naïve" in Latin-1: é is 0xE9, ï is 0xEF.
  const bytes = new Uint8Array([0x63, 0x61, 0x66, 0xe9, 0x20, 0x6e, 0x61, 0xef, 0x76, 0x65]);
  await using server = startServer(() =>
    new Response(bytes, { headers: { "content-type": 'text/plain; charset="ISO-8859-1"' } })
  );
  const result = await run({ url: server.url }, LOCAL) as { content: string };
  strictEqual(result.content, "café naïve");
});

Deno.test("decodes HTML by its meta charset when the header has none", async () => {
  const page = new Uint8Array([
    ...new TextEncoder().encode('<html><head><meta charset="windows-1252"></head><body>'),
    0x93,
    0x68,
    0x69,
    0x94,
    ...new TextEncoder().encode("</body></html>"),
  ]);
  await using server = startServer(() =>
    new Response(page, { headers: { "content-type": "text/html" } })
  );
  const result = await run({ url: server.url }, LOCAL) as { content: string };
  strictEqual(result.content, "“hi”");
});

Deno.test("falls back to UTF-8 for an unknown charset", async () => {
  await using server = startServer(() =>
    new Response("naïve", { headers: { "content-type": "text/plain; charset=no-such-charset" } })
  );
  const result = await run({ url: server.url }, LOCAL) as { content: string };
  strictEqual(result.content, "naïve");
});

Deno.test("reports a connection failure as a failed request", async () => {
  let port: number;
  {
    await using server = startServer(() => new Response("x"));
    port = server.port;
  }
  const result = await run({ url: `http://127.0.0.1:${port}/` }, LOCAL) as { error: string };
  ok(result.error.startsWith("Request failed: "), result.error);
  ok(result.error.length > "Request failed: ".length, result.error);
});

/** A server that answers nothing until it is disposed. */
function silentServer() {
  const { promise: released, resolve: release } = Promise.withResolvers<void>();
  const server = startServer(() => released.then(() => new Response("late")));
  return {
    url: server.url,
    async [Symbol.asyncDispose]() {
      release();
      await server[Symbol.asyncDispose]();
    },
  };
}

Deno.test("gives up when the request takes longer than the timeout", async () => {
  await using server = silentServer();
  const result = await fetchReadable(
    { url: server.url },
    new AbortController().signal,
    LOCAL,
    200,
  );
  deepStrictEqual(result, { error: "Request failed: timed out after 0.2 s" });
});

Deno.test("stops when the tool call is aborted", async () => {
  await using server = silentServer();
  const controller = new AbortController();
  const pending = fetchReadable({ url: server.url }, controller.signal, LOCAL);
  setTimeout(() => controller.abort(), 50);
  deepStrictEqual(await pending, { error: "Request failed: cancelled" });
});

Deno.test("uses the global fetch when none is given", async () => {
  await using server = startServer(() => new Response("global"));
  const result = await run({ url: server.url }, { allowPrivateUrls: true }) as {
    content: string;
  };
  strictEqual(result.content, "global");
});

Deno.test("sends a user agent and an Accept header preferring text", async () => {
  const seen: Array<string | null> = [];
  await using server = startServer((request) => {
    seen.push(request.headers.get("user-agent"), request.headers.get("accept"));
    return new Response("x");
  });
  await run({ url: server.url }, LOCAL);
  ok(seen[0]?.includes("InfiniGPT"), String(seen[0]));
  ok(seen[1]?.startsWith("text/html"), String(seen[1]));
});

const types: Array<[type: string, kind: ReturnType<typeof textKind>]> = [
  ["text/html", "html"],
  ["application/xhtml+xml", "html"],
  ["text/plain", "text"],
  ["text/csv", "text"],
  ["application/json", "json"],
  ["application/ld+json", "json"],
  ["application/xml", "text"],
  ["application/rss+xml", "text"],
  ["application/javascript", "text"],
  ["image/png", null],
  ["application/pdf", null],
  ["application/octet-stream", null],
  ["video/mp4", null],
];

for (const [type, kind] of types) {
  Deno.test(`reads ${type} as ${kind ?? "unsupported"}`, () => {
    strictEqual(textKind(type), kind);
  });
}

Deno.test("parses the media type and charset of a Content-Type header", () => {
  deepStrictEqual(parseContentType("Text/HTML; Charset=ISO-8859-1"), {
    type: "text/html",
    charset: "ISO-8859-1",
  });
  deepStrictEqual(parseContentType('text/plain; format=flowed; charset="utf-8"'), {
    type: "text/plain",
    charset: "utf-8",
  });
  deepStrictEqual(parseContentType("application/json"), {
    type: "application/json",
    charset: undefined,
  });
});
