/**
 * Streamed answers, from the user's side (decision 35): a question the
 * model answers at once arrives as one message (no "Thinking…" and no edit);
 * one it writes slowly shows its first words early and grows in place, by
 * edits, into exactly the whole answer. A matrix-nio user in an encrypted
 * room and a matrix-js-sdk user in a plain room, on the bot's defaults.
 */
import { ok, strictEqual } from "node:assert/strict";
import { FakeOpenAI } from "../../fixtures/fake_openai.ts";
import { type Seen, setupBot, TestClient, unique } from "../helpers.ts";
import { NioPeer } from "./nio_peer.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

const WORDS = "one two three four five six seven eight nine ten eleven twelve";
/** The fake writes this answer word by word over 3 s. */
const SLOW = `.ai slow:3000 ${WORDS}`;

/** Each version is the one before it, grown; the last is the whole text. */
function assertGrowing(all: string[], whole: string): void {
  // On a loaded machine the first words may come after the placeholder's clock.
  const versions = all[0].endsWith("Thinking.") ? all.slice(1) : all;
  ok(versions.length >= 2, `versions: ${JSON.stringify(all)}`);
  for (let i = 1; i < versions.length; i++) {
    ok(versions[i].startsWith(versions[i - 1].trimEnd()), JSON.stringify(versions));
    ok(versions[i].length > versions[i - 1].length, JSON.stringify(versions));
  }
  strictEqual(versions.at(-1), whole);
  ok(!versions.some((v) => v.includes("Thinking")), "the placeholder only ever comes first");
}

Deno.test({
  name:
    "a slow answer grows in place: a fast answer is one message, a slow one shows its first words early and grows by edits into the whole answer — to a matrix-nio user in an encrypted room and a matrix-js-sdk user in a plain room",
  ...opts,
  async fn() {
    await using fake = FakeOpenAI.start();
    const setup = await setupBot({ providerUrl: fake.url });
    const botId = setup.userId;
    const nio = await NioPeer.start({
      peer: botId,
      displayname: "Nina",
      timeout: 90,
      steps: [
        { create: "secret", alias: unique("stream"), encrypted: true, invite: [botId] },
        { room: "$secret", wait_member: botId },
        { room: "$secret", send: ".ai quick one", expect: "Echo: quick one", settle_ms: 1500 },
        { room: "$secret", send: SLOW, expect: `Echo: ${WORDS}`, settle_ms: 1500 },
      ],
    }, "nina");
    const jim = await TestClient.create("jim");
    // They invite the bot: only admins may.
    await setup.reconfigure({ matrix: { admins: [jim.userId, nio.userId] } });
    const bot = await setup.start();
    try {
      await bot.ready();
      const plain = await jim.createRoom({ encrypted: false, invite: [botId] });
      await jim.waitForJoin(plain, botId);
      const jimName = jim.userId.slice(1).split(":")[0];

      // The js-sdk user: a fast answer, then a slow one.
      const fromBot = () =>
        jim.seen.filter((s) =>
          s.room === plain && s.sender === botId && s.type === "m.room.message"
        );
      await jim.send(plain, ".ai quick one");
      const quick = await jim.waitForMessage(plain, botId, (t) => t.includes("Echo: quick one"));
      const asked = performance.now();
      await jim.send(plain, SLOW);
      const slow = await jim.waitForMessage(
        plain,
        botId,
        (t, s) => s !== quick && t.endsWith(WORDS),
        60_000,
      );
      const answered = performance.now();
      await new Promise((r) => setTimeout(r, 1500)); // anything extra would show by now
      strictEqual(fromBot().length, 2, JSON.stringify(fromBot()));
      const whole = (text: string) => `**${jimName}**:\nEcho: ${text}`;
      strictEqual(quick.content.body, whole("quick one"));
      strictEqual(jim.edits.filter((e) => e.target === quick.eventId).length, 0, "no edit");
      const versions = [
        String(slow.content.body),
        ...jim.edits.filter((e) => e.target === slow.eventId).map((e) => e.body),
      ];
      assertGrowing(versions, whole(WORDS));
      strictEqual(TestClient.text(slow as Seen), whole(WORDS));
      const edits = jim.edits.filter((e) => e.target === slow.eventId).map((e) => e.ts);
      const times = [slow.ts, ...edits];
      const gaps = times.slice(1).map((t, i) => t - times[i]);
      console.log(
        `streamed to js-sdk: ${versions.length} versions, gaps ${gaps.join("/")} ms (server), ` +
          `whole answer after ${Math.round(answered - asked)} ms`,
      );

      // The nio user, in the encrypted room.
      const fast = await nio.step(2);
      const fastAnswers = fast.messages ?? [];
      strictEqual(fastAnswers.length, 1, JSON.stringify(fastAnswers));
      strictEqual(fastAnswers[0].edits.length, 0, "a fast answer is never edited");
      ok(fastAnswers[0].encrypted, "answers in the encrypted room are encrypted");
      ok(/^\*\*.+\*\*:\nEcho: quick one$/.test(fastAnswers[0].body), fastAnswers[0].body);
      const streamed = await nio.step(3);
      const answers = streamed.messages ?? [];
      strictEqual(answers.length, 1, JSON.stringify(answers));
      const header = answers[0].body.split("\n")[0];
      assertGrowing(
        [answers[0].body, ...answers[0].edits.map((e) => e.body ?? "")],
        `${header}\nEcho: ${WORDS}`,
      );
      ok(answers[0].edits.every((e) => e.encrypted), "every edit encrypted");
    } finally {
      await bot.stop();
      jim.stop();
      await nio.close();
      await setup.remove();
    }
  },
});
