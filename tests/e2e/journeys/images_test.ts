/**
 * Journey: images and files in (decisions 34 and 36). A user shows the bot
 * a photo with a caption, asks about a photo by replying to it, hands it a
 * notes file, and meets a model that cannot see; every answer is a reply
 * (`m.in_reply_to`, no fallback quote) to the message it answers. The fake
 * model (shared with the bot process through its URL) records what arrived:
 * the image must be the exact bytes that were sent. matrix-js-sdk in a
 * plain room; matrix-nio (its own upload and attachment encryption) in an
 * encrypted one.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { FakeOpenAI, type RecordedPart } from "../../fixtures/fake_openai.ts";
import {
  type BotProcess,
  type NioStep,
  registerUser,
  runNio,
  setupBot,
  SYNAPSE_URL,
  TestClient,
  unique,
} from "../helpers.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

/** A PNG (1x1) with `extra` random bytes after it: a valid header, unique content. */
function photo(extra = 2000): Uint8Array {
  const png = Uint8Array.from(
    atob(
      "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
    ),
    (c) => c.charCodeAt(0),
  );
  const out = new Uint8Array(png.length + extra);
  out.set(png);
  crypto.getRandomValues(out.subarray(png.length));
  return out;
}

function logTail(bot: BotProcess): string {
  return bot.log.slice(-30).join("\n");
}

/** The image parts of the latest request whose text includes `text`. */
function imagesFor(fake: FakeOpenAI, text: string): RecordedPart[] {
  const chat = fake.chats.findLast((c) =>
    c.userParts.some((p) => p.type === "text" && p.text.includes(text))
  );
  ok(chat, `a request about "${text}"`);
  return chat.userParts.filter((p) => p.type === "image");
}

function assertSameImage(parts: RecordedPart[], bytes: Uint8Array): void {
  strictEqual(parts.length, 1);
  const [part] = parts;
  ok(part.type === "image");
  strictEqual(part.mimetype, "image/png");
  strictEqual(part.bytes.length, bytes.length);
  deepStrictEqual(part.bytes, bytes, "the model got the exact bytes");
}

Deno.test({
  name:
    "images in (matrix-js-sdk, plain room): a captioned photo, a reply to a photo, a notes file, a thread, a model that cannot see; every answer a reply",
  ...opts,
  async fn() {
    const started = performance.now();
    const fake = FakeOpenAI.start();
    const alice = await TestClient.create("alice");
    // DeepSeek's API models take text only.
    const setup = await setupBot({
      providerUrl: fake.url,
      admins: [alice.userId],
      config: {
        llm: {
          models: { deepseek: ["deepseek-chat"] },
          base_urls: { deepseek: fake.url },
          api_keys: { deepseek: "test-deepseek-key" },
        },
      },
    });
    const bot = await setup.start();
    try {
      await bot.ready();
      const room = await alice.createRoom({ encrypted: false, invite: [setup.userId] });
      await alice.waitForJoin(room, setup.userId);
      const reply = (text: string) =>
        alice.waitForMessage(room, setup.userId, (t) => t.includes(text), 60_000).catch((e) => {
          console.error(`no "${text}"; bot log:\n${logTail(bot)}`);
          throw e;
        });

      // A photo with a caption.
      const cat = photo();
      const captioned = await alice.sendMedia(room, {
        kind: "image",
        bytes: cat,
        name: "cat.png",
        mimetype: "image/png",
        caption: ".ai what is on this photo?",
      });
      const first = await reply("Echo: what is on this photo? [image/png");
      assertSameImage(imagesFor(fake, "what is on this photo?"), cat);
      deepStrictEqual(first.content["m.relates_to"], { "m.in_reply_to": { event_id: captioned } });
      ok(!String(first.content.body).includes("> <"), "no fallback quote");

      // A photo without a caption, then a question replying to it.
      const dog = photo(3000);
      const plainPhoto = await alice.sendMedia(room, {
        kind: "image",
        bytes: dog,
        name: "dog.png",
        mimetype: "image/png",
      });
      const question = await alice.send(room, ".ai and this one?", {
        "m.relates_to": { "m.in_reply_to": { event_id: plainPhoto } },
      });
      const second = await reply("Echo: and this one? [image/png");
      assertSameImage(imagesFor(fake, "and this one?"), dog);
      deepStrictEqual(second.content["m.relates_to"], { "m.in_reply_to": { event_id: question } });

      // A text file.
      await alice.sendMedia(room, {
        kind: "file",
        bytes: new TextEncoder().encode("- buy milk\n- call Bob"),
        name: "notes.txt",
        mimetype: "text/plain",
        caption: ".ai summarise my notes",
      });
      await reply("Echo: summarise my notes File notes.txt:");
      const notes = fake.chats.at(-1)!.userParts;
      deepStrictEqual(notes.at(-1), {
        type: "text",
        text: "File notes.txt:\n- buy milk\n- call Bob",
      });

      // In a Matrix thread: the thread relation, falling back to the message answered.
      const root = await alice.send(room, "a thread about photos");
      const inThread = await alice.send(room, ".ai in the thread", {
        "m.relates_to": {
          rel_type: "m.thread",
          event_id: root,
          is_falling_back: true,
          "m.in_reply_to": { event_id: root },
        },
      });
      const threaded = await reply("Echo: in the thread");
      deepStrictEqual(threaded.content["m.relates_to"], {
        rel_type: "m.thread",
        event_id: root,
        is_falling_back: true,
        "m.in_reply_to": { event_id: inThread },
      });

      // A model without vision: the refusal, and no request.
      await alice.send(room, ".mymodel deepseek-chat");
      await reply("set to deepseek-chat");
      const before = fake.chats.length;
      await alice.sendMedia(room, {
        kind: "image",
        bytes: photo(),
        name: "bird.png",
        mimetype: "image/png",
        caption: ".ai what bird is this?",
      });
      await reply(
        "deepseek-chat can't see images. Try .mymodel with one of: gpt-4.1-nano, gpt-5-mini, gemini-2.5-flash",
      );
      strictEqual(fake.chats.length, before, "no request for a model without vision");
      console.log(`images journey (matrix-js-sdk): ${Math.round(performance.now() - started)} ms`);
    } finally {
      await bot.stop();
      alice.stop();
      await fake.close();
      await setup.remove();
    }
  },
});

Deno.test({
  name:
    "images in (matrix-nio, encrypted room): a captioned photo and a reply to a photo reach the model as the exact bytes, the answers are replies",
  ...opts,
  async fn() {
    const started = performance.now();
    const fake = FakeOpenAI.start();
    const alice = await TestClient.create("alice");
    const nioName = unique("nio");
    const nioPassword = `pw-${nioName}`;
    const nio = await registerUser(nioName, nioPassword);
    const setup = await setupBot({ providerUrl: fake.url, admins: [alice.userId] });
    const bot = await setup.start();
    const dir = await Deno.makeTempDir({ prefix: "infinigpt-images-" });
    try {
      await bot.ready();
      const room = await alice.createRoom({ encrypted: true, invite: [setup.userId, nio.user_id] });
      await alice.waitForJoin(room, setup.userId);
      const cat = photo(5000);
      const dog = photo(7000);
      await Deno.writeFile(`${dir}/cat.png`, cat);
      await Deno.writeFile(`${dir}/dog.png`, dog);
      await Deno.writeTextFile(`${dir}/todo.md`, "# Todo\n\n- water the plants\n");
      const attach = (name: string, kind = "image", mimetype = "image/png") => ({
        path: `${dir}/${name}`,
        kind,
        name,
        mimetype,
      });
      const run = await runNio({
        homeserver: SYNAPSE_URL,
        user: nio.user_id,
        password: nioPassword,
        rooms: [room],
        peer: setup.userId,
        timeout: 90,
        steps: [
          {
            room,
            send: ".ai what is this?",
            attach: attach("cat.png"),
            expect: "Echo: what is this? [image/png",
          },
          { room, send: "", attach: attach("dog.png"), count: 0 },
          { room, send: ".ai and that?", reply_to: "$last", expect: "Echo: and that? [image/png" },
          {
            room,
            send: ".ai my list",
            attach: attach("todo.md", "file", "text/markdown"),
            expect: "water the plants",
          },
        ],
      });
      strictEqual(run.code, 0, `nio driver failed:\n${run.stderr}\nbot log:\n${logTail(bot)}`);
      const [caption, , replyStep, file] = run.steps as NioStep[];
      for (const step of [caption, replyStep, file]) {
        strictEqual(step.sent_encrypted, true);
        strictEqual(step.messages.length, 1);
        strictEqual(step.messages[0].encrypted, true);
        deepStrictEqual(step.messages[0].relates_to, {
          "m.in_reply_to": { event_id: step.sent_event_id },
        });
      }
      assertSameImage(imagesFor(fake, "what is this?"), cat);
      assertSameImage(imagesFor(fake, "and that?"), dog);
      ok(bot.log.every((l) => !l.includes(nioPassword)));
      console.log(`images journey (matrix-nio): ${Math.round(performance.now() - started)} ms`);
    } finally {
      await bot.stop();
      alice.stop();
      await fake.close();
      await setup.remove();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
