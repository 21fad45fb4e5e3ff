/**
 * The bot as users meet it: a real Synapse, the real bot process, a real
 * matrix-js-sdk client with Rust crypto.
 */
import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import { FakeOpenAI } from "../fixtures/fake_openai.ts";
import { startToolApis, TEST_PNG } from "../fixtures/tool_apis.ts";
import { setupBot, TestClient } from "./helpers.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test({
  name: "answers .ai in an encrypted room with an encrypted reply, and in a plain room",
  ...opts,
  async fn() {
    await using fake = FakeOpenAI.start();
    const alice = await TestClient.create("alice");
    const setup = await setupBot({ providerUrl: fake.url, admins: [alice.userId] });
    const bot = await setup.start();
    try {
      await bot.ready();
      const secret = await alice.createRoom({ invite: [setup.userId] });
      const plain = await alice.createRoom({ invite: [setup.userId], encrypted: false });
      await alice.waitForJoin(secret, setup.userId);
      await alice.waitForJoin(plain, setup.userId);
      await alice.send(secret, ".ai hello secret");
      await alice.send(plain, ".ai hello plain");
      const a = await alice.waitForMessage(
        secret,
        setup.userId,
        (t) => t.includes("Echo: hello secret"),
      );
      const b = await alice.waitForMessage(
        plain,
        setup.userId,
        (t) => t.includes("Echo: hello plain"),
      );
      ok(a.encrypted, "the reply in the encrypted room is encrypted");
      ok(!b.encrypted, "the reply in the plain room is not");
      match(TestClient.text(a), /^\*\*alice[0-9a-f]+\*\*:\nEcho: hello secret$/);
      const html = String((a.edited ?? a.content).formatted_body);
      match(html, /<strong>alice[0-9a-f]+<\/strong>:<br>/);
    } finally {
      strictEqual((await bot.stop()).code, 0);
      alice.stop();
      await setup.remove();
    }
    ok(bot.log.some((l) => /Journal self-check: identical/.test(l)), bot.log.slice(-5).join("\n"));
  },
});

Deno.test({
  name: "the Thinking placeholder is edited into the answer with m.replace",
  ...opts,
  async fn() {
    await using fake = FakeOpenAI.start();
    const alice = await TestClient.create("alice");
    const setup = await setupBot({ providerUrl: fake.url, admins: [alice.userId] });
    const bot = await setup.start();
    try {
      await bot.ready();
      const room = await alice.createRoom({ invite: [setup.userId] });
      await alice.waitForJoin(room, setup.userId);
      await alice.send(room, ".ai sleep:2500 slow one");
      const placeholder = await alice.waitForMessage(
        room,
        setup.userId,
        (_t, s) => String(s.content.body).includes("Thinking"),
      );
      const final = await alice.waitForMessage(
        room,
        setup.userId,
        (t, s) => s.eventId === placeholder.eventId && t.includes("Echo: slow one"),
      );
      ok(final.edited, "the placeholder was replaced");
      strictEqual(
        alice.seen.filter((s) =>
          s.room === room && s.sender === setup.userId && s.type === "m.room.message"
        )
          .length,
        1,
        "one message: the placeholder became the answer",
      );
    } finally {
      await bot.stop();
      alice.stop();
      await setup.remove();
    }
  },
});

Deno.test({
  name: "an image from a tool arrives encrypted and decrypts to the original bytes",
  ...opts,
  async fn() {
    await using fake = FakeOpenAI.start();
    const apis = startToolApis();
    const alice = await TestClient.create("alice");
    const setup = await setupBot({
      providerUrl: fake.url,
      admins: [alice.userId],
      config: { tools: { endpoints: apis.endpoints } },
    });
    const bot = await setup.start();
    try {
      await bot.ready();
      const room = await alice.createRoom({ invite: [setup.userId] });
      await alice.waitForJoin(room, setup.userId);
      await alice.send(room, '.ai tool:openai_image {"prompt":"a tiny square"}');
      const image = await alice.waitForMessage(
        room,
        setup.userId,
        (_t, s) => s.content.msgtype === "m.image",
      );
      ok(image.encrypted);
      ok(image.content.file, "encrypted media uses `file`");
      strictEqual(image.content.url, undefined);
      const info = image.content.info as Record<string, unknown>;
      deepStrictEqual({ mimetype: info.mimetype, size: info.size, w: info.w, h: info.h }, {
        mimetype: "image/png",
        size: TEST_PNG.length,
        w: 2,
        h: 2,
      });
      deepStrictEqual(await alice.downloadImage(image), TEST_PNG);
      await alice.waitForMessage(room, setup.userId, (t) => t.includes("Image created and posted"));
    } finally {
      await bot.stop();
      alice.stop();
      await apis.close();
      await setup.remove();
    }
  },
});

Deno.test({
  name: "a second bot process on the same store refuses to start with exit code 2",
  ...opts,
  async fn() {
    await using fake = FakeOpenAI.start();
    const setup = await setupBot({ providerUrl: fake.url });
    const first = await setup.start();
    try {
      await first.ready();
      const second = await setup.start();
      const status = await second.status;
      strictEqual(status.code, 2);
      ok(
        second.log.some((l) => /in use by another InfiniGPT process/.test(l)),
        second.log.join("\n"),
      );
    } finally {
      await first.stop();
      await setup.remove();
    }
  },
});
