/**
 * A message the bot cannot read (decision 42), from the user's side: a
 * matrix-nio user whose client withholds its room key from the bot's device
 * is told once (not once per message) that the bot cannot read it; when the
 * key is shared after all, every message is answered.
 */
import { ok, strictEqual } from "node:assert/strict";
import { FakeOpenAI } from "../../fixtures/fake_openai.ts";
import { type BotProcess, setupBot } from "../helpers.ts";
import { NioPeer } from "./nio_peer.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

const NOTICE = "Nio Withheld, I can't read your encrypted message yet. " +
  "If this keeps happening, verify me or send it again.";

Deno.test({
  name:
    "a withheld room key: the matrix-nio user whose client blacklisted the bot's device is told once that the bot cannot read them, and when the key is shared after all, every message is answered",
  ...opts,
  async fn() {
    const started = performance.now();
    await using fake = FakeOpenAI.start();
    const setup = await setupBot({ providerUrl: fake.url, config: {} });
    const steps = [
      { wait_signal: "go" },
      { create: "r", encrypted: true, invite: [setup.userId] },
      { room: "$r", wait_member: setup.userId },
      { room: "$r", send: ".ai hello", expect: "Echo: hello" },
      { room: "$r", blacklist: setup.userId },
      { room: "$r", send: ".ai withheld one", expect: "can't read your encrypted message yet" },
      { room: "$r", send: ".ai withheld two", count: 0 },
      { room: "$r", send: ".ai withheld three", count: 0 },
      // Longer than the wait before a notice: the second and third are due by then.
      { room: "$r", report: true, settle_ms: 5000 },
      { room: "$r", reshare: setup.userId },
      { room: "$r", send: ".ai after", expect: "Echo: after" },
      { room: "$r", report: true, settle_ms: 1500 },
    ];
    const nio = await NioPeer.start({
      displayname: "Nio Withheld",
      peer: setup.userId,
      timeout: 120,
      steps,
    });
    let bot: BotProcess | undefined;
    try {
      await setup.reconfigure({ matrix: { admins: [nio.userId], decrypt_wait_seconds: 2 } });
      bot = await setup.start();
      await bot.ready();
      await nio.signal("go");
      const told = await nio.step(8, 180_000).catch((error) => {
        console.error(bot!.log.slice(-30).join("\n"));
        throw error;
      });
      const notices = (told.report ?? []).filter((m) => m.text === NOTICE);
      strictEqual(notices.length, 1, JSON.stringify(told.report?.map((m) => m.text)));
      ok(!told.report?.some((m) => /Echo: withheld/.test(m.text)), "nothing answered unread");
      ok(bot.log.some((l) => /Still cannot decrypt .* asking for its key/.test(l)));

      const last = await nio.step(11, 180_000).catch((error) => {
        console.error(bot!.log.slice(-30).join("\n"));
        throw error;
      });
      const texts = (last.report ?? []).map((m) => m.text);
      for (const word of ["one", "two", "three"]) {
        strictEqual(
          texts.filter((t) => t.endsWith(`Echo: withheld ${word}`)).length,
          1,
          `withheld ${word} answered once: ${texts.join(" | ")}`,
        );
      }
      strictEqual(texts.filter((t) => t === NOTICE).length, 1, "still one notice");
      console.log(`withheld-key journey: ${Math.round(performance.now() - started)} ms`);
    } finally {
      await nio.close();
      await bot?.stop();
      await setup.remove();
    }
  },
});
