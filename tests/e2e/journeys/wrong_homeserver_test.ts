/**
 * Journey: the operator's first start, with the homeserver wrong or
 * unreachable (decision 33). The bot is started as the README starts it;
 * within 30 s its log must say what is wrong — the specific cause, not a
 * generic failure — and Ctrl-C (SIGINT) must stop it with exit 0 within
 * 10 s. Then the happy ending: `matrix.server` names a website whose
 * `.well-known/matrix/client` points at the homeserver, and the bot found
 * that way answers a matrix-nio user in an encrypted and a plain room.
 *
 * TLS on 127.0.0.1 without certificates: a bare server name is looked up
 * over https only (no http fallback, as in production), so the server-name
 * story is one whose port speaks plain HTTP, and the successful discovery
 * goes through a website URL's own `.well-known`.
 */
import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import { FakeOpenAI } from "../../fixtures/fake_openai.ts";
import { type BotProcess, registerUser, ROOT, setupBot, SYNAPSE_URL, unique } from "../helpers.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
/** The log must name the cause this soon after the start. */
const SAYS_WITHIN_MS = 30_000;
/** Ctrl-C must end the process this soon. */
const STOPS_WITHIN_MS = 10_000;

/** A website on 127.0.0.1: an HTML 404 page for everything but the routes given. */
function website(routes: Record<string, () => Response> = {}) {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (r) => {
    const route = routes[new URL(r.url).pathname];
    return route?.() ??
      new Response("<!doctype html><html><body><h1>404 Not Found</h1></body></html>", {
        status: 404,
        headers: { "content-type": "text/html" },
      });
  });
  return Object.assign(server, { url: `http://127.0.0.1:${server.addr.port}` });
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Ctrl-C: SIGINT, then the exit code, failing when the bot outlives {@link STOPS_WITHIN_MS}. */
async function ctrlC(bot: BotProcess): Promise<{ code: number; ms: number }> {
  const started = performance.now();
  bot.child.kill("SIGINT");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((r) => timer = setTimeout(() => r("late"), STOPS_WITHIN_MS));
  const outcome = await Promise.race([bot.status, late]);
  clearTimeout(timer);
  if (outcome === "late") {
    bot.child.kill("SIGKILL");
    await bot.status;
    throw new Error(
      `still running ${STOPS_WITHIN_MS} ms after Ctrl-C:\n${bot.log.slice(-10).join("\n")}`,
    );
  }
  return { code: outcome.code, ms: Math.round(performance.now() - started) };
}

/**
 * The story of one wrong `matrix.server`: first start, the log line that
 * names the cause (within 30 s), Ctrl-C, exit 0. Returns that line.
 */
async function firstStartWith(server: string, says: RegExp): Promise<string> {
  await using fake = FakeOpenAI.start();
  const setup = await setupBot({ providerUrl: fake.url });
  await setup.reconfigure({ matrix: { server } });
  const started = performance.now();
  const bot = await setup.start();
  try {
    const line = await bot.waitForLog(says, SAYS_WITHIN_MS);
    const saidAfter = performance.now() - started;
    ok(saidAfter <= SAYS_WITHIN_MS, `said after ${saidAfter} ms`);
    ok(!bot.log.some((l) => /Ready in/.test(l)), "not ready with a wrong homeserver");
    const { code } = await ctrlC(bot);
    strictEqual(code, 0, bot.log.slice(-8).join("\n"));
    ok(bot.log.some((l) => / run: Stopped$/.test(l)), "it says it stopped");
    ok(!bot.log.some((l) => /Second signal|Unhandled rejection/.test(l)), bot.log.join("\n"));
    return line;
  } finally {
    await bot.stop("SIGKILL");
    await setup.remove();
  }
}

const synapse = new URL(SYNAPSE_URL);

Deno.test({
  name:
    "first start with https:// on the homeserver's plain-HTTP port: the log says the TLS handshake failed and to use http://, Ctrl-C stops it",
  ...opts,
  async fn() {
    const hostPort = `${synapse.hostname}:${synapse.port}`;
    const line = await firstStartWith(
      `https://${hostPort}`,
      /Finding the homeserver .* failed: TLS handshake failed/,
    );
    ok(line.includes(`Use http://${hostPort} in matrix.server`), line);
  },
});

Deno.test({
  name:
    "first start with a website's URL: the log says HTTP 404 from <url>: this does not look like a Matrix homeserver, Ctrl-C stops it",
  ...opts,
  async fn() {
    await using site = website();
    const line = await firstStartWith(site.url, /Finding the homeserver .* failed: HTTP 404/);
    ok(
      line.includes(
        `HTTP 404 from ${site.url}/_matrix/client/versions: this does not look like a Matrix homeserver`,
      ),
      line,
    );
  },
});

Deno.test({
  name:
    "first start with a port nothing listens on: the log says connection refused (host:port), Ctrl-C stops it",
  ...opts,
  async fn() {
    const port = freePort();
    const line = await firstStartWith(
      `http://127.0.0.1:${port}`,
      /Finding the homeserver .* failed: connection refused/,
    );
    ok(line.includes(`connection refused (127.0.0.1:${port})`), line);
  },
});

Deno.test({
  name:
    "first start with only a server name whose port has no TLS: the log says the TLS handshake failed and to use http://, Ctrl-C stops it",
  ...opts,
  async fn() {
    await using site = website();
    const name = `127.0.0.1:${site.addr.port}`;
    const line = await firstStartWith(
      name,
      /Finding the homeserver .* failed: TLS handshake failed/,
    );
    ok(line.includes(`use http://${name} in matrix.server`), line);
  },
});

/** What the nio driver reported (tests/e2e/nio_client.py). */
interface NioRun {
  ready?: { rooms: Record<string, { encrypted: boolean }> };
  steps: Array<
    { ok: boolean; room: string; messages: Array<{ text: string; encrypted: boolean }> }
  >;
  code: number;
  stderr: string;
}

async function runNio(plan: Record<string, unknown>): Promise<NioRun> {
  const child = new Deno.Command("/usr/bin/python3", {
    args: [`${ROOT}/tests/e2e/nio_client.py`],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify(plan)));
  await writer.close();
  const output = await child.output();
  const run: NioRun = {
    steps: [],
    code: output.code,
    stderr: new TextDecoder().decode(output.stderr),
  };
  for (const line of new TextDecoder().decode(output.stdout).split("\n")) {
    if (!line.trim()) continue;
    const parsed = JSON.parse(line);
    if (parsed.ready) run.ready = parsed;
    else run.steps.push(parsed);
  }
  return run;
}

/** A client-server API call as `token`'s user. */
async function api(token: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${SYNAPSE_URL}/_matrix/client/v3${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await response.json();
  if (!response.ok) {
    throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
  }
  return json;
}

Deno.test({
  name:
    "first start with the URL of a website whose .well-known names the homeserver: the bot finds it, says so, and answers a matrix-nio user in an encrypted and a plain room",
  ...opts,
  async fn() {
    await using fake = FakeOpenAI.start();
    await using site = website({
      "/.well-known/matrix/client": () =>
        Response.json({ "m.homeserver": { base_url: SYNAPSE_URL } }, {
          headers: { "access-control-allow-origin": "*" },
        }),
    });
    const ownerName = unique("owner");
    const owner = await registerUser(ownerName, `pw-${ownerName}`);
    const nioName = unique("nio");
    const nio = await registerUser(nioName, `pw-${nioName}`);
    const setup = await setupBot({
      providerUrl: fake.url,
      admins: [owner.user_id],
      config: { matrix: { server: site.url } },
    });
    const bot = await setup.start();
    try {
      const found = await bot.waitForLog(/ Homeserver .* \(named by .*\)/, SAYS_WITHIN_MS);
      ok(
        found.includes(
          `Homeserver ${SYNAPSE_URL} (named by ${site.url}/.well-known/matrix/client)`,
        ),
        found,
      );
      await bot.ready();
      const session = JSON.parse(await Deno.readTextFile(`${setup.storePath}/session.json`));
      strictEqual(session.homeserver, SYNAPSE_URL, "the session keeps the homeserver found");

      const rooms: Array<{ id: string; encrypted: boolean }> = [];
      for (const encrypted of [true, false]) {
        const { room_id } = await api(owner.access_token, "POST", "/createRoom", {
          invite: [setup.userId, nio.user_id],
          initial_state: encrypted
            ? [{
              type: "m.room.encryption",
              state_key: "",
              content: { algorithm: "m.megolm.v1.aes-sha2" },
            }]
            : [],
        });
        rooms.push({ id: room_id, encrypted });
      }
      // The bot joins on the admin's invite; nio encrypts only to members.
      for (const room of rooms) {
        for (let i = 0;; i++) {
          const { joined } = await api(
            owner.access_token,
            "GET",
            `/rooms/${encodeURIComponent(room.id)}/joined_members`,
          );
          if (setup.userId in joined) break;
          if (i > 300) throw new Error(`the bot never joined ${room.id}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      const run = await runNio({
        homeserver: SYNAPSE_URL,
        user: nio.user_id,
        password: `pw-${nioName}`,
        rooms: rooms.map((r) => r.id),
        peer: setup.userId,
        timeout: 60,
        steps: rooms.map((room) => ({
          room: room.id,
          send: `.ai found through well-known ${room.encrypted ? "secret" : "plain"}`,
          expect: `Echo: found through well-known ${room.encrypted ? "secret" : "plain"}`,
        })),
      });
      strictEqual(run.code, 0, `nio failed: ${run.stderr}\n${bot.log.slice(-20).join("\n")}`);
      deepStrictEqual(
        run.ready?.rooms,
        Object.fromEntries(rooms.map((r) => [r.id, { encrypted: r.encrypted }])),
      );
      for (const [i, room] of rooms.entries()) {
        const step = run.steps[i];
        ok(step.ok);
        const answer = step.messages.find((m) => m.text.includes("Echo: found through well-known"));
        ok(answer, JSON.stringify(step.messages));
        match(
          answer.text,
          new RegExp(`Echo: found through well-known ${room.encrypted ? "secret" : "plain"}$`),
        );
        strictEqual(answer.encrypted, room.encrypted);
      }
      const { code } = await ctrlC(bot);
      strictEqual(code, 0);
    } finally {
      await bot.stop("SIGKILL");
      await setup.remove();
    }
  },
});
