import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import type { Attachment } from "../../lib/content.ts";
import type { Tool } from "../../lib/tools/registry.ts";
import { type BotWithModel, withBot } from "../fixtures/harness.ts";

const echoTool: Tool = {
  source: "builtin",
  definition: {
    type: "function",
    function: { name: "echo", parameters: { type: "object", properties: {} } },
  },
  call: () => Promise.resolve("echoed"),
};

const ROOM = "!room:test";
const ALICE = "@alice:test";
const names = { "@alice:test": "Alice" };

/** A 1x1 PNG. */
const PNG = Uint8Array.from(
  atob(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
  ),
  (c) => c.charCodeAt(0),
);

function image(url: string, name = "cat.png", size?: number): Attachment {
  return { kind: "image", ref: { url, name, mimetype: "image/png", ...(size ? { size } : {}) } };
}

let n = 0;
async function send(
  bot: BotWithModel,
  body: string,
  extra: { attachments?: Attachment[]; inReplyTo?: string } = {},
): Promise<string> {
  const eventId = `$media${++n}`;
  await bot.bot.handle({ room: ROOM, sender: ALICE, body, eventId, ...extra });
  return eventId;
}

Deno.test("an image with a caption reaches the model as its exact bytes beside the text", async () => {
  await using bot = await withBot({ port: { names } });
  bot.port.media.set("mxc://hs/cat", PNG);
  await send(bot, ".ai what is this?", { attachments: [image("mxc://hs/cat")] });
  const parts = bot.fake.chats[0].userParts;
  deepStrictEqual(parts.map((p) => p.type), ["text", "image"]);
  deepStrictEqual(parts[0], { type: "text", text: "what is this?" });
  ok(parts[1].type === "image");
  strictEqual(parts[1].mimetype, "image/png");
  deepStrictEqual(parts[1].bytes, PNG);
  deepStrictEqual(bot.port.visible(), ["**Alice**:\nEcho: what is this? [image/png 70 bytes]"]);
});

Deno.test("the thread stores a reference to the image, never its bytes", async () => {
  await using bot = await withBot({ port: { names } });
  bot.port.media.set("mxc://hs/cat", PNG);
  await send(bot, ".ai look", { attachments: [image("mxc://hs/cat")] });
  const stored = bot.history.get(ROOM, ALICE).at(-2)!;
  deepStrictEqual(stored.content, [
    { type: "text", text: "look" },
    { type: "image", image: { url: "mxc://hs/cat", name: "cat.png", mimetype: "image/png" } },
  ]);
  ok(!JSON.stringify(bot.history.get(ROOM, ALICE)).includes("base64"));
});

Deno.test("a follow-up carries the earlier image again, downloaded anew", async () => {
  await using bot = await withBot({ port: { names } });
  bot.port.media.set("mxc://hs/cat", PNG);
  await send(bot, ".ai look", { attachments: [image("mxc://hs/cat")] });
  await send(bot, ".ai and the colour?");
  const request = bot.fake.chats[1];
  const first = request.messages.find((m) => m.role === "user")!;
  ok(Array.isArray(first.content));
  ok(JSON.stringify(first.content).includes("data:image/png;base64,"));
  deepStrictEqual(bot.port.downloads, ["mxc://hs/cat", "mxc://hs/cat"]);
});

Deno.test("only the llm.max_images most recent images go; older ones by name", async () => {
  await using bot = await withBot({ port: { names }, config: { llm: { max_images: 1 } } });
  bot.port.media.set("mxc://hs/a", PNG);
  bot.port.media.set("mxc://hs/b", PNG);
  await send(bot, ".ai one", { attachments: [image("mxc://hs/a", "a.png")] });
  await send(bot, ".ai two", { attachments: [image("mxc://hs/b", "b.png")] });
  const text = JSON.stringify(bot.fake.chats[1].messages);
  ok(text.includes("[image: a.png]"), text);
  strictEqual(text.split("data:image/png").length - 1, 1);
});

Deno.test("a reply to an image brings the image", async () => {
  await using bot = await withBot({ port: { names } });
  bot.port.media.set("mxc://hs/cat", PNG);
  bot.port.eventMedia.set("$photo", image("mxc://hs/cat"));
  await send(bot, ".ai describe it", { inReplyTo: "$photo" });
  deepStrictEqual(bot.fake.chats[0].userParts.map((p) => p.type), ["text", "image"]);
});

Deno.test("a reply to a text message brings nothing", async () => {
  await using bot = await withBot({ port: { names } });
  await send(bot, ".ai plain", { inReplyTo: "$text" });
  deepStrictEqual(bot.fake.chats[0].userParts, [{ type: "text", text: "plain" }]);
});

Deno.test("an image sent as a file (m.file with an image type) goes as an image", async () => {
  await using bot = await withBot({ port: { names } });
  bot.port.media.set("mxc://hs/cat", PNG);
  await send(bot, ".ai what is this?", {
    attachments: [{
      kind: "file",
      ref: { url: "mxc://hs/cat", name: "cat.png", mimetype: "image/png" },
    }],
  });
  deepStrictEqual(bot.fake.chats[0].userParts.map((p) => p.type), ["text", "image"]);
});

Deno.test("a text file reaches the model as a text part with its name", async () => {
  await using bot = await withBot({ port: { names } });
  bot.port.media.set("mxc://hs/notes", new TextEncoder().encode("line 1\nline 2"));
  const file: Attachment = {
    kind: "file",
    ref: { url: "mxc://hs/notes", name: "notes.txt", mimetype: "text/plain" },
  };
  await send(bot, ".ai summarise", { attachments: [file] });
  deepStrictEqual(bot.fake.chats[0].userParts, [
    { type: "text", text: "summarise" },
    { type: "text", text: "File notes.txt:\nline 1\nline 2" },
  ]);
});

Deno.test("a model without vision refuses images with the ones that can, and asks nothing", async () => {
  await using bot = await withBot({
    port: { names },
    config: { llm: { default_model: "qwen3:8b" } },
  });
  bot.port.media.set("mxc://hs/cat", PNG);
  await send(bot, ".ai what is this?", { attachments: [image("mxc://hs/cat")] });
  strictEqual(bot.fake.chats.length, 0);
  deepStrictEqual(bot.port.visible(), [
    "**Alice**:\nqwen3:8b can't see images. Try .mymodel with one of: gpt-4.1-nano, gpt-5-mini, gemini-2.5-flash",
  ]);
  strictEqual(bot.history.has(ROOM, ALICE), false);
});

Deno.test("an image over llm.max_image_bytes gets a clear reply and no request", async () => {
  await using bot = await withBot({ port: { names }, config: { llm: { max_image_bytes: 50 } } });
  bot.port.media.set("mxc://hs/cat", PNG);
  await send(bot, ".ai big", { attachments: [image("mxc://hs/cat")] });
  await send(bot, ".ai declared big", { attachments: [image("mxc://hs/cat", "cat.png", 99)] });
  strictEqual(bot.fake.chats.length, 0);
  deepStrictEqual(bot.port.visible(), [
    "**Alice**:\nThe image cat.png is too large (the limit is 50 bytes).",
    "**Alice**:\nThe image cat.png is too large (the limit is 50 bytes).",
  ]);
  deepStrictEqual(bot.port.downloads, ["mxc://hs/cat"], "a declared size is believed");
});

Deno.test("a file that is not text, or cannot be downloaded, is said so", async () => {
  await using bot = await withBot({ port: { names } });
  const pdf: Attachment = {
    kind: "file",
    ref: { url: "mxc://hs/pdf", name: "paper.pdf", mimetype: "application/pdf" },
  };
  const gone: Attachment = {
    kind: "file",
    ref: { url: "mxc://hs/gone", name: "gone.txt", mimetype: "text/plain" },
  };
  await send(bot, ".ai read", { attachments: [pdf] });
  await send(bot, ".ai read", { attachments: [gone] });
  strictEqual(bot.fake.chats.length, 0);
  const seen = bot.port.visible();
  ok(seen[0].includes("I can only read text files and images; paper.pdf"), seen[0]);
  strictEqual(seen[1], "**Alice**:\nCould not read gone.txt (the homeserver answered HTTP 404).");
});

Deno.test(".x with an image answers in the target's thread with the image", async () => {
  await using bot = await withBot({ port: { names: { ...names, "@bob:test": "Bob" } } });
  bot.port.media.set("mxc://hs/cat", PNG);
  await bot.bot.handle({ room: ROOM, sender: "@bob:test", body: ".ai hi", eventId: "$b1" });
  await send(bot, ".x Bob look at this", { attachments: [image("mxc://hs/cat")] });
  deepStrictEqual(bot.fake.chats[1].userParts.map((p) => p.type), ["text", "image"]);
  ok(JSON.stringify(bot.history.get(ROOM, "@bob:test")).includes("mxc://hs/cat"));
});

Deno.test("the tool loop sends the image in every round", async () => {
  await using bot = await withBot({ port: { names }, tools: [echoTool] });
  bot.port.media.set("mxc://hs/cat", PNG);
  bot.fake.enqueue(
    { content: null, toolCalls: [{ name: "echo", arguments: "{}" }] },
    { content: "done" },
  );
  await send(bot, ".ai count", { attachments: [image("mxc://hs/cat")] });
  strictEqual(bot.fake.chats.length, 2);
  for (const chat of bot.fake.chats) {
    deepStrictEqual(chat.userParts.map((p) => p.type), ["text", "image"]);
  }
});

Deno.test("a thread stored before images existed still loads and goes on", async () => {
  await using bot = await withBot({ port: { names } });
  bot.history.set(ROOM, ALICE, [
    { role: "system", content: "you are old." },
    { role: "user", content: "old question" },
    { role: "assistant", content: "old answer" },
  ]);
  bot.port.media.set("mxc://hs/cat", PNG);
  await send(bot, ".ai new", { attachments: [image("mxc://hs/cat")] });
  const roles = bot.fake.chats[0].messages.map((m) => typeof m.content);
  deepStrictEqual(roles, ["string", "string", "string", "object"]);
});
