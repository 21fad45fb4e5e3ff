/**
 * The homeserver goes away and comes back: restarted under the running bot,
 * and down when the bot starts. Uses a private Synapse on its own port
 * (through the scripts in SYNAPSE_SCRIPTS), so the shared one is untouched.
 */
import { ok, strictEqual } from "node:assert/strict";
import { FakeOpenAI } from "../fixtures/fake_openai.ts";
import { setupBot, TestClient } from "./helpers.ts";

const SCRIPTS = Deno.env.get("SYNAPSE_SCRIPTS");
const PORT = Deno.env.get("E2E_PRIVATE_SYNAPSE_PORT") ?? "8010";
const URL = `http://127.0.0.1:${PORT}`;

async function synapse(
  script: "start.sh" | "stop.sh",
  env: Record<string, string> = {},
): Promise<void> {
  const out = await new Deno.Command(`${SCRIPTS}/${script}`, {
    // Its own port, data dir and URL: never the shared server's, even when
    // those are exported in the environment (as .ci/run does).
    env: {
      SYNAPSE_PORT: PORT,
      SYNAPSE_DATA_DIR: `/dev/shm/infinigpt-private-synapse-${PORT}`,
      SYNAPSE_URL: URL,
      ...env,
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`${script} failed: ${new TextDecoder().decode(out.stderr).slice(-2000)}`);
  }
}

const opts = {
  sanitizeOps: false,
  sanitizeResources: false,
  ignore: !SCRIPTS,
};

if (!SCRIPTS) {
  console.warn("homeserver_test: SYNAPSE_SCRIPTS not set; these tests need control of a Synapse");
}

Deno.test({
  name: "a Synapse restarted under the running bot: the bot reconnects and answers again",
  ...opts,
  async fn() {
    await synapse("start.sh", { SYNAPSE_FRESH: "1" });
    await using fake = FakeOpenAI.start();
    const alice = await TestClient.create("alice", { homeserver: URL });
    const setup = await setupBot({
      providerUrl: fake.url,
      admins: [alice.userId],
      homeserver: URL,
    });
    const bot = await setup.start();
    try {
      await bot.ready();
      const room = await alice.createRoom({ invite: [setup.userId] });
      await alice.waitForJoin(room, setup.userId);
      await alice.send(room, ".ai before the restart");
      await alice.waitForMessage(room, setup.userId, (t) => t.endsWith("Echo: before the restart"));

      await synapse("stop.sh");
      await bot.waitForLog(/Homeserver unreachable|Sync failed/, 60_000);
      await synapse("start.sh", { SYNAPSE_FRESH: "0" });

      await alice.send(room, ".ai after the restart");
      await alice.waitForMessage(
        room,
        setup.userId,
        (t) => t.endsWith("Echo: after the restart"),
        120_000,
      );
      strictEqual(
        alice.seen.filter((s) =>
          s.sender === setup.userId && TestClient.text(s).endsWith("before the restart")
        )
          .length,
        1,
        "nothing answered twice after the reconnect",
      );
    } finally {
      await bot.stop();
      alice.stop();
      await setup.remove();
      await synapse("stop.sh", { SYNAPSE_PURGE: "1" }).catch(() => {});
    }
  },
});

Deno.test({
  name: "a bot started while the homeserver is down retries with backoff and starts when it is up",
  ...opts,
  async fn() {
    await synapse("start.sh", { SYNAPSE_FRESH: "1" });
    await using fake = FakeOpenAI.start();
    const setup = await setupBot({ providerUrl: fake.url, homeserver: URL });
    await synapse("stop.sh");
    const bot = await setup.start();
    try {
      const line = await bot.waitForLog(/failed: connection refused .* Retrying in \d+ s/, 30_000);
      ok(line.includes(URL), line);
      await synapse("start.sh", { SYNAPSE_FRESH: "0" });
      await bot.ready(120_000);
    } finally {
      strictEqual((await bot.stop()).code, 0);
      await setup.remove();
      await synapse("stop.sh", { SYNAPSE_PURGE: "1" }).catch(() => {});
    }
  },
});
