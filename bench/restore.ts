/**
 * How long a bot whose store was lost takes to restore its room keys from
 * the key backup (decision 41). A user sends N messages, each with a new
 * room key; once the backup holds them all, the bot is killed, its store
 * deleted, and it is started with only the config and the recovery key.
 * Prints the bot's own "Restored … in … ms" line and the time to ready.
 *
 * `deno run -A --conditions=matrix-org:wasm-esm bench/restore.ts [N=300]`
 * against the test Synapse (SYNAPSE_URL / SYNAPSE_SHARED_SECRET).
 *
 * @module
 */
import { FakeOpenAI } from "../tests/fixtures/fake_openai.ts";
import { setupBot, TestClient, waitFor } from "../tests/e2e/helpers.ts";
import { accountKeys, botSession, recoveryKeyInStore } from "../tests/e2e/journeys/lib.ts";

const n = Number(Deno.args[0] ?? 300);
await using fake = FakeOpenAI.start();
const alice = await TestClient.create("alice");
const setup = await setupBot({ providerUrl: fake.url, admins: [alice.userId] });
let bot = await setup.start({ INFINIGPT_LOG_LEVEL: "INFO" });
try {
  await bot.ready();
  const key = await recoveryKeyInStore(setup);
  const room = await alice.createRoom({ invite: [setup.userId] });
  await alice.waitForJoin(room, setup.userId);
  const sending = performance.now();
  for (let i = 0; i < n; i++) {
    // Each message with a new room key, sent to the bot's device over Olm.
    await alice.client.getCrypto()!.forceDiscardSession(room);
    await alice.send(room, `message ${i}`);
  }
  console.log(
    `sent ${n} messages with ${n} room keys in ${Math.round(performance.now() - sending)} ms`,
  );
  const { access_token } = await botSession(setup);
  const backing = performance.now();
  await waitFor(
    "the backup to hold every key",
    async () => {
      const keys = await accountKeys(setup.userId, access_token);
      return keys.backupCount >= n ? keys : undefined;
    },
    600_000,
    500,
  );
  console.log(`backup complete ${Math.round(performance.now() - backing)} ms after the last send`);
  await bot.stop("SIGKILL");
  await Deno.remove(setup.storePath, { recursive: true });
  const starting = performance.now();
  bot = await setup.start({ INFINIGPT_LOG_LEVEL: "INFO", INFINIGPT_RECOVERY_KEY: key });
  const ready = await bot.ready(600_000);
  const restored = await bot.waitForLog(/Restored \d+ of \d+ room keys/, 600_000);
  console.log(restored.replace(/^.*(Restored)/, "$1"));
  console.log(
    `process start → ready: ${Math.round(performance.now() - starting)} ms (${
      ready.replace(/^.*(Ready in \d+ ms).*$/, "$1")
    })`,
  );
} finally {
  await bot.stop();
  alice.stop();
  await setup.remove();
}
Deno.exit(0);
