/**
 * The operator restarts the bot while people keep talking (matrix-js-sdk
 * users, a plain and an encrypted room): what was said during a short
 * downtime is answered exactly once; after a downtime longer than
 * `matrix.catch_up_seconds` it is not answered at all, and the log counts it
 * in one line.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { FakeOpenAI } from "../../fixtures/fake_openai.ts";
import { type BotProcess, type BotSetup, setupBot, TestClient, waitFor } from "../helpers.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

/** Final texts of the bot's messages in a room (placeholders replaced by their edits). */
function botTexts(client: TestClient, room: string, bot: string): string[] {
  return client.seen
    .filter((s) =>
      s.room === room && s.sender === bot && s.type === "m.room.message" && !s.redacted
    )
    .map((s) => TestClient.text(s));
}

/** Two users, a bot, and a plain and an encrypted room with all three in them. */
async function world(fake: FakeOpenAI, config: Record<string, unknown> = {}) {
  const alice = await TestClient.create("alice");
  const bob = await TestClient.create("bob");
  const setup = await setupBot({ providerUrl: fake.url, admins: [alice.userId], config });
  const runs: BotProcess[] = [await setup.start()];
  await runs[0].ready();
  const plain = await alice.createRoom({ encrypted: false, invite: [setup.userId, bob.userId] });
  const secret = await alice.createRoom({ invite: [setup.userId, bob.userId] });
  const rooms = [plain, secret];
  for (const room of rooms) {
    await bob.join(room);
    await alice.waitForJoin(room, setup.userId);
    await bob.waitForJoin(room, setup.userId);
  }
  return { alice, bob, setup, runs, rooms };
}

/** Waits for the bot's answer to `.ai <text>` in `room`. */
function answered(client: TestClient, setup: BotSetup, room: string, text: string) {
  return client.waitForMessage(room, setup.userId, (t) => t.endsWith(`Echo: ${text}`), 60_000);
}

Deno.test({
  name:
    "restart: the operator stops the bot (SIGTERM, then kill -9) while people keep talking in a plain and an encrypted room, and everything said meanwhile is answered exactly once",
  ...opts,
  async fn() {
    const started = performance.now();
    await using fake = FakeOpenAI.start();
    const { alice, bob, setup, runs, rooms } = await world(fake);
    const said: Array<{ client: TestClient; room: string; text: string }> = [];
    const say = async (client: TestClient, room: string, text: string) => {
      await client.send(room, `.ai ${text}`);
      said.push({ client, room, text });
    };
    const restart = async (signal: Deno.Signal) => {
      const run = runs.at(-1)!;
      const status = await run.stop(signal);
      if (signal === "SIGTERM") strictEqual(status.code, 0, run.log.slice(-8).join("\n"));
    };
    try {
      for (const [i, room] of rooms.entries()) {
        await say(alice, room, `good morning ${i}`);
        await answered(alice, setup, room, `good morning ${i}`);
      }

      await restart("SIGTERM");
      for (const [i, room] of rooms.entries()) {
        await say(alice, room, `alice while stopped ${i}`);
        await say(bob, room, `bob while stopped ${i}`);
      }
      runs.push(await setup.start());
      await runs.at(-1)!.ready();
      for (const [i, room] of rooms.entries()) {
        await answered(alice, setup, room, `bob while stopped ${i}`);
      }

      // kill -9 in the middle of the conversation: one message just before, more while it is down.
      for (const [i, room] of rooms.entries()) await say(bob, room, `bob just before ${i}`);
      await restart("SIGKILL");
      for (const [i, room] of rooms.entries()) {
        await say(alice, room, `alice while killed ${i}`);
        await say(bob, room, `bob while killed ${i}`);
      }
      runs.push(await setup.start());
      await runs.at(-1)!.ready();
      for (const [i, room] of rooms.entries()) await say(alice, room, `alice after ${i}`);

      for (const { client, room, text } of said) await answered(client, setup, room, text);
      await new Promise((r) => setTimeout(r, 1500)); // late duplicates would show up now
      for (const [i, room] of rooms.entries()) {
        const texts = botTexts(alice, room, setup.userId);
        for (const { text } of said.filter((s) => s.room === room)) {
          strictEqual(
            texts.filter((t) => t.endsWith(`Echo: ${text}`)).length,
            1,
            `"${text}" answered once in room ${i}: ${JSON.stringify(texts)}`,
          );
        }
        strictEqual(texts.length, said.filter((s) => s.room === room).length, "nothing else");
      }
      const log = runs.flatMap((r) => r.log);
      deepStrictEqual(log.filter((l) => /Not answering/.test(l)), [], "nothing was skipped");
      console.log(
        `restart within the window: ${((performance.now() - started) / 1000).toFixed(1)} s`,
      );
    } catch (error) {
      for (const [i, run] of runs.entries()) {
        console.error(`--- bot run ${i}\n${run.log.slice(-30).join("\n")}`);
      }
      throw error;
    } finally {
      await runs.at(-1)!.stop();
      alice.stop();
      bob.stop();
      await setup.remove();
    }
  },
});

Deno.test({
  name:
    "restart: after a downtime longer than matrix.catch_up_seconds, nothing said meanwhile is answered, not even after another restart, and the log counts it in one line",
  ...opts,
  async fn() {
    const started = performance.now();
    await using fake = FakeOpenAI.start();
    const WINDOW = 2;
    const { alice, bob, setup, runs, rooms } = await world(fake, {
      matrix: { catch_up_seconds: WINDOW },
    });
    try {
      for (const [i, room] of rooms.entries()) {
        await alice.send(room, `.ai good morning ${i}`);
        await answered(alice, setup, room, `good morning ${i}`);
      }
      // An answer in progress when the bot is killed stays in its inbox. (Bob's:
      // his unanswered message stays in his thread until decision 30 is built.)
      await bob.send(rooms[0], ".ai sleep:30000 interrupted");
      await waitFor(
        "the model to be asked",
        () =>
          fake.chats.some((r) => /interrupted/.test(JSON.stringify(r.messages.at(-1)))) ||
          undefined,
      );
      await runs[0].stop("SIGKILL");
      for (const [i, room] of rooms.entries()) {
        await alice.send(room, `.ai alice while down ${i}`);
        await bob.send(room, `.ai bob while down ${i}`);
      }
      // Just past the window: everything above is older than it at the next start.
      await new Promise((r) => setTimeout(r, WINDOW * 1000 + 300));

      runs.push(await setup.start());
      await runs[1].ready();
      await runs[1].waitForLog(/Not answering \d+ messages/);
      deepStrictEqual(
        runs[1].log.filter((l) => /Not answering/.test(l)).map((l) => l.replace(/^.*INFO\s+/, "")),
        [
          `matrix: Not answering 5 messages that arrived while the bot was down and are older than matrix.catch_up_seconds (${WINDOW} s)`,
        ],
      );
      // Killed again at once: what was skipped must stay skipped.
      await runs[1].stop("SIGKILL");
      runs.push(await setup.start());
      await runs[2].ready();
      for (const [i, room] of rooms.entries()) {
        await alice.send(room, `.ai alice back ${i}`);
        await answered(alice, setup, room, `alice back ${i}`);
      }
      await new Promise((r) => setTimeout(r, 1500)); // a late answer to the old ones would show up now
      for (const [i, room] of rooms.entries()) {
        const texts = botTexts(alice, room, setup.userId);
        ok(
          !texts.some((t) => /Echo: (alice|bob) while down|Echo: interrupted/.test(t)),
          `nothing from the downtime answered in room ${i}: ${JSON.stringify(texts)}`,
        );
      }
      deepStrictEqual(runs[2].log.filter((l) => /Not answering|left from before/.test(l)), []);
      const asked = fake.chats.map((r) => JSON.stringify(r.messages.at(-1)));
      ok(!asked.some((m) => /while down/.test(m)), "the model never saw the downtime");
      strictEqual(asked.filter((m) => /interrupted/.test(m)).length, 1, "no second try");
      console.log(
        `restart past the window: ${((performance.now() - started) / 1000).toFixed(1)} s`,
      );
    } catch (error) {
      for (const [i, run] of runs.entries()) {
        console.error(`--- bot run ${i}\n${run.log.slice(-30).join("\n")}`);
      }
      throw error;
    } finally {
      await runs.at(-1)!.stop();
      alice.stop();
      bob.stop();
      await setup.remove();
    }
  },
});
