import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import { ensureSession, readSession, type Session, SessionError } from "../lib/matrix_session.ts";
import { Store } from "../lib/store.ts";
import { testConfig } from "./fixtures/harness.ts";

const TOKEN = "syt_secret_access_token_0123456789";
const PASSWORD = "test-password-123";
const USER = "@bot:test";

interface Recorded {
  method: string;
  path: string;
  auth: string | null;
  body: Record<string, unknown> | undefined;
  at: number;
}

type Reply = { status: number; body: unknown };
type Handler = (request: Recorded) => Reply | undefined;

/**
 * A fake homeserver on 127.0.0.1 playing login and whoami. Its
 * `/_matrix/client/versions` (the check before login) is answered first and
 * kept out of `requests`.
 */
class FakeHomeserver {
  readonly requests: Recorded[] = [];
  /** How many times `/_matrix/client/versions` was asked. */
  versionChecks = 0;
  /** Requests to these paths get no answer until the server closes. */
  readonly hang = new Set<string>();
  readonly #release = Promise.withResolvers<void>();
  /** Replies to use first, in order, before the default answers. */
  readonly queue: Reply[] = [];
  handler?: Handler;
  token = TOKEN;
  deviceId = "NEWDEVICE";
  readonly #server: Deno.HttpServer<Deno.NetAddr>;

  private constructor(port: number) {
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port, onListen: () => {} },
      (request) => this.#handle(request),
    );
  }

  static start(port = 0): FakeHomeserver {
    return new FakeHomeserver(port);
  }

  get url(): string {
    return `http://127.0.0.1:${this.#server.addr.port}`;
  }

  paths(): string[] {
    return this.requests.map((r) => `${r.method} ${r.path}`);
  }

  async #handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/_matrix/client/versions") {
      this.versionChecks++;
      return Response.json({ versions: ["v1.11"] });
    }
    const text = await request.text();
    const recorded: Recorded = {
      method: request.method,
      path: url.pathname,
      auth: request.headers.get("authorization"),
      body: text ? JSON.parse(text) : undefined,
      at: performance.now(),
    };
    this.requests.push(recorded);
    if (this.hang.has(url.pathname)) {
      this.hang.delete(url.pathname);
      await this.#release.promise;
      return new Response(null, { status: 503 });
    }
    const reply = this.handler?.(recorded) ?? this.queue.shift() ?? this.#default(recorded);
    return Response.json(reply.body, { status: reply.status });
  }

  #default(r: Recorded): Reply {
    if (r.method === "POST" && r.path === "/_matrix/client/v3/login") {
      return {
        status: 200,
        body: { user_id: USER, device_id: this.deviceId, access_token: this.token },
      };
    }
    if (r.method === "GET" && r.path === "/_matrix/client/v3/account/whoami") {
      if (r.auth !== `Bearer ${this.token}`) {
        return { status: 401, body: { errcode: "M_UNKNOWN_TOKEN", error: "Unknown token" } };
      }
      return { status: 200, body: { user_id: USER, device_id: this.deviceId } };
    }
    return { status: 404, body: { errcode: "M_UNRECOGNIZED", error: "Unrecognized" } };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#release.resolve();
    await this.#server.shutdown();
  }
}

/** A store in a temporary directory. */
function tempStore(): Disposable & { store: Store } {
  const dir = Deno.makeTempDirSync({ prefix: "infinigpt-session-" });
  const store = Store.open(dir);
  return {
    store,
    [Symbol.dispose]() {
      store.close();
      Deno.removeSync(dir, { recursive: true });
    },
  };
}

function config(server: string, matrix: Record<string, unknown> = {}) {
  return testConfig("http://127.0.0.1:1", { matrix: { server, ...matrix } });
}

function writeSession(store: Store, session: Partial<Session> | string): void {
  Deno.writeTextFileSync(
    store.path("session.json"),
    typeof session === "string" ? session : JSON.stringify(session),
  );
}

async function sessionError(promise: Promise<unknown>): Promise<SessionError> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  ok(caught instanceof SessionError, `expected a SessionError, got ${caught}`);
  ok(!caught.message.includes(TOKEN), "the access token leaks into the message");
  ok(!caught.message.includes(PASSWORD), "the password leaks into the message");
  return caught;
}

/** A local port nobody listens on (connection refused). */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

Deno.test("first start logs in with the password and saves session.json (0600)", async () => {
  await using hs = FakeHomeserver.start();
  using tmp = tempStore();
  const session = await ensureSession({ config: config(hs.url), store: tmp.store });
  deepStrictEqual(session, {
    homeserver: hs.url,
    user_id: USER,
    device_id: "NEWDEVICE",
    access_token: TOKEN,
  });
  deepStrictEqual(hs.paths(), ["POST /_matrix/client/v3/login"]);
  deepStrictEqual(hs.requests[0].body, {
    type: "m.login.password",
    identifier: { type: "m.id.user", user: USER },
    password: PASSWORD,
    initial_device_display_name: "infinigpt",
  });
  strictEqual(hs.requests[0].auth, null);
  const path = tmp.store.path("session.json");
  if (Deno.build.os !== "windows") strictEqual(Deno.statSync(path).mode! & 0o777, 0o600);
  const saved = JSON.parse(Deno.readTextFileSync(path));
  deepStrictEqual(saved, session);
  deepStrictEqual(readSession(tmp.store), session);
});

Deno.test("first login sends the configured device_id and device_name", async () => {
  await using hs = FakeHomeserver.start();
  using tmp = tempStore();
  hs.deviceId = "MYDEVICE";
  const session = await ensureSession({
    config: config(hs.url, { device_id: "MYDEVICE", device_name: "My Bot" }),
    store: tmp.store,
  });
  strictEqual(session.device_id, "MYDEVICE");
  const body = hs.requests[0].body!;
  strictEqual(body.device_id, "MYDEVICE");
  strictEqual(body.initial_device_display_name, "My Bot");
});

Deno.test("a configured device that already has another client's keys is replaced by a new device", async () => {
  await using hs = FakeHomeserver.start();
  using tmp = tempStore();
  hs.handler = (r) => {
    if (r.path === "/_matrix/client/v3/keys/query") {
      return {
        status: 200,
        body: { device_keys: { [USER]: { OLDBOT: { device_id: "OLDBOT" } } } },
      };
    }
    if (r.path === "/_matrix/client/v3/login") {
      const id = (r.body?.device_id as string | undefined) ?? "FRESH";
      return {
        status: 200,
        body: { user_id: USER, device_id: id, access_token: `${TOKEN}-${id}` },
      };
    }
    return undefined;
  };
  const session = await ensureSession({
    config: config(hs.url, { device_id: "OLDBOT" }),
    store: tmp.store,
  });
  strictEqual(session.device_id, "FRESH");
  deepStrictEqual(hs.paths(), [
    "POST /_matrix/client/v3/login",
    "POST /_matrix/client/v3/keys/query",
    "POST /_matrix/client/v3/login",
  ]);
  strictEqual(hs.requests[1].auth, `Bearer ${TOKEN}-OLDBOT`);
  deepStrictEqual(hs.requests[1].body, { device_keys: { [USER]: ["OLDBOT"] } });
  strictEqual(hs.requests[2].body?.device_id, undefined, "the second login names no device");
  strictEqual(readSession(tmp.store)?.device_id, "FRESH");
});

Deno.test("a configured device without keys is used; without encryption its keys are not asked for", async (t) => {
  for (const e2e of [true, false]) {
    await t.step(`e2e ${e2e}`, async () => {
      await using hs = FakeHomeserver.start();
      using tmp = tempStore();
      hs.deviceId = "MYDEVICE";
      hs.handler = (r) =>
        r.path === "/_matrix/client/v3/keys/query"
          ? { status: 200, body: { device_keys: { [USER]: {} } } }
          : undefined;
      const session = await ensureSession({
        config: config(hs.url, { device_id: "MYDEVICE", e2e }),
        store: tmp.store,
      });
      strictEqual(session.device_id, "MYDEVICE");
      deepStrictEqual(
        hs.paths(),
        e2e
          ? ["POST /_matrix/client/v3/login", "POST /_matrix/client/v3/keys/query"]
          : ["POST /_matrix/client/v3/login"],
      );
    });
  }
});

Deno.test("second start reuses session.json: whoami with the token, no login", async () => {
  await using hs = FakeHomeserver.start();
  using tmp = tempStore();
  const first = await ensureSession({ config: config(hs.url), store: tmp.store });
  hs.requests.length = 0;
  const second = await ensureSession({ config: config(hs.url), store: tmp.store });
  deepStrictEqual(second, first);
  deepStrictEqual(hs.paths(), ["GET /_matrix/client/v3/account/whoami"]);
  strictEqual(hs.requests[0].auth, `Bearer ${TOKEN}`);
});

Deno.test("a revoked token (whoami 401 M_UNKNOWN_TOKEN) is a SessionError telling what to do", async () => {
  await using hs = FakeHomeserver.start();
  using tmp = tempStore();
  await ensureSession({ config: config(hs.url), store: tmp.store });
  hs.token = "syt_another_token";
  hs.requests.length = 0;
  const error = await sessionError(ensureSession({ config: config(hs.url), store: tmp.store }));
  match(error.message, /no longer valid/);
  match(error.message, /session\.json/);
  match(error.message, /backup/);
  deepStrictEqual(hs.paths(), ["GET /_matrix/client/v3/account/whoami"], "no new login");
  ok(Deno.readTextFileSync(tmp.store.path("session.json")).includes(TOKEN), "session kept");
});

Deno.test("a whoami for another device is a SessionError", async () => {
  await using hs = FakeHomeserver.start();
  using tmp = tempStore();
  await ensureSession({ config: config(hs.url), store: tmp.store });
  hs.deviceId = "SOMEONEELSE";
  const error = await sessionError(ensureSession({ config: config(hs.url), store: tmp.store }));
  match(error.message, /SOMEONEELSE/);
  match(error.message, /NEWDEVICE/);
});

Deno.test("a wrong password (403 M_FORBIDDEN) is a SessionError, not retried", async () => {
  await using hs = FakeHomeserver.start();
  using tmp = tempStore();
  hs.handler = () => ({ status: 403, body: { errcode: "M_FORBIDDEN", error: "Invalid password" } });
  const error = await sessionError(
    ensureSession({ config: config(hs.url), store: tmp.store, backoffMs: [10] }),
  );
  match(error.message, /wrong user name or password/);
  match(error.message, /@bot:test/);
  strictEqual(hs.requests.length, 1);
  strictEqual(readSession(tmp.store), undefined, "no session.json written");
});

Deno.test("a homeserver that is down, then up, is retried with backoff", async () => {
  using tmp = tempStore();
  const port = freePort();
  let failures = 0;
  let hs: FakeHomeserver | undefined;
  try {
    const session = await ensureSession({
      config: config(`http://127.0.0.1:${port}`),
      store: tmp.store,
      backoffMs: [50],
      fetch: async (input, init) => {
        try {
          return await fetch(input, init);
        } catch (error) {
          // Comes up after the third refused connection.
          if (++failures === 3) hs = FakeHomeserver.start(port);
          throw error;
        }
      },
    });
    strictEqual(failures, 3);
    strictEqual(session.access_token, TOKEN);
    deepStrictEqual(hs!.paths(), ["POST /_matrix/client/v3/login"]);
  } finally {
    await hs?.[Symbol.asyncDispose]();
  }
});

Deno.test("a 429 M_LIMIT_EXCEEDED waits retry_after_ms before trying again", async () => {
  await using hs = FakeHomeserver.start();
  using tmp = tempStore();
  hs.queue.push({
    status: 429,
    body: { errcode: "M_LIMIT_EXCEEDED", error: "Too many requests", retry_after_ms: 400 },
  });
  const session = await ensureSession({ config: config(hs.url), store: tmp.store, backoffMs: [5] });
  strictEqual(session.device_id, "NEWDEVICE");
  strictEqual(hs.requests.length, 2);
  const gap = hs.requests[1].at - hs.requests[0].at;
  ok(gap >= 350, `retried after ${gap} ms, before retry_after_ms`);
});

Deno.test("a 502 from the homeserver is retried", async () => {
  await using hs = FakeHomeserver.start();
  using tmp = tempStore();
  hs.queue.push({ status: 502, body: "<html>Bad Gateway</html>" });
  hs.queue.push({ status: 503, body: {} });
  const session = await ensureSession({
    config: config(hs.url),
    store: tmp.store,
    backoffMs: [20],
  });
  strictEqual(session.access_token, TOKEN);
  deepStrictEqual(hs.paths(), Array(3).fill("POST /_matrix/client/v3/login"));
});

Deno.test("a 502 on whoami of a saved session is retried too", async () => {
  await using hs = FakeHomeserver.start();
  using tmp = tempStore();
  await ensureSession({ config: config(hs.url), store: tmp.store });
  hs.requests.length = 0;
  hs.queue.push({ status: 502, body: {} });
  const session = await ensureSession({
    config: config(hs.url),
    store: tmp.store,
    backoffMs: [20],
  });
  strictEqual(session.device_id, "NEWDEVICE");
  deepStrictEqual(hs.paths(), Array(2).fill("GET /_matrix/client/v3/account/whoami"));
});

Deno.test("a session.json of another user is a SessionError", async () => {
  await using hs = FakeHomeserver.start();
  using tmp = tempStore();
  writeSession(tmp.store, {
    homeserver: hs.url,
    user_id: "@other:test",
    device_id: "DEV",
    access_token: TOKEN,
  });
  const error = await sessionError(ensureSession({ config: config(hs.url), store: tmp.store }));
  match(error.message, /@other:test/);
  match(error.message, /@bot:test/);
  match(error.message, /store_path/);
  strictEqual(hs.requests.length, 0);
});

Deno.test("a changed homeserver URL keeps the session and records the new URL", async () => {
  await using hs = FakeHomeserver.start();
  using tmp = tempStore();
  writeSession(tmp.store, {
    homeserver: "https://old.example",
    user_id: USER,
    device_id: "NEWDEVICE",
    access_token: TOKEN,
  });
  const session = await ensureSession({ config: config(hs.url + "/"), store: tmp.store });
  strictEqual(session.device_id, "NEWDEVICE");
  strictEqual(readSession(tmp.store)!.homeserver, hs.url, "as found (no trailing slash)");
  deepStrictEqual(hs.paths(), ["GET /_matrix/client/v3/account/whoami"], "no double slash");
});

Deno.test("matrix.access_token: whoami gives user and device, session saved, no login", async () => {
  await using hs = FakeHomeserver.start();
  using tmp = tempStore();
  hs.deviceId = "OIDCDEVICE";
  const session = await ensureSession({
    config: config(hs.url, { access_token: TOKEN, password: undefined }),
    store: tmp.store,
  });
  deepStrictEqual(session, {
    homeserver: hs.url,
    user_id: USER,
    device_id: "OIDCDEVICE",
    access_token: TOKEN,
  });
  deepStrictEqual(hs.paths(), ["GET /_matrix/client/v3/account/whoami"]);
  strictEqual(hs.requests[0].auth, `Bearer ${TOKEN}`);
  deepStrictEqual(readSession(tmp.store), session);
});

Deno.test("matrix.access_token falls back to the configured device_id when whoami has none", async () => {
  await using hs = FakeHomeserver.start();
  using tmp = tempStore();
  hs.handler = () => ({ status: 200, body: { user_id: USER } });
  const session = await ensureSession({
    config: config(hs.url, { access_token: TOKEN, device_id: "CFGDEV", password: undefined }),
    store: tmp.store,
  });
  strictEqual(session.device_id, "CFGDEV");
});

Deno.test("matrix.access_token without any device id is a SessionError", async () => {
  await using hs = FakeHomeserver.start();
  using tmp = tempStore();
  hs.handler = () => ({ status: 200, body: { user_id: USER } });
  const error = await sessionError(ensureSession({
    config: config(hs.url, { access_token: TOKEN, password: undefined }),
    store: tmp.store,
  }));
  match(error.message, /device_id/);
  strictEqual(readSession(tmp.store), undefined);
});

Deno.test("an invalid matrix.access_token is a SessionError without the token", async () => {
  await using hs = FakeHomeserver.start();
  using tmp = tempStore();
  hs.token = "something-else";
  const error = await sessionError(ensureSession({
    config: config(hs.url, { access_token: TOKEN, password: undefined }),
    store: tmp.store,
  }));
  match(error.message, /matrix\.access_token/);
});

Deno.test("a damaged session.json is a SessionError that mentions backups", async (t) => {
  await using hs = FakeHomeserver.start();
  using tmp = tempStore();
  const cases: Array<[string, string]> = [
    ["not JSON", `{"user_id": "@bot:test", "access_token": "${TOKEN}"`],
    [
      "missing device_id",
      JSON.stringify({ homeserver: hs.url, user_id: USER, access_token: TOKEN }),
    ],
    [
      "empty token",
      JSON.stringify({ homeserver: hs.url, user_id: USER, device_id: "D", access_token: "" }),
    ],
    [
      "a number for a field",
      JSON.stringify({ homeserver: hs.url, user_id: USER, device_id: 5, access_token: TOKEN }),
    ],
    ["JSON null", "null"],
    ["empty file", ""],
  ];
  for (const [name, text] of cases) {
    await t.step(name, async () => {
      writeSession(tmp.store, text);
      const error = await sessionError(ensureSession({ config: config(hs.url), store: tmp.store }));
      match(error.message, /damaged/);
      match(error.message, /backup/);
      strictEqual(hs.requests.length, 0, "no login over a damaged session");
    });
  }
});

Deno.test("aborting the signal stops the retry loop while the homeserver is down", async () => {
  using tmp = tempStore();
  const port = freePort();
  const controller = new AbortController();
  let attempts = 0;
  let error: unknown;
  try {
    await ensureSession({
      config: config(`http://127.0.0.1:${port}`),
      store: tmp.store,
      signal: controller.signal,
      backoffMs: [30],
      fetch: (input, init) => {
        if (++attempts === 3) setTimeout(() => controller.abort(new Error("shutting down")), 5);
        return fetch(input, init);
      },
    });
  } catch (e) {
    error = e;
  }
  ok(error instanceof Error, `expected an error, got ${error}`);
  match(error.message, /shutting down/);
  strictEqual(attempts, 3, "no attempt after the abort");
  // Nothing keeps running: a later attempt would show up here.
  await new Promise((resolve) => setTimeout(resolve, 100));
  strictEqual(attempts, 3);
});

Deno.test("an already aborted signal makes no request loop", async () => {
  await using hs = FakeHomeserver.start();
  using tmp = tempStore();
  const controller = new AbortController();
  controller.abort();
  let error: unknown;
  try {
    await ensureSession({
      config: config(hs.url),
      store: tmp.store,
      signal: controller.signal,
      backoffMs: [10],
    });
  } catch (e) {
    error = e;
  }
  ok(error !== undefined);
  strictEqual(hs.requests.length, 0);
});

Deno.test("the homeserver is checked before logging in: /_matrix/client/versions first", async () => {
  await using hs = FakeHomeserver.start();
  using tmp = tempStore();
  await ensureSession({ config: config(hs.url), store: tmp.store });
  strictEqual(hs.versionChecks, 1);
  deepStrictEqual(hs.paths(), ["POST /_matrix/client/v3/login"]);
});

Deno.test("a login answer without access_token is an error naming it, and nothing is saved", async (t) => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ["no access_token", { user_id: USER, device_id: "DEV" }, /has no access_token/],
    ["no device_id", { user_id: USER, access_token: TOKEN }, /has no device_id/],
    ["nothing", {}, /has no user_id, device_id, access_token/],
    ["a number for user_id", { user_id: 5, device_id: "DEV", access_token: TOKEN }, /no user_id/],
  ];
  for (const [name, body, expected] of cases) {
    await t.step(name, async () => {
      await using hs = FakeHomeserver.start();
      using tmp = tempStore();
      hs.handler = () => ({ status: 200, body });
      const error = await sessionError(ensureSession({ config: config(hs.url), store: tmp.store }));
      match(error.message, expected);
      match(error.message, /nothing was saved/);
      strictEqual(readSession(tmp.store), undefined, "no session.json");
      ok(!Deno.readDirSync(tmp.store.dir).some((e) => e.name.startsWith("session")));
      strictEqual(hs.requests.length, 1, "not retried");
    });
  }
});

Deno.test("a whoami answer without user_id for matrix.access_token is an error, nothing saved", async () => {
  await using hs = FakeHomeserver.start();
  using tmp = tempStore();
  hs.handler = () => ({ status: 200, body: { device_id: "DEV" } });
  const error = await sessionError(ensureSession({
    config: config(hs.url, { access_token: TOKEN, password: undefined }),
    store: tmp.store,
  }));
  match(error.message, /whoami answer has no user_id/);
  strictEqual(readSession(tmp.store), undefined);
});

Deno.test("a login request that gets no answer is given up after the timeout and tried again", async () => {
  await using hs = FakeHomeserver.start();
  using tmp = tempStore();
  hs.hang.add("/_matrix/client/v3/login");
  const session = await ensureSession({
    config: config(hs.url),
    store: tmp.store,
    timeoutMs: 300,
    backoffMs: [10],
  });
  strictEqual(session.access_token, TOKEN);
  deepStrictEqual(hs.paths(), Array(2).fill("POST /_matrix/client/v3/login"));
});

Deno.test("a website URL whose .well-known names the homeserver: the session is made and saved there", async () => {
  await using hs = FakeHomeserver.start();
  await using site = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (r) =>
      new URL(r.url).pathname === "/.well-known/matrix/client"
        ? Response.json({ "m.homeserver": { base_url: hs.url } })
        : new Response("<html>Not Found</html>", { status: 404 }),
  );
  using tmp = tempStore();
  const website = `http://127.0.0.1:${site.addr.port}`;
  const session = await ensureSession({ config: config(website), store: tmp.store });
  strictEqual(session.homeserver, hs.url);
  strictEqual(readSession(tmp.store)!.homeserver, hs.url);
  deepStrictEqual(hs.paths(), ["POST /_matrix/client/v3/login"]);
});

Deno.test("a homeserver that is not one (a website) is retried with the reason, until stopped", async () => {
  await using site = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response("<html>Not Found</html>", { status: 404 }),
  );
  using tmp = tempStore();
  const controller = new AbortController();
  let requests = 0;
  const error = await ensureSession({
    config: config(`http://127.0.0.1:${site.addr.port}`),
    store: tmp.store,
    signal: controller.signal,
    backoffMs: [20],
    fetch: (input, init) => {
      // The versions check, then the .well-known, twice.
      if (++requests === 4) controller.abort(new Error("stopping"));
      return fetch(input, init);
    },
  }).catch((e) => e);
  match(String(error), /stopping/);
  strictEqual(readSession(tmp.store), undefined);
});
