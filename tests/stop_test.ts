/**
 * SIGINT and SIGTERM stop the bot process with exit 0 in every phase of its
 * start (decision 33): while the homeserver cannot be found, during login
 * retries, before the first sync succeeded, while MCP servers start, while
 * joining rooms. Each test holds the real bot process in one phase with a
 * homeserver stub, signals it, and watches it exit.
 */
import { ok, strictEqual } from "node:assert/strict";
import { StoppedError, untilStopped } from "../lib/stop.ts";
import { BotRun, freePort } from "./fixtures/bot_process.ts";
import { StubHomeserver } from "./fixtures/stub_homeserver.ts";

function assertStoppedBeforeReady(bot: BotRun, code: number): void {
  strictEqual(code, 0, bot.log.slice(-10).join("\n"));
  ok(bot.log.some((l) => / run: Stopped$/.test(l)), "the bot says it stopped");
  ok(!bot.log.some((l) => /Ready in \d+ ms/.test(l)), "it stopped before being ready");
}

Deno.test("SIGINT while the homeserver cannot be reached (connection refused, retrying): exit 0", async () => {
  await using bot = await BotRun.start({ server: `http://127.0.0.1:${freePort()}` });
  await bot.waitForLog(/Finding the homeserver .* failed: connection refused/);
  assertStoppedBeforeReady(bot, await bot.signal("SIGINT"));
});

Deno.test("SIGTERM during login retries (the homeserver answers 502): exit 0", async () => {
  await using hs = new StubHomeserver();
  hs.faults.set("/_matrix/client/v3/login", { status: 502 });
  await using bot = await BotRun.start({ server: hs.url, username: hs.userId });
  await bot.waitForLog(/Logging in at .* failed: HTTP 502/);
  assertStoppedBeforeReady(bot, await bot.signal("SIGTERM"));
});

Deno.test("SIGTERM while the first sync gets no answer: exit 0 (it used to wait for the sync)", async () => {
  await using hs = new StubHomeserver();
  hs.faults.set("/_matrix/client/v3/sync", "hang");
  await using bot = await BotRun.start({ server: hs.url, username: hs.userId });
  await hs.waitFor("/_matrix/client/v3/sync");
  assertStoppedBeforeReady(bot, await bot.signal("SIGTERM"));
});

Deno.test("SIGINT while the first sync keeps failing: exit 0, and the log says why it fails", async () => {
  await using hs = new StubHomeserver();
  hs.faults.set("/_matrix/client/v3/sync", {
    status: 500,
    body: { errcode: "M_UNKNOWN", error: "database is on fire" },
  });
  await using bot = await BotRun.start({ server: hs.url, username: hs.userId });
  await bot.waitForLog(/Sync failed: HTTP 500 M_UNKNOWN: database is on fire/);
  assertStoppedBeforeReady(bot, await bot.signal("SIGINT"));
});

Deno.test("SIGTERM while an MCP server is starting (it never answers): exit 0 without waiting for it", async () => {
  await using hs = new StubHomeserver();
  await using bot = await BotRun.start({ server: hs.url, username: hs.userId }, {
    // Ten seconds of waiting for the server at start, unless stopped.
    llm: { tool_timeout: 60, mcp_servers: { silent: { command: "sleep", args: ["60"] } } },
  });
  await bot.waitForLog(/MCP servers configured: \[silent\]/);
  assertStoppedBeforeReady(bot, await bot.signal("SIGTERM"));
  ok(!bot.log.some((l) => /is not ready after/.test(l)), "it did not wait for the MCP server");
});

Deno.test("SIGTERM while joining a configured room (the join gets no answer): exit 0", async () => {
  await using hs = new StubHomeserver();
  hs.faults.set("/_matrix/client/v3/join/", "hang");
  await using bot = await BotRun.start({
    server: hs.url,
    username: hs.userId,
    channels: ["#room:stub"],
  });
  await hs.waitFor("/_matrix/client/v3/join/");
  assertStoppedBeforeReady(bot, await bot.signal("SIGTERM"));
});

Deno.test("a bot that reached the stub starts normally (the stub is enough to be ready)", async () => {
  await using hs = new StubHomeserver();
  await using bot = await BotRun.start({ server: hs.url, username: hs.userId });
  await bot.waitForLog(/Ready in \d+ ms/);
  strictEqual(await bot.signal("SIGTERM"), 0);
});

Deno.test("untilStopped settles like its promise, or rejects with StoppedError once stopped", async () => {
  strictEqual(await untilStopped(Promise.resolve(1)), 1);
  strictEqual(await untilStopped(Promise.resolve(2), new AbortController().signal), 2);
  const failed = await untilStopped(Promise.reject(new Error("x")), new AbortController().signal)
    .catch((e) => (e as Error).message);
  strictEqual(failed, "x");
  const stop = new AbortController();
  const never = new Promise<never>(() => {});
  const waiting = untilStopped(never, stop.signal).catch((e) => e);
  stop.abort();
  ok((await waiting) instanceof StoppedError);
  ok(
    (await untilStopped(Promise.resolve(3), stop.signal).catch((e) => e)) instanceof StoppedError,
    "already stopped",
  );
  // A late rejection of the abandoned work is not left unhandled.
  const late = Promise.withResolvers<never>();
  const abandoned = untilStopped(late.promise, stop.signal).catch(() => {});
  late.reject(new Error("late"));
  await abandoned;
});
