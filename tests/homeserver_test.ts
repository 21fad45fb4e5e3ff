import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import {
  checkVersionsAnswer,
  classifyNetworkError,
  describeHomeserverError,
  type Failure,
  failureText,
  HomeserverError,
  missingLoginFields,
  parseServerRef,
  parseWellKnown,
  type ServerRef,
  wellKnownUrl,
} from "../lib/homeserver.ts";

Deno.test("matrix.server is a URL or a server name", async (t) => {
  const cases: Array<[string, ServerRef | undefined]> = [
    ["https://matrix.example.org", { kind: "url", url: "https://matrix.example.org" }],
    ["https://matrix.example.org/", { kind: "url", url: "https://matrix.example.org" }],
    ["http://127.0.0.1:8008", { kind: "url", url: "http://127.0.0.1:8008" }],
    ["HTTPS://Example.org:8448", { kind: "url", url: "HTTPS://Example.org:8448" }],
    ["https://example.org/matrix/", { kind: "url", url: "https://example.org/matrix" }],
    ["example.org", { kind: "name", name: "example.org" }],
    ["example.org:8448", { kind: "name", name: "example.org:8448" }],
    ["matrix-1.example.org", { kind: "name", name: "matrix-1.example.org" }],
    ["localhost", { kind: "name", name: "localhost" }],
    ["127.0.0.1:8448", { kind: "name", name: "127.0.0.1:8448" }],
    ["[::1]:8448", { kind: "name", name: "[::1]:8448" }],
    ["[2001:db8::1]", { kind: "name", name: "[2001:db8::1]" }],
    [" example.org ", { kind: "name", name: "example.org" }],
    ["ftp://example.org", undefined],
    ["https://", undefined],
    ["example.org:99999", undefined],
    ["example.org:", undefined],
    ["example.org/path", undefined],
    ["-example.org", undefined],
    ["exa mple.org", undefined],
    ["@bot:example.org", undefined],
    ["", undefined],
  ];
  for (const [input, expected] of cases) {
    await t.step(JSON.stringify(input), () => deepStrictEqual(parseServerRef(input), expected));
  }
});

Deno.test("the .well-known of a server name is fetched over https, that of a URL from its origin", () => {
  strictEqual(
    wellKnownUrl({ kind: "name", name: "example.org:8448" }),
    "https://example.org:8448/.well-known/matrix/client",
  );
  strictEqual(
    wellKnownUrl({ kind: "url", url: "http://127.0.0.1:8080/some/path" }),
    "http://127.0.0.1:8080/.well-known/matrix/client",
  );
});

Deno.test("a .well-known/matrix/client answer names the homeserver, is absent, or is broken", async (t) => {
  const url = "https://example.org/.well-known/matrix/client";
  const cases: Array<[string, number, string, ReturnType<typeof parseWellKnown>]> = [
    [
      "the homeserver",
      200,
      '{"m.homeserver":{"base_url":"https://matrix.example.org/"}}',
      { baseUrl: "https://matrix.example.org" },
    ],
    [
      "with other keys",
      200,
      '{"m.homeserver":{"base_url":"http://127.0.0.1:8008"},"m.identity_server":{"base_url":"x"}}',
      { baseUrl: "http://127.0.0.1:8008" },
    ],
    ["404", 404, "<html>Not Found</html>", { absent: `HTTP 404 from ${url}` }],
    ["403", 403, "", { absent: `HTTP 403 from ${url}` }],
    ["not JSON", 200, "<html></html>", { error: `${url} is not JSON` }],
    ["JSON null", 200, "null", { error: `${url} has no m.homeserver.base_url` }],
    ["no m.homeserver", 200, "{}", { error: `${url} has no m.homeserver.base_url` }],
    [
      "a number for base_url",
      200,
      '{"m.homeserver":{"base_url":5}}',
      { error: `${url} has no m.homeserver.base_url` },
    ],
    [
      "a server name for base_url",
      200,
      '{"m.homeserver":{"base_url":"matrix.example.org"}}',
      { error: `${url}: m.homeserver.base_url "matrix.example.org" is not an http(s) URL` },
    ],
  ];
  for (const [name, status, body, expected] of cases) {
    await t.step(name, () => deepStrictEqual(parseWellKnown({ url, status, body }), expected));
  }
});

Deno.test("/_matrix/client/versions tells a homeserver from a website", async (t) => {
  const url = "https://example.org/_matrix/client/versions";
  const website: Partial<Failure> = {
    kind: "not_homeserver",
    reason: `HTTP 404 from ${url}: this does not look like a Matrix homeserver`,
  };
  const cases: Array<[string, number, string, Partial<Failure> | undefined]> = [
    ["a homeserver", 200, '{"versions":["v1.11","r0.6.1"],"unstable_features":{}}', undefined],
    ["a website's 404 page", 404, "<html><h1>Not Found</h1></html>", website],
    [
      "a website answering 200 to everything",
      200,
      "<html>Welcome</html>",
      {
        kind: "not_homeserver",
        reason: `HTTP 200 from ${url}: this does not look like a Matrix homeserver`,
      },
    ],
    [
      "JSON without versions",
      200,
      '{"status":"ok"}',
      {
        kind: "not_homeserver",
        reason: `HTTP 200 from ${url}: this does not look like a Matrix homeserver`,
      },
    ],
    ["a proxy whose homeserver is down", 502, "Bad Gateway", {
      kind: "http",
      reason: `HTTP 502 from ${url}`,
    }],
  ];
  for (const [name, status, body, expected] of cases) {
    await t.step(name, () => {
      const failure = checkVersionsAnswer({ url, status, body });
      if (!expected) return strictEqual(failure, undefined);
      ok(failure, "a failure");
      strictEqual(failure.kind, expected.kind);
      strictEqual(failure.reason, expected.reason);
      ok(failure.hint, "says what to try");
    });
  }
});

/** Deno's fetch error: `TypeError: fetch failed`, the detail in its cause. */
function denoFetchError(detail: string): Error {
  return new TypeError("fetch failed", { cause: new Error(detail) });
}

/** The SDK's `ConnectionError` around a fetch error. */
function sdkConnectionError(cause: Error): Error {
  const error = new Error("fetch failed", { cause });
  error.name = "ConnectionError";
  return error;
}

Deno.test("network errors name their cause and what to try", async (t) => {
  const send = (url: string, detail: string) =>
    `error sending request for url (${url}): client error (Connect): ${detail}`;
  const cases: Array<{
    name: string;
    url: string;
    error: unknown;
    kind: Failure["kind"];
    reason: RegExp;
    hint?: RegExp;
  }> = [
    {
      name: "connection refused",
      url: "http://127.0.0.1:8009/_matrix/client/versions",
      error: denoFetchError(
        send("http://127.0.0.1:8009/", "tcp connect error: Connection refused (os error 111)"),
      ),
      kind: "refused",
      reason: /^connection refused \(127\.0\.0\.1:8009\)$/,
      hint: /homeserver running/,
    },
    {
      name: "connection refused, default https port",
      url: "https://matrix.example.org/_matrix/client/versions",
      error: sdkConnectionError(
        denoFetchError(
          send(
            "https://matrix.example.org/",
            "tcp connect error: Connection refused (os error 111)",
          ),
        ),
      ),
      kind: "refused",
      reason: /^connection refused \(matrix\.example\.org:443\)$/,
    },
    {
      name: "Deno.errors.ConnectionRefused",
      url: "https://[::1]:8448/x",
      error: new Deno.errors.ConnectionRefused("Connection refused (os error 111)"),
      kind: "refused",
      reason: /^connection refused \(\[::1\]:8448\)$/,
    },
    {
      name: "DNS failure",
      url: "https://matrx.example.org/_matrix/client/versions",
      error: denoFetchError(
        send(
          "https://matrx.example.org/",
          "dns error: failed to lookup address information: Name or service not known",
        ),
      ),
      kind: "dns",
      reason:
        /^DNS lookup failed for matrx\.example\.org \(dns error: .*Name or service not known\)$/,
      hint: /host name in matrix\.server/,
    },
    {
      name: "https against a plain-HTTP port that answers",
      url: "https://127.0.0.1:8008/_matrix/client/versions",
      error: denoFetchError(
        send("https://127.0.0.1:8008/", "received corrupt message of type InvalidContentType"),
      ),
      kind: "tls",
      reason:
        /^TLS handshake failed: received corrupt message of type InvalidContentType \(127\.0\.0\.1:8008\)$/,
      hint: /http:\/\/127\.0\.0\.1:8008/,
    },
    {
      name: "a TLS port that closes during the handshake",
      url: "https://127.0.0.1:8448/",
      error: denoFetchError(send("https://127.0.0.1:8448/", "tls handshake eof")),
      kind: "tls",
      reason: /^TLS handshake failed: tls handshake eof/,
    },
    {
      name: "an untrusted certificate",
      url: "https://matrix.example.org/",
      error: denoFetchError(
        send("https://matrix.example.org/", "invalid peer certificate: UnknownIssuer"),
      ),
      kind: "tls",
      reason: /^TLS handshake failed: invalid peer certificate: UnknownIssuer/,
      hint: /certificate is not trusted for matrix\.example\.org/,
    },
    {
      name: "our timeout",
      url: "http://127.0.0.1:8010/_matrix/client/v3/login",
      error: new DOMException("The operation was aborted due to timeout", "TimeoutError"),
      kind: "timeout",
      reason: /^timeout: no answer from 127\.0\.0\.1:8010 within 30 s$/,
    },
    {
      name: "our timeout inside the SDK's ConnectionError",
      url: "http://127.0.0.1:8010/",
      error: sdkConnectionError(
        new DOMException("The operation was aborted due to timeout", "TimeoutError") as Error,
      ),
      kind: "timeout",
      reason: /^timeout: /,
    },
    {
      name: "a connection closed without an answer",
      url: "http://127.0.0.1:8011/",
      error: denoFetchError(
        "error sending request from 127.0.0.1:53960 for http://127.0.0.1:8011/ (127.0.0.1:8011): client error (SendRequest): connection closed before message completed",
      ),
      kind: "closed",
      reason: /^127\.0\.0\.1:8011 closed the connection without answering$/,
    },
    {
      name: "a port that does not speak HTTP",
      url: "http://127.0.0.1:8012/",
      error: denoFetchError(
        "error sending request from 127.0.0.1:5 for http://127.0.0.1:8012/ (127.0.0.1:8012): client error (SendRequest): invalid HTTP version parsed",
      ),
      kind: "protocol",
      reason: /does not answer in HTTP \(invalid HTTP version parsed\)$/,
    },
    {
      name: "no route to host",
      url: "http://10.9.9.9:8008/",
      error: denoFetchError(
        send("http://10.9.9.9:8008/", "tcp connect error: No route to host (os error 113)"),
      ),
      kind: "unreachable",
      reason: /^host unreachable \(10\.9\.9\.9:8008: tcp connect error: No route to host/,
    },
    {
      name: "anything else keeps its message",
      url: "http://127.0.0.1:1/",
      error: new TypeError("Fetch failed: Requests to port 1 are blocked"),
      kind: "other",
      reason: /^Fetch failed: Requests to port 1 are blocked$/,
    },
  ];
  for (const c of cases) {
    await t.step(c.name, () => {
      const failure = classifyNetworkError(c.error, c.url);
      strictEqual(failure.kind, c.kind, JSON.stringify(failure));
      match(failure.reason, c.reason);
      if (c.hint) match(failure.hint ?? "", c.hint);
      strictEqual(
        failureText(failure),
        failure.hint ? `${failure.reason}. ${failure.hint}` : failure.reason,
      );
    });
  }
});

Deno.test("a sync error reads as its cause: HTTP status and errcode, or the network failure", () => {
  const matrixError = Object.assign(new Error("M_UNKNOWN: Internal error"), {
    httpStatus: 500,
    errcode: "M_UNKNOWN",
    data: { errcode: "M_UNKNOWN", error: "Internal server error" },
  });
  strictEqual(
    describeHomeserverError(matrixError, "https://matrix.example.org"),
    "HTTP 500 M_UNKNOWN: Internal server error",
  );
  strictEqual(
    describeHomeserverError(
      Object.assign(new Error("502"), { httpStatus: 502 }),
      "https://matrix.example.org",
    ),
    "HTTP 502",
  );
  match(
    describeHomeserverError(
      sdkConnectionError(denoFetchError("tcp connect error: Connection refused (os error 111)")),
      "https://matrix.example.org",
    ),
    /^connection refused \(matrix\.example\.org:443\)\. /,
  );
  const known = new HomeserverError({ kind: "other", reason: "as found" });
  strictEqual(describeHomeserverError(known, "https://x"), "as found");
});

Deno.test("a login answer lacking user_id, device_id or access_token (as strings) is incomplete", async (t) => {
  const fields = ["user_id", "device_id", "access_token"];
  const cases: Array<[string, unknown, string | undefined]> = [
    ["complete", { user_id: "@b:x", device_id: "D", access_token: "t" }, undefined],
    ["no token", { user_id: "@b:x", device_id: "D" }, "access_token"],
    ["an empty token", { user_id: "@b:x", device_id: "D", access_token: "" }, "access_token"],
    ["a number for device", { user_id: "@b:x", device_id: 5, access_token: "t" }, "device_id"],
    ["nothing", {}, "user_id, device_id, access_token"],
    ["not an object", "<html>", "user_id, device_id, access_token"],
    ["null", null, "user_id, device_id, access_token"],
  ];
  for (const [name, answer, missing] of cases) {
    await t.step(name, () => strictEqual(missingLoginFields(answer, fields), missing));
  }
});
