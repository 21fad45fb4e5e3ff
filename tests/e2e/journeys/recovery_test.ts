/**
 * Encryption you cannot lose (decision 41), from the operator's side: the
 * first start creates secret storage and a key backup and hands over a
 * recovery key; a wrong key stops the start and changes nothing; with the
 * key, a bot whose store was lost comes back as the same cross-signed
 * identity, restores its room keys and answers what was said meanwhile.
 */
import { deepStrictEqual, match, notStrictEqual, ok, strictEqual } from "node:assert/strict";
import { encodeRecoveryKey } from "matrix-js-sdk/lib/crypto-api/recovery-key.js";
import { FakeOpenAI } from "../../fixtures/fake_openai.ts";
import { type BotProcess, setupBot, TestClient, waitFor } from "../helpers.ts";
import { accountKeys, botSession, recoveryKeyInStore, verifyBotUser } from "./lib.ts";
import { NioPeer } from "./nio_peer.ts";

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
    "recovery key: the first start creates secret storage and a key backup and writes the recovery key once (0600, never logged); a wrong key stops the next start with exit 2 and changes nothing; the right key unlocks it; recovery_reset replaces it once, loudly",
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
      strictEqual((await bot.stop()).code, 0);

      // The old key is lost: recovery_reset replaces secret storage with the given key, loudly,
      // and keeps the cross-signing identity the store still has.
      await setup.reconfigure({ matrix: { recovery_reset: true } });
      bot = await setup.start({ INFINIGPT_RECOVERY_KEY: wrong });
      await withLog(bot, async () => {
        await bot.ready();
        await bot.waitForLog(/ERROR .*matrix.recovery_reset: REPLACING the secret storage/);
        await bot.waitForLog(/Secret storage and key backup replaced/);
      });
      const replaced = await accountKeys(setup.userId, access_token);
      notStrictEqual(replaced.secretStorageKey, before.secretStorageKey, "new secret storage");
      notStrictEqual(replaced.backupVersion, before.backupVersion, "a new backup");
      strictEqual(replaced.masterKey, before.masterKey, "the same cross-signing identity");
      strictEqual((await bot.stop()).code, 0);
      // The next start with that key (recovery_reset still set) resets nothing.
      bot = await setup.start({ INFINIGPT_RECOVERY_KEY: wrong });
      await withLog(bot, async () => {
        await bot.ready();
        await bot.waitForLog(/recovery_reset is true but the recovery key opens secret storage/);
      });
      deepStrictEqual(await accountKeys(setup.userId, access_token), replaced);
      console.log(`recovery key journey: ${Math.round(performance.now() - started)} ms`);
    } finally {
      await bot.stop();
      await setup.remove();
    }
  },
});

/** How often `text` is the final text of one of `bot`'s messages that `client` saw in `room`. */
function answers(client: TestClient, room: string, bot: string, text: string): number {
  return client.seen.filter((s) =>
    s.room === room && s.sender === bot && TestClient.text(s).endsWith(text)
  ).length;
}

Deno.test({
  name:
    "the store is lost: people talk in an encrypted room (matrix-js-sdk and matrix-nio users), the bot is killed and its store deleted, more is said; started with only the config and the recovery key it is the same verified identity on a new device, restores the room keys and answers what was said while it was gone",
  ...opts,
  async fn() {
    const started = performance.now();
    await using fake = FakeOpenAI.start();
    const alice = await TestClient.create("alice");
    const setup = await setupBot({ providerUrl: fake.url, admins: [alice.userId] });
    let bot = await setup.start();
    let nio: NioPeer | undefined;
    try {
      await withLog(bot, () => bot.ready());
      const key = await recoveryKeyInStore(setup);
      const room = await alice.createRoom({ invite: [setup.userId] });
      await alice.waitForJoin(room, setup.userId);
      nio = await NioPeer.start({
        rooms: [room],
        peer: setup.userId,
        timeout: 180,
        steps: [
          { room, send: ".ai nio before", expect: "Echo: nio before" },
          { wait_signal: "gone" },
          { room, send: ".ai nio while gone", count: 0 },
          { wait_signal: "back" },
          { room, send: ".ai nio after", expect: "Echo: nio after" },
          { room, report: true, settle_ms: 1500 },
        ],
      });
      await alice.client.invite(room, nio.userId);
      await withLog(bot, () => nio!.step(0, 120_000));
      await alice.send(room, ".ai alice before");
      await alice.waitForMessage(room, setup.userId, (t) => t.endsWith("Echo: alice before"));
      const old = await botSession(setup);
      await withLog(bot, () => verifyBotUser(alice, setup.userId, room));
      // Everything the old device knew is in the backup before it dies:
      // alice's and nio's room keys and its own.
      const backedUp = await waitFor("the room keys in the backup", async () => {
        const keys = await accountKeys(setup.userId, old.access_token);
        return keys.backupCount >= 3 ? keys : undefined;
      }, 60_000);

      await bot.stop("SIGKILL");
      await Deno.remove(setup.storePath, { recursive: true });
      await alice.send(room, ".ai alice while gone");
      await nio.signal("gone");
      await nio.step(2);

      bot = await setup.start({ INFINIGPT_RECOVERY_KEY: key });
      const restoredLine = await withLog(bot, async () => {
        await bot.ready(120_000);
        return await bot.waitForLog(
          /Restored (\d+) of (\d+) room keys from the key backup in \d+ ms/,
        );
      });
      console.log(restoredLine.replace(/^.*(Restored)/, "$1"));
      const now = await botSession(setup);
      notStrictEqual(now.device_id, old.device_id, "a new device");
      await withLog(
        bot,
        () =>
          alice.waitForMessage(
            room,
            setup.userId,
            (t) => t.endsWith("Echo: alice while gone"),
            120_000,
          ),
      );
      await nio.signal("back");
      const report = await withLog(bot, () => nio!.step(5, 180_000));
      const texts = (report.report ?? []).map((m) => m.text);
      strictEqual(
        texts.filter((t) => t.endsWith("Echo: nio while gone")).length,
        1,
        texts.join("|"),
      );
      strictEqual(texts.filter((t) => t.endsWith("Echo: nio before")).length, 1, texts.join("|"));
      strictEqual(
        answers(alice, room, setup.userId, "Echo: alice before"),
        1,
        "not answered again",
      );

      // Alice verified the bot user once: the new device is trusted through it.
      const crypto = alice.client.getCrypto()!;
      const status = await waitFor("alice to trust the new device", async () => {
        const s = await crypto.getDeviceVerificationStatus(setup.userId, now.device_id);
        return s?.crossSigningVerified ? s : undefined;
      }, 60_000);
      ok(status.isVerified());
      ok((await crypto.getUserVerificationStatus(setup.userId)).isCrossSigningVerified());
      const after = await accountKeys(setup.userId, now.access_token);
      strictEqual(after.masterKey, backedUp.masterKey, "the same cross-signing identity");
      strictEqual(after.secretStorageKey, backedUp.secretStorageKey, "the same secret storage");
      strictEqual(after.backupVersion, backedUp.backupVersion, "the same backup");
      ok(!bot.log.some((l) => /Cross-signing set up.*new|recovery_reset/.test(l)));
      console.log(`store-lost journey: ${Math.round(performance.now() - started)} ms`);
    } finally {
      await nio?.close();
      await bot.stop();
      alice.stop();
      await setup.remove();
    }
  },
});
