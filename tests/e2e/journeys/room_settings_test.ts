/**
 * Running a room, from the users' side: the room's creator (a moderator by
 * the room's power levels, not a bot admin) gives the room its own model, a
 * member is refused until the moderator promotes them, and `.usage` shows
 * everyone what their answers cost — against the real Synapse and the real
 * bot process: in an encrypted room with matrix-js-sdk clients, and in a
 * plain room with a matrix-nio user.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { FakeOpenAI } from "../../fixtures/fake_openai.ts";
import { type BotProcess, setupBot, TestClient } from "../helpers.ts";
import { NioPeer } from "./nio_peer.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test({
  name:
    "room settings: the room's moderator sets the room's model, a member below moderator is refused until promoted, answers use the room's model, and .usage shows the tokens and cost they took",
  ...opts,
  async fn() {
    const started = performance.now();
    await using fake = FakeOpenAI.start();
    // No bot admins: the moderator's right comes from the room alone.
    const setup = await setupBot({
      providerUrl: fake.url,
      config: { llm: { prices: { "gpt-5*": { input: 1.25, output: 10 } } } },
    });
    const mod = await TestClient.create("mod");
    const member = await TestClient.create("member");
    // The operator lists the moderator's room, so the bot accepts its invite.
    const room = await mod.createRoom({ invite: [setup.userId, member.userId] });
    await setup.reconfigure({ matrix: { channels: [room] } });
    const bot = await setup.start();
    try {
      await bot.ready();
      await member.join(room);
      await mod.waitForJoin(room, setup.userId, 60_000);
      const reply = (client: TestClient, text: string | RegExp) =>
        client.waitForMessage(
          room,
          setup.userId,
          (t) => typeof text === "string" ? t === text : text.test(t),
          60_000,
        );

      await member.send(room, ".room model gpt-5-mini");
      await reply(
        member,
        /^Sorry .*, only bot admins and room moderators \(power level 50 or more\) can change room settings\.$/,
      );
      await mod.send(room, ".room model gpt-5-mini");
      await reply(mod, "Room model set to gpt-5-mini");

      fake.enqueue({
        content: "Echo: hello",
        usage: { prompt_tokens: 1200, completion_tokens: 34 },
      });
      await member.send(room, ".ai hello");
      await reply(member, /Echo: hello$/);
      strictEqual(fake.chats.at(-1)?.body.model, "gpt-5-mini", "the room's model answered");

      await member.send(room, ".usage");
      const usage = await reply(member, /^\*\*Usage for /);
      const lines = TestClient.text(usage).split("\n");
      strictEqual(lines[1], "**Today**: 1,200 in / 34 out tokens, $0.0018");
      strictEqual(lines[2], "- gpt-5-mini: 1,200 in / 34 out tokens, $0.0018");

      // The moderator promotes the member; the bot reads the new power level from the room.
      await mod.client.setPowerLevel(room, member.userId, 50);
      await member.send(room, ".room stream off");
      await reply(member, "Room stream set to off");
      await mod.send(room, ".room");
      const shown = TestClient.text(await reply(mod, /^\*\*Room settings\*\*/));
      ok(shown.includes("- model: gpt-5-mini"), shown);
      ok(shown.includes("- stream: off"), shown);
      console.log(`room settings: ${((performance.now() - started) / 1000).toFixed(1)} s`);
    } catch (error) {
      console.error(`--- bot log\n${bot.log.slice(-40).join("\n")}`);
      throw error;
    } finally {
      await bot.stop();
      mod.stop();
      member.stop();
      await setup.remove();
    }
  },
});

Deno.test({
  name:
    "room settings: a matrix-nio user who made a plain room gives it another model, and .usage shows each model's tokens after the answers",
  ...opts,
  async fn() {
    const started = performance.now();
    await using fake = FakeOpenAI.start();
    const setup = await setupBot({
      providerUrl: fake.url,
      config: { llm: { prices: { "gpt-5*": { input: 1.25, output: 10 } } } },
    });
    const botId = setup.userId;
    const steps = [
      { create: "plain", encrypted: false },
      { wait_signal: "started" },
      { room: "$plain", invite: botId },
      { room: "$plain", wait_member: botId },
      { room: "$plain", send: ".ai hello", expect: "Echo: hello" },
      { room: "$plain", send: ".room model gpt-5-mini", expect: "Room model set to gpt-5-mini" },
      { room: "$plain", send: ".ai again", expect: "Echo: again" },
      { room: "$plain", send: ".usage", expect: "**Usage for" },
    ];
    const nio = await NioPeer.start({ peer: botId, timeout: 60, steps }, "user");
    let bot: BotProcess | undefined;
    try {
      const { room } = await nio.step(0);
      // The operator lists the user's room, so the bot accepts the invite of someone not an admin.
      await setup.reconfigure({ matrix: { channels: [room] } });
      bot = await setup.start();
      await bot.ready();
      fake.enqueue(
        { content: "Echo: hello", usage: { prompt_tokens: 100, completion_tokens: 10 } },
        { content: "Echo: again", usage: { prompt_tokens: 30, completion_tokens: 4 } },
      );
      await nio.signal("started");
      await nio.step(3);
      for (const i of [4, 5, 6]) strictEqual((await nio.step(i)).ok, true, `step ${i}`);
      deepStrictEqual(fake.chats.map((c) => c.body.model), ["gpt-4.1-nano", "gpt-5-mini"]);
      const usage = (await nio.step(7)).messages?.find((m) => m.text.startsWith("**Usage for"));
      deepStrictEqual(usage?.text.split("\n").slice(1, 4), [
        "**Today**: 130 in / 14 out tokens, $0.0001",
        "- gpt-4.1-nano: 100 in / 10 out tokens",
        "- gpt-5-mini: 30 in / 4 out tokens, $0.0001",
      ]);
      console.log(`room settings (nio): ${((performance.now() - started) / 1000).toFixed(1)} s`);
    } catch (error) {
      console.error(`--- bot log\n${bot?.log.slice(-40).join("\n")}`);
      throw error;
    } finally {
      await bot?.stop();
      await nio.close();
      await setup.remove();
    }
  },
});
