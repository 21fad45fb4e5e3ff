/**
 * Talking to the bot the way people talk in Matrix (decisions 37 and 38):
 * a direct chat without any prefix, a reply to the bot, a mention in the
 * middle of a sentence, and a thread that two people share — across a
 * restart of the bot. matrix-nio users for the direct chat and for replies
 * and mentions, matrix-js-sdk users for the thread.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { FakeOpenAI } from "../../fixtures/fake_openai.ts";
import { type BotProcess, setupBot, TestClient } from "../helpers.ts";
import { NioPeer } from "./nio_peer.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

/** The user messages of the model's last request, in order. */
function lastUserMessages(fake: FakeOpenAI): string[] {
  const messages = fake.chats.at(-1)?.messages as Array<{ role: string; content: unknown }>;
  return (messages ?? []).filter((m) => m.role === "user").map((m) => String(m.content));
}

function dumpLogs(runs: readonly BotProcess[]): void {
  for (const [i, run] of runs.entries()) {
    console.error(`--- bot run ${i}\n${run.log.slice(-40).join("\n")}`);
  }
}

Deno.test({
  name:
    "direct chat: a matrix-nio user opens an encrypted direct chat with the bot and just talks, no prefix; once a third person joins, plain chat is no longer answered but .ai still is",
  ...opts,
  async fn() {
    const started = performance.now();
    await using fake = FakeOpenAI.start();
    const carol = await TestClient.create("carol");
    const setup = await setupBot({ providerUrl: fake.url });
    const botId = setup.userId;
    const steps = [
      { wait_signal: "bot started" },
      { create: "dm", encrypted: true, is_direct: true, invite: [botId] },
      { room: "$dm", wait_member: botId },
      { room: "$dm", send: "hello, how are you?", expect: "Echo: hello, how are you?" },
      { room: "$dm", send: "and tomorrow?", expect: "Echo: and tomorrow?" },
      { room: "$dm", invite: carol.userId },
      { room: "$dm", wait_member: carol.userId },
      { room: "$dm", send: "just chatting with carol now", count: 0, settle_ms: 2500 },
      { room: "$dm", send: ".ai still there?", expect: "Echo: still there?" },
      { room: "$dm", report: true, settle_ms: 500 },
    ];
    const nio = await NioPeer.start({ peer: botId, timeout: 90, steps }, "dm");
    const runs: BotProcess[] = [];
    try {
      // Only admins' invites are accepted outside matrix.channels.
      await setup.reconfigure({ matrix: { admins: [nio.userId] } });
      runs.push(await setup.start());
      await runs[0].ready();
      await nio.signal("bot started");
      const room = (await nio.step(1)).room!;
      for (const i of [3, 4]) {
        const step = await nio.step(i);
        strictEqual(step.ok, true, step.error);
        ok(step.sent_encrypted, "the direct chat is encrypted");
      }
      await waitForInvite(carol, room);
      await carol.join(room);
      await nio.step(6);
      await nio.step(7);
      strictEqual((await nio.step(8)).ok, true);
      const texts = ((await nio.step(9)).report ?? []).map((m) => m.text);
      strictEqual(texts.length, 3, JSON.stringify(texts));
      ok(!texts.some((t) => t.includes("just chatting")), "plain chat in a group is not answered");
      ok(
        !fake.chats.some((c) => JSON.stringify(c.messages).includes("just chatting")),
        "the model never saw the plain chat",
      );
      deepStrictEqual(lastUserMessages(fake), [
        "hello, how are you?",
        "and tomorrow?",
        "still there?",
      ]);
      console.log(`direct chat: ${((performance.now() - started) / 1000).toFixed(1)} s`);
    } catch (error) {
      dumpLogs(runs);
      throw error;
    } finally {
      for (const run of runs) await run.stop();
      await nio.close();
      carol.stop();
      await setup.remove();
    }
  },
});

/** Waits until `client` is invited to `room`. */
async function waitForInvite(client: TestClient, room: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (client.client.getRoom(room)?.getMyMembership() !== "invite") {
    if (Date.now() > deadline) throw new Error(`${client.userId} never invited to ${room}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

Deno.test({
  name:
    "replies and mentions: in a group room a matrix-nio user replies to the bot's answer and mentions the bot mid-sentence (pill, and its name typed), without a prefix, and is answered without the mention — in a plain and an encrypted room; chat between people stays unanswered",
  ...opts,
  async fn() {
    const started = performance.now();
    await using fake = FakeOpenAI.start();
    const setup = await setupBot({ providerUrl: fake.url });
    const botId = setup.userId;
    // Synapse gives a registered user its localpart as display name.
    const botName = botId.slice(1).split(":")[0];
    const kinds = ["plain", "secret"] as const;
    const steps: Array<Record<string, unknown>> = [{ wait_signal: "bot started" }];
    const at: Record<string, number> = {};
    const add = (key: string, step: Record<string, unknown>) => {
      at[key] = steps.length;
      steps.push(step);
    };
    for (const k of kinds) {
      const room = `$${k}`;
      add(`create ${k}`, { create: k, encrypted: k === "secret", invite: [botId] });
      add(`joined ${k}`, { room, wait_member: botId });
      add(`ask ${k}`, { room, send: `.ai first ${k}`, expect: `Echo: first ${k}` });
      add(`reply ${k}`, {
        room,
        send: `and then, ${k}?`,
        reply_to: "last",
        expect: `Echo: and then, ${k}?`,
      });
      add(`pill ${k}`, {
        room,
        send: `what do you think, ${botName}, about tea in ${k}?`,
        mentions: [botId],
        expect: `Echo: what do you think, about tea in ${k}?`,
      });
      add(`typed ${k}`, {
        room,
        send: `is @${botName} awake in ${k}`,
        expect: `Echo: is awake in ${k}`,
      });
      add(`chat ${k}`, { room, send: `lunch at noon in ${k}?`, count: 0, settle_ms: 1500 });
      add(`report ${k}`, { room, report: true, settle_ms: 300 });
    }
    const nio = await NioPeer.start({ peer: botId, timeout: 90, steps }, "talker");
    const runs: BotProcess[] = [];
    try {
      await setup.reconfigure({ matrix: { admins: [nio.userId] } });
      runs.push(await setup.start());
      await runs[0].ready();
      await nio.signal("bot started");
      for (const k of kinds) {
        for (const key of ["ask", "reply", "pill", "typed"]) {
          const step = await nio.step(at[`${key} ${k}`]);
          strictEqual(step.ok, true, step.error);
          strictEqual(step.messages?.length, 1, `one answer to ${key} in ${k}`);
        }
        const report = await nio.step(at[`report ${k}`]);
        strictEqual(report.report?.length, 4, JSON.stringify(report.report?.map((m) => m.text)));
        if (k === "secret") ok(report.report!.every((m) => m.decrypted), "answers encrypted");
      }
      ok(
        !fake.chats.some((c) => JSON.stringify(c.messages).includes("lunch at noon")),
        "chat between people never reached the model",
      );
      console.log(`replies and mentions: ${((performance.now() - started) / 1000).toFixed(1)} s`);
    } catch (error) {
      dumpLogs(runs);
      throw error;
    } finally {
      for (const run of runs) await run.stop();
      await nio.close();
      await setup.remove();
    }
  },
});

Deno.test({
  name:
    "threads: Alice asks the bot in a thread, Bob follows up there without a prefix and the bot answers him knowing Alice's question; the operator restarts the bot and Alice's next follow-up continues the same thread conversation (matrix-js-sdk, encrypted room)",
  ...opts,
  async fn() {
    const started = performance.now();
    await using fake = FakeOpenAI.start();
    const alice = await TestClient.create("alice");
    const bob = await TestClient.create("bob");
    const setup = await setupBot({ providerUrl: fake.url, admins: [alice.userId] });
    const bot = setup.userId;
    const runs: BotProcess[] = [await setup.start()];
    try {
      await runs[0].ready();
      const room = await alice.createRoom({ invite: [bot, bob.userId] });
      await bob.join(room);
      await alice.waitForJoin(room, bot);
      await bob.waitForJoin(room, bot);
      const root = await alice.send(room, "planning the trip");
      const inThread = (latest: string) => ({
        "m.relates_to": {
          rel_type: "m.thread",
          event_id: root,
          is_falling_back: true,
          "m.in_reply_to": { event_id: latest },
        },
      });
      const answer = async (client: TestClient, text: string) => {
        const seen = await client.waitForMessage(room, bot, (t) => t.includes(text), 90_000);
        const relates = seen.content["m.relates_to"] as Record<string, unknown> | undefined;
        strictEqual(relates?.rel_type, "m.thread", "the answer stays in the thread");
        strictEqual(relates?.event_id, root);
        return seen.eventId;
      };

      const asked = await alice.send(room, ".ai where should we go?", inThread(root));
      const first = await answer(alice, "where should we go?");
      ok(asked);
      await bob.send(room, "and when?", inThread(first));
      const second = await answer(bob, "and when?");
      const names = lastUserMessages(fake);
      strictEqual(names.length, 2, JSON.stringify(names));
      ok(/^alice.*: where should we go\?$/.test(names[0]), names[0]);
      ok(/^bob.*: and when\?$/.test(names[1]), names[1]);

      strictEqual((await runs[0].stop("SIGTERM")).code, 0);
      runs.push(await setup.start());
      await runs[1].ready();
      await alice.send(room, "how much will it cost?", inThread(second));
      await answer(alice, "how much will it cost?");
      const after = lastUserMessages(fake);
      deepStrictEqual(after.slice(0, 2), names, "the thread's history survived the restart");
      ok(/^alice.*: how much will it cost\?$/.test(after[2]), after[2]);

      // Outside the thread, plain chat is still not for the bot.
      const before = fake.chats.length;
      // Bob's messages are answered in order: his plain chat would come first.
      await bob.send(room, "see you at noon");
      await bob.send(room, ".ai top-level question");
      await bob.waitForMessage(room, bot, (t) => t.endsWith("Echo: top-level question"), 90_000);
      strictEqual(fake.chats.length, before + 1, "only the .ai was answered");
      deepStrictEqual(lastUserMessages(fake), ["top-level question"]);
      console.log(`threads: ${((performance.now() - started) / 1000).toFixed(1)} s`);
    } catch (error) {
      dumpLogs(runs);
      throw error;
    } finally {
      for (const run of runs) await run.stop();
      alice.stop();
      bob.stop();
      await setup.remove();
    }
  },
});
