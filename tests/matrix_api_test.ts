import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { HomeserverError } from "../lib/homeserver.ts";
import { call, MatrixHttpError, withRetry } from "../lib/matrix_api.ts";

const HS = "http://127.0.0.1:1/";

/** A fetch answering `status` with `body` and `headers`, recording the requests. */
function answering(status: number, body: unknown, headers: Record<string, string> = {}) {
  const requests: Array<{ url: string; init?: RequestInit }> = [];
  const fetch = ((input: RequestInfo | URL, init?: RequestInit) => {
    requests.push({ url: String(input), init });
    return Promise.resolve(new Response(JSON.stringify(body), { status, headers }));
  }) as typeof globalThis.fetch;
  return { fetch, requests };
}

async function errorOf(promise: Promise<unknown>): Promise<MatrixHttpError> {
  const error = await promise.catch((e) => e);
  ok(error instanceof MatrixHttpError, String(error));
  return error;
}

Deno.test("call sends JSON with the token to the base URL without its trailing slash", async () => {
  const { fetch, requests } = answering(200, { user_id: "@bot:hs" });
  const json = await call({ fetch }, HS, "POST", "/_matrix/client/v3/login", { a: 1 }, "tok");
  deepStrictEqual(json, { user_id: "@bot:hs" });
  strictEqual(requests[0].url, "http://127.0.0.1:1/_matrix/client/v3/login");
  const headers = requests[0].init?.headers as Record<string, string>;
  strictEqual(headers.authorization, "Bearer tok");
  strictEqual(headers["content-type"], "application/json");
  strictEqual(requests[0].init?.body, '{"a":1}');
});

const WAITS: Array<[string, unknown, Record<string, string>, number | undefined]> = [
  ["retry_after_ms in the answer", { errcode: "M_LIMIT_EXCEEDED", retry_after_ms: 1500 }, {}, 1500],
  [
    "a Retry-After header in seconds",
    { errcode: "M_LIMIT_EXCEEDED" },
    { "retry-after": "3" },
    3000,
  ],
  ["retry_after_ms before the header", { retry_after_ms: 250 }, { "retry-after": "3" }, 250],
  ["no wait asked", { errcode: "M_LIMIT_EXCEEDED" }, {}, undefined],
  ["a header that is not a wait", {}, { "retry-after": "soon" }, undefined],
];

for (const [what, body, headers, wait] of WAITS) {
  Deno.test(`an error answer with ${what} asks for ${wait} ms`, async () => {
    const { fetch } = answering(429, body, headers);
    const error = await errorOf(call({ fetch }, HS, "GET", "/x"));
    strictEqual(error.status, 429);
    strictEqual(error.retryAfterMs, wait);
  });
}

Deno.test("an error answer names its status, errcode, URL and the homeserver's words", async () => {
  const { fetch } = answering(403, { errcode: "M_FORBIDDEN", error: "Invalid password" });
  const error = await errorOf(call({ fetch }, HS, "POST", "/_matrix/client/v3/login", {}));
  strictEqual(error.errcode, "M_FORBIDDEN");
  strictEqual(
    error.message,
    "HTTP 403 M_FORBIDDEN from http://127.0.0.1:1/_matrix/client/v3/login: Invalid password",
  );
});

Deno.test("a request that cannot connect fails with the cause, as a HomeserverError", async () => {
  const fetch =
    (() => Promise.reject(new TypeError("connection refused"))) as typeof globalThis.fetch;
  const error = await call({ fetch }, HS, "GET", "/x").catch((e) => e);
  ok(error instanceof HomeserverError, String(error));
  strictEqual(error.failure.kind, "refused");
});

Deno.test("withRetry waits out 5xx, 429 and unreachable, and gives up at once on 4xx", async () => {
  const answers = [
    () => Promise.reject(new HomeserverError({ kind: "refused", reason: "refused" })),
    () => Promise.reject(new MatrixHttpError(502, undefined, "bad gateway")),
    () => Promise.reject(new MatrixHttpError(429, "M_LIMIT_EXCEEDED", "slow down", 1)),
    () => Promise.reject(new MatrixHttpError(403, "M_FORBIDDEN", "forbidden")),
    () => Promise.resolve("not reached"),
  ];
  let attempt = 0;
  await rejects(withRetry({ backoffMs: [1] }, "Testing", () => answers[attempt++]()), {
    message: "forbidden",
  });
  strictEqual(attempt, 4);
});

Deno.test("withRetry stops waiting when the signal aborts", async () => {
  const stop = new AbortController();
  const task = () => {
    setTimeout(() => stop.abort(new Error("stopping")), 1);
    return Promise.reject(new MatrixHttpError(503, undefined, "unavailable"));
  };
  await rejects(withRetry({ backoffMs: [60_000], signal: stop.signal }, "Testing", task), {
    message: "stopping",
  });
});
