/**
 * When the sync fails, the log says why (the SDK passes the error with the
 * Sync event), once per distinct reason rather than at every retry.
 */
import { match, strictEqual } from "node:assert/strict";
import { BotRun } from "./fixtures/bot_process.ts";
import { StubHomeserver } from "./fixtures/stub_homeserver.ts";

const SYNC = "/_matrix/client/v3/sync";

Deno.test("a sync that keeps failing logs its reason once, not at every retry", async () => {
  await using hs = new StubHomeserver();
  hs.faults.set(SYNC, {
    status: 500,
    body: { errcode: "M_UNKNOWN", error: "database is on fire" },
  });
  await using bot = await BotRun.start({ server: hs.url, username: hs.userId });
  await bot.waitForLog(/Sync failed/);
  // Wait for two more attempts: each would have logged the reason again.
  const seen = hs.requests.filter((r) => r.path === SYNC).length;
  await hs.waitFor(SYNC, 60_000, seen + 2);
  const lines = bot.log.filter((l) => /Sync failed/.test(l));
  strictEqual(lines.length, 1, lines.join("\n"));
  match(
    lines[0],
    /WARNING matrix: Sync failed: HTTP 500 M_UNKNOWN: database is on fire\. Retrying with backoff\.$/,
  );
  strictEqual(await bot.signal("SIGTERM"), 0);
});

Deno.test("a homeserver that goes away while the bot runs: the log names the cause (connection refused, host:port)", async () => {
  const hs = new StubHomeserver();
  const hostPort = new URL(hs.url).host;
  await using bot = await BotRun.start({ server: hs.url, username: hs.userId });
  try {
    await bot.waitForLog(/Ready in \d+ ms/);
  } finally {
    await hs.close();
  }
  const line = await bot.waitForLog(/Sync failed: connection refused/);
  strictEqual(
    line.replace(/^.* WARNING /, ""),
    `matrix: Sync failed: connection refused (${hostPort}). Nothing listens there: is the homeserver running, and is the port in matrix.server right? Retrying with backoff.`,
  );
  strictEqual(await bot.signal("SIGINT"), 0);
});
