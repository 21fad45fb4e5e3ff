/**
 * Encryption you cannot lose (decision 41), from the operator's side: the
 * first start creates secret storage and a key backup and hands over a
 * recovery key; a wrong key stops the start and changes nothing; with the
 * key, a bot whose store was lost comes back as the same cross-signed
 * identity, restores its room keys and answers what was said meanwhile.
 */
import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import { encodeRecoveryKey } from "matrix-js-sdk/lib/crypto-api/recovery-key.js";
import { FakeOpenAI } from "../../fixtures/fake_openai.ts";
import { type BotProcess, setupBot } from "../helpers.ts";
import { accountKeys, botSession, recoveryKeyInStore } from "./lib.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

/** Fails with the bot's last lines. */
async function withLog<T>(bot: BotProcess, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    console.error(`bot log:\n${bot.log.slice(-40).join("\n")}`);
    throw error;
  }
}

Deno.test({
  name:
    "recovery key: the first start creates secret storage and a key backup and writes the recovery key once (0600, never logged); a wrong key stops the next start with exit 2 and changes nothing; the right key unlocks it",
  ...opts,
  async fn() {
    const started = performance.now();
    await using fake = FakeOpenAI.start();
    const setup = await setupBot({ providerUrl: fake.url });
    let bot = await setup.start();
    try {
      const file = `${setup.storePath}/recovery-key.txt`;
      const said = await withLog(bot, async () => {
        await bot.ready();
        return await bot.waitForLog(/A new recovery key .* was written to (\S+) \(mode 0600\)/);
      });
      ok(said.includes(file), said);
      await bot.waitForLog(/Secret storage created \(cross-signing keys and key backup version/);
      strictEqual((await Deno.stat(file)).mode! & 0o777, 0o600, "the key file is private");
      const key = await recoveryKeyInStore(setup);
      match(key, /^([1-9A-HJ-NP-Za-km-z]{4} ){11}[1-9A-HJ-NP-Za-km-z]{4}$/, "Element's format");
      const { access_token } = await botSession(setup);
      const before = await accountKeys(setup.userId, access_token);
      ok(
        before.secretStorageKey && before.backupVersion && before.masterKey,
        JSON.stringify(before),
      );
      strictEqual((await bot.stop()).code, 0);
      const logged = bot.log.join("\n");
      ok(
        !logged.includes(key) && !logged.includes(key.replaceAll(" ", "")),
        "the key is not logged",
      );

      // Someone else's key: exit 2, a clear message, nothing on the server changed.
      const wrong = encodeRecoveryKey(crypto.getRandomValues(new Uint8Array(32)))!;
      bot = await setup.start({ INFINIGPT_RECOVERY_KEY: wrong });
      strictEqual((await bot.status).code, 2, bot.log.slice(-10).join("\n"));
      ok(
        bot.log.some((l) =>
          /recovery key from INFINIGPT_RECOVERY_KEY does not open this account's secret storage; nothing was changed/
            .test(l)
        ),
        bot.log.slice(-10).join("\n"),
      );
      ok(!bot.log.join("\n").includes(wrong), "the wrong key is not logged either");
      deepStrictEqual(await accountKeys(setup.userId, access_token), before, "nothing changed");
      strictEqual(await recoveryKeyInStore(setup), key, "the key file is kept");

      // The right key (the file removed, as the operator was told to): unlocked.
      await Deno.remove(file);
      bot = await setup.start({ INFINIGPT_RECOVERY_KEY: key });
      await withLog(bot, async () => {
        await bot.ready();
        await bot.waitForLog(
          /Secret storage unlocked with the recovery key from INFINIGPT_RECOVERY_KEY/,
        );
        await bot.waitForLog(/Key backup version \S+ on: room keys are backed up/);
      });
      deepStrictEqual(await accountKeys(setup.userId, access_token), before, "same storage");
      console.log(`recovery key journey: ${Math.round(performance.now() - started)} ms`);
    } finally {
      await bot.stop();
      await setup.remove();
    }
  },
});
