/**
 * Rooms of room version 12, whose IDs have no server part (`!` and 43
 * characters of URL-safe base64), listed by ID in `matrix.channels` and
 * `matrix.allowed_rooms`, with a matrix-nio user.
 */
import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import { FakeOpenAI } from "../../fixtures/fake_openai.ts";
import { type BotProcess, setupBot } from "../helpers.ts";
import { NioPeer } from "./nio_peer.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test({
  name:
    "room version 12: listed by ID in channels and allowed_rooms, a public plain room is joined at start and an encrypted one when its (non-admin) creator invites the bot; the bot answers in both and not in a version 12 room left out of allowed_rooms",
  ...opts,
  async fn() {
    const started = performance.now();
    await using fake = FakeOpenAI.start();
    const setup = await setupBot({ providerUrl: fake.url });
    const botId = setup.userId;
    const steps = [
      { create: "plain", room_version: "12", preset: "public_chat" },
      { create: "secret", room_version: "12", encrypted: true },
      { create: "other", room_version: "12", preset: "public_chat" },
      { wait_signal: "configured" },
      { room: "$secret", invite: botId },
      { room: "$plain", wait_member: botId },
      { room: "$secret", wait_member: botId },
      { room: "$other", wait_member: botId },
      { room: "$other", send: ".ai not an allowed room", count: 0 },
      { room: "$plain", send: ".ai hello v12 plain", expect: "Echo: hello v12 plain" },
      { room: "$secret", send: ".ai hello v12 secret", expect: "Echo: hello v12 secret" },
      { room: "$other", report: true, settle_ms: 1000 },
    ];
    const nio = await NioPeer.start({ peer: botId, timeout: 60, steps }, "user");
    let bot: BotProcess | undefined;
    try {
      const [plain, secret, other] = [0, 1, 2].map(async (i) => (await nio.step(i)).room!);
      const ids = { plain: await plain, secret: await secret, other: await other };
      for (const id of Object.values(ids)) match(id, /^![A-Za-z0-9_-]{43}$/, "a version 12 ID");
      await setup.reconfigure({
        matrix: {
          channels: [ids.plain, ids.secret, ids.other],
          allowed_rooms: [ids.plain, ids.secret],
        },
      });
      bot = await setup.start();
      const ready = await bot.ready();
      ok(ready.includes(`rooms joined: ${ids.plain}, ${ids.secret} (failed: `), ready);
      await nio.signal("configured");
      for (const i of [9, 10]) {
        const step = await nio.step(i);
        strictEqual(step.ok, true, step.error);
        strictEqual(step.messages?.length, 1, JSON.stringify(step.messages));
      }
      const report = await nio.step(11);
      deepStrictEqual(report.report, [], "no answer outside allowed_rooms");
      ok(
        bot.log.some((l) =>
          l.includes(`Accepted the invite of ${nio.userId} to ${ids.secret}: the room is in`)
        ),
        "the channel's invite was accepted from a non-admin",
      );
      console.log(`room version 12: ${((performance.now() - started) / 1000).toFixed(1)} s`);
    } catch (error) {
      if (bot) console.error(`--- bot\n${bot.log.slice(-40).join("\n")}`);
      throw error;
    } finally {
      await bot?.stop();
      await nio.close();
      await setup.remove();
    }
  },
});
