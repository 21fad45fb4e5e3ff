/**
 * Restarts and crashes: the bot keeps one device and its identity keys,
 * answers what was sent while it was down, answers nothing twice, and never
 * leaves an undecryptable message — after SIGTERM and after `kill -9` at
 * random moments while messages are being sent.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { FakeOpenAI } from "../fixtures/fake_openai.ts";
import {
  type BotProcess,
  type BotSetup,
  type Scenario,
  scenario,
  setupBot,
  TestClient,
  type TestClient as Client,
  waitFor,
} from "./helpers.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

async function deviceOf(setup: BotSetup): Promise<string> {
  return JSON.parse(await Deno.readTextFile(`${setup.storePath}/session.json`)).device_id;
}

async function identityKeys(client: Client, userId: string): Promise<Record<string, unknown>> {
  const devices = await client.client.getCrypto()!.getUserDeviceInfo([userId], true);
  const out: Record<string, unknown> = {};
  for (const [id, device] of devices.get(userId) ?? new Map()) {
    out[id] = { ed25519: device.getFingerprint(), curve25519: device.getIdentityKey() };
  }
  return out;
}

/** Final texts of the bot's messages in a room (placeholders replaced by their edits). */
// In the order the homeserver received them (`seen` is in the order the
// client could read them: an answer whose keys came late is seen late).
function botTexts(client: Client, room: string, bot: string): string[] {
  return client.seen
    .filter((s) =>
      s.room === room && s.sender === bot && s.type === "m.room.message" && !s.redacted
    )
    .toSorted((a, b) => a.ts - b.ts)
    .map((s) => TestClient.text(s));
}

/** Asks `.ai <text>`; once the model has it, sends `signal` and waits for the bot to start stopping. */
async function signalWhileAnswering(s: Scenario, signal: Deno.Signal, text: string) {
  await s.alice.send(s.room, `.ai ${text}`);
  await s.bot.waitForLog(/sent \.ai in /);
  s.bot.child.kill(signal);
  await s.bot.waitForLog(/Stopping \(signal received\)/);
}

Deno.test({
  name:
    "a stop signal delivered twice at once (terminal or service manager plus the task runner) still stops gracefully",
  ...opts,
  async fn() {
    const s = await scenario({ latencyMs: 1500 });
    try {
      await signalWhileAnswering(s, "SIGINT", "in flight");
      // Apart enough not to merge into one pending signal, close enough to be one stop.
      await new Promise((r) => setTimeout(r, 100));
      s.bot.child.kill("SIGINT");
      strictEqual((await s.bot.status).code, 0, s.bot.log.slice(-8).join("\n"));
      ok(!s.bot.log.some((l) => /Second signal/.test(l)), "the duplicate was not a second signal");
      await s.alice.waitForMessage(s.room, s.setup.userId, (t) => t.endsWith("Echo: in flight"));
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name:
    "a second stop signal a moment later ends the wait for answers at once (exit 1), and the answer comes after the restart",
  ...opts,
  async fn() {
    const s = await scenario({ latencyMs: 8000 });
    try {
      await signalWhileAnswering(s, "SIGTERM", "slow");
      await new Promise((r) => setTimeout(r, 1500));
      s.bot.child.kill("SIGTERM");
      strictEqual((await s.bot.status).code, 1, s.bot.log.slice(-8).join("\n"));
      ok(s.bot.log.some((l) => /Second signal: exiting now/.test(l)));
      s.fake.latencyMs = 0;
      s.bot = await s.setup.start();
      await s.bot.ready();
      await s.alice.waitForMessage(s.room, s.setup.userId, (t) => t.endsWith("Echo: slow"));
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name: "after SIGTERM the same device answers, in order, what was sent while it was down",
  ...opts,
  async fn() {
    await using fake = FakeOpenAI.start();
    const alice = await TestClient.create("alice");
    const setup = await setupBot({ providerUrl: fake.url, admins: [alice.userId] });
    let bot = await setup.start();
    try {
      await bot.ready();
      const room = await alice.createRoom({ invite: [setup.userId] });
      await alice.waitForJoin(room, setup.userId);
      await alice.send(room, ".ai before");
      await alice.waitForMessage(room, setup.userId, (t) => t.endsWith("Echo: before"));
      const device = await deviceOf(setup);
      const keys = await identityKeys(alice, setup.userId);
      strictEqual((await bot.stop("SIGTERM")).code, 0);
      ok(
        bot.log.some((l) => /Journal self-check: identical/.test(l)),
        "journal equals the live store",
      );

      await alice.send(room, ".ai while down 1");
      await alice.send(room, ".ai while down 2");
      bot = await setup.start();
      await bot.ready();
      await alice.waitForMessage(room, setup.userId, (t) => t.endsWith("Echo: while down 2"));
      await alice.waitForMessage(room, setup.userId, (t) => t.endsWith("Echo: while down 1"));
      strictEqual(await deviceOf(setup), device, "same device id");
      deepStrictEqual(
        await identityKeys(alice, setup.userId),
        keys,
        "same device, same identity keys, no new device",
      );
      const texts = botTexts(alice, room, setup.userId);
      strictEqual(
        texts.filter((t) => t.endsWith("Echo: before")).length,
        1,
        "nothing answered twice",
      );
      strictEqual(texts.filter((t) => t.endsWith("Echo: while down 1")).length, 1);
      ok(
        texts.indexOf(texts.find((t) => t.endsWith("while down 1"))!) <
          texts.indexOf(texts.find((t) => t.endsWith("while down 2"))!),
        "one user's messages are answered in order",
      );
      // The second request of the restarted bot must carry the earlier exchange.
      const last = fake.chats.at(-1)!.messages.map((m) => String(m.content));
      ok(
        last.includes("before") && last.includes("while down 1"),
        "the thread survived the restart",
      );
    } finally {
      await bot.stop();
      alice.stop();
      await setup.remove();
    }
  },
});

/** A deterministic PRNG (mulberry32) so a failing run can be repeated. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KILLS = Number(Deno.env.get("E2E_KILLS") ?? 22);

Deno.test({
  name:
    `kill -9 at random moments (${KILLS} kills) loses no message, answers none twice, keeps the device`,
  ...opts,
  async fn() {
    const seed = Number(Deno.env.get("E2E_SEED") ?? Date.now() % 100000);
    console.log(`crash test seed ${seed} (E2E_SEED=${seed} repeats it)`);
    const random = prng(seed);
    await using fake = FakeOpenAI.start({ latencyMs: 150 });
    const alice = await TestClient.create("alice");
    const bob = await TestClient.create("bob");
    const setup = await setupBot({
      providerUrl: fake.url,
      admins: [alice.userId],
      // Megolm sessions rotate often, so keys cross the crashes too.
      config: { llm: { thinking: true } },
    });
    const env: Record<string, string> = Deno.env.get("E2E_BOT_DEBUG")
      ? { INFINIGPT_LOG_LEVEL: "DEBUG" }
      : {};
    let bot: BotProcess = await setup.start(env);
    const allLogs: string[][] = [bot.log];
    const sent: Array<{ client: Client; text: string; eventId: string }> = [];
    try {
      await bot.ready();
      const room = await alice.createRoom({ invite: [setup.userId, bob.userId] });
      await bob.join(room);
      await alice.waitForJoin(room, setup.userId);
      await alice.waitForJoin(room, bob.userId);
      const device = await deviceOf(setup);
      const keys = await identityKeys(alice, setup.userId);

      // Joining may reset a timeline once; only later gaps would hide events.
      const gapsBefore = [alice.gaps, bob.gaps];
      let n = 0;
      let sending = true;
      const sender = (async () => {
        while (sending) {
          const client = random() < 0.5 ? alice : bob;
          const text = `m${n++}`;
          const eventId = await client.send(room, `.ai ${text}`);
          sent.push({ client, text, eventId });
          await new Promise((r) => setTimeout(r, 80 + random() * 250));
        }
      })();

      let kills = 0;
      for (; kills < KILLS; kills++) {
        await new Promise((r) => setTimeout(r, 200 + random() * 1800));
        await bot.stop("SIGKILL");
        // Sometimes restart at once, sometimes after a pause with messages piling up.
        if (random() < 0.3) await new Promise((r) => setTimeout(r, 500 + random() * 1500));
        bot = await setup.start(env);
        allLogs.push(bot.log);
        await bot.ready();
      }
      sending = false;
      await sender;

      // Every message answered, exactly once, with its placeholder resolved.
      for (const { client, text } of sent) {
        try {
          await client.waitForMessage(
            room,
            setup.userId,
            (t) => t.endsWith(`Echo: ${text}`),
            60_000,
          );
        } catch (error) {
          const missing = sent.filter(({ text }) =>
            !botTexts(alice, room, setup.userId).some((t) => t.endsWith(`Echo: ${text}`))
          );
          console.log(`missing: ${missing.map((m) => `${m.text} ${m.eventId}`).join(", ")}`);
          for (const c of [alice, bob]) {
            const utd = c.seen.filter((s) => s.room === room && s.failure);
            console.log(
              `${c.userId} could not decrypt ${utd.length}: ${
                utd.map((u) => `${u.eventId} ${u.failure}`).join("; ")
              }`,
            );
          }
          allLogs.forEach((log, i) =>
            console.log(`--- bot run ${i}\n${log.filter((l) => !/DEBUG/.test(l)).join("\n")}`)
          );
          throw error;
        }
      }
      await new Promise((r) => setTimeout(r, 2000)); // late duplicates would show up now
      const texts = botTexts(alice, room, setup.userId);
      const duplicates = sent.filter(({ text }) =>
        texts.filter((t) => t.endsWith(`Echo: ${text}`)).length > 1
      );
      const stuck = texts.filter((t) => /Thinking\.*$/.test(t));
      console.log(
        `crash test: ${kills} kills, ${sent.length} messages, ${
          sent.length - duplicates.length
        } answered once, ${duplicates.length} duplicated, ${stuck.length} placeholders left, ` +
          `gappy syncs: alice ${alice.gaps - gapsBefore[0]}, bob ${bob.gaps - gapsBefore[1]}`,
      );
      if (stuck.length || duplicates.length) {
        const bad = alice.seen.filter((s) =>
          s.room === room && s.sender === setup.userId && /Thinking\.*$/.test(TestClient.text(s))
        );
        console.log(
          `stuck: ${bad.map((b) => `${b.eventId} ${JSON.stringify(b.content.body)}`).join("; ")}`,
        );
        allLogs.forEach((log, i) => console.log(`--- bot run ${i}\n${log.join("\n")}`));
      }
      deepStrictEqual(
        [alice.gaps, bob.gaps],
        gapsBefore,
        "the clients saw every event (no gappy sync), so what follows is the bot's doing",
      );
      deepStrictEqual(duplicates.map((d) => d.text), [], "no message answered twice");
      for (const client of [alice, bob]) {
        const mine = sent.filter((m) => m.client === client).map((m) => m.text);
        const order = mine.map((text) => texts.findIndex((t) => t.endsWith(`Echo: ${text}`)));
        deepStrictEqual(
          order,
          [...order].sort((a, b) => a - b),
          `${client.userId}'s answers are in order`,
        );
      }
      // CI shows only the assertion: let it name what the bot said about them.
      const stuckIds = alice.seen.filter((s) =>
        s.room === room && s.sender === setup.userId && !s.redacted &&
        /Thinking\.*$/.test(TestClient.text(s))
      ).map((s) => s.eventId);
      const said = allLogs.flat().filter((l) => stuckIds.some((id) => l.includes(id)));
      deepStrictEqual(
        stuck,
        [],
        `every placeholder resolved (${stuckIds.join(", ")}; bot: ${
          said.join(" | ").slice(0, 2000)
        })`,
      );
      strictEqual(await deviceOf(setup), device, "same device id after every crash");
      deepStrictEqual(await identityKeys(alice, setup.userId), keys, "same identity keys");
      ok(
        !bot.log.some((l) => /Waiting for the keys/.test(l)),
        "no undecryptable message after the crashes",
      );
      await waitFor(
        "bob saw the bot's answers",
        () => botTexts(bob, room, setup.userId).length > 0 || undefined,
      );
    } finally {
      await bot.stop();
      // Every run's whole log, for a failure that only shows on a slower machine.
      const logDir = Deno.env.get("E2E_LOG_DIR");
      if (logDir) {
        await Deno.writeTextFile(
          `${logDir}/crash-${seed}.log`,
          allLogs.map((log, i) => `--- bot run ${i}\n${log.join("\n")}`).join("\n"),
        );
      }
      alice.stop();
      bob.stop();
      await setup.remove();
    }
  },
});
