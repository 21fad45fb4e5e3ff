import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { FakeOpenAI } from "../fixtures/fake_openai.ts";
import { startTestBot, withBot } from "../fixtures/harness.ts";
import type { Tool } from "../../lib/tools/registry.ts";

const ROOM = "!room:test";
const ALICE = "@alice:test";
const ADMIN = "@admin:test";
const names = { [ALICE]: "Alice", [ADMIN]: "Admin" };
const INTRO = { role: "user", content: "introduce yourself" };

const noop: Tool = {
  source: "builtin",
  definition: { type: "function", function: { name: "noop", parameters: { type: "object" } } },
  call: () => Promise.resolve("ok"),
};

function plain(messages: ReadonlyArray<{ role: string; content?: unknown }>) {
  return messages.map((m) => ({ role: m.role, content: m.content }));
}

Deno.test(".persona replaces the thread with one system prompt and asks for an introduction", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(ALICE, ".ai something earlier");
  await bot.say(ALICE, ".persona a grumpy pirate");
  deepStrictEqual(bot.fake.chats[1].messages, [
    { role: "system", content: "you are a grumpy pirate. Be brief." },
    INTRO,
  ]);
  strictEqual(bot.port.visible().at(-1), "**Alice**:\nEcho: introduce yourself");
  deepStrictEqual(plain(bot.history.get(ROOM, ALICE)), [
    { role: "system", content: "you are a grumpy pirate. Be brief." },
    INTRO,
    { role: "assistant", content: "Echo: introduce yourself" },
  ]);
});

Deno.test(".persona in verbose mode leaves out the brevity clause", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(ADMIN, ".verbose on");
  await bot.say(ALICE, ".persona a pirate");
  strictEqual(bot.fake.chats[0].messages[0].content, "you are a pirate.");
});

Deno.test("an empty .persona uses the default personality", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(ALICE, ".persona");
  deepStrictEqual(bot.fake.chats[0].messages, [
    { role: "system", content: "you are a helpful test bot. Be brief." },
    INTRO,
  ]);
});

Deno.test(".custom uses its text verbatim as the system prompt, newlines included", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(ALICE, ".ai earlier");
  await bot.say(ALICE, ".custom You answer in haiku.\nAlways.");
  deepStrictEqual(bot.fake.chats[1].messages, [
    { role: "system", content: "You answer in haiku.\nAlways." },
    INTRO,
  ]);
  strictEqual(bot.port.visible().at(-1), "**Alice**:\nEcho: introduce yourself");
  strictEqual(bot.history.get(ROOM, ALICE).length, 3);
});

Deno.test("an empty .custom sends no reply, asks nothing and keeps the thread", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(ALICE, ".ai earlier");
  const before = bot.history.get(ROOM, ALICE);
  await bot.say(ALICE, ".custom");
  await bot.say(ALICE, ".custom    ");
  strictEqual(bot.fake.chats.length, 1);
  strictEqual(bot.port.visible().length, 1);
  deepStrictEqual(bot.history.get(ROOM, ALICE), before);
});

Deno.test(".persona and .custom use the sender's personal model (decision 5)", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(ALICE, ".mymodel gpt-5-mini");
  await bot.say(ALICE, ".persona a pirate");
  await bot.say(ALICE, ".custom Be terse.");
  strictEqual(bot.fake.chats[0].body.model, "gpt-5-mini");
  strictEqual(bot.fake.chats[1].body.model, "gpt-5-mini");
});

Deno.test(".persona and .custom never offer tools, even while tools are on", async () => {
  await using bot = await withBot({ port: { names }, tools: [noop] });
  strictEqual(bot.settings.get("tools"), true);
  await bot.say(ALICE, ".persona a pirate");
  await bot.say(ALICE, ".custom Be terse.");
  for (const chat of bot.fake.chats) {
    strictEqual("tools" in chat.body, false);
    strictEqual("tool_choice" in chat.body, false);
  }
  strictEqual(bot.fake.chats.length, 2);
});

Deno.test("reasoning markers are stripped from the introduction", async () => {
  await using fake = FakeOpenAI.start();
  await using bot = await startTestBot({ providerUrl: fake.url, port: { names } });
  fake.enqueue({ content: "<think>who am I</think>  Arr, I be a pirate.  " });
  await bot.say(ALICE, ".persona a pirate");
  deepStrictEqual(bot.port.visible(), ["**Alice**:\nArr, I be a pirate."]);
  strictEqual(bot.history.get(ROOM, ALICE).at(-1)?.content, "Arr, I be a pirate.");
});

for (const command of [".persona a pirate", ".custom Be a pirate."]) {
  Deno.test(`a provider error after ${command.split(" ")[0]} keeps the old thread; sent again, it works`, async () => {
    await using fake = FakeOpenAI.start();
    await using bot = await startTestBot({ providerUrl: fake.url, port: { names } });
    await bot.say(ALICE, ".ai earlier");
    const before = bot.history.get(ROOM, ALICE);
    fake.enqueue({ kind: "error", status: 500 });
    await bot.say(ALICE, command);
    deepStrictEqual(
      bot.port.visible().at(-1),
      "Something went wrong (the model provider had an internal error, HTTP 500)",
    );
    deepStrictEqual(bot.history.get(ROOM, ALICE), before);
    await bot.say(ALICE, command);
    strictEqual(bot.port.visible().at(-1), "**Alice**:\nEcho: introduce yourself");
    deepStrictEqual(plain(bot.history.get(ROOM, ALICE)).map((m) => m.role), [
      "system",
      "user",
      "assistant",
    ]);
    deepStrictEqual(fake.chats.at(-1)!.messages.length, 2);
  });
}

Deno.test(".persona changes only the sender's thread in this room", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(ALICE, ".ai elsewhere", "!other:test");
  await bot.say("@bob:test", ".ai bob here");
  const other = bot.history.get("!other:test", ALICE);
  const bob = bot.history.get(ROOM, "@bob:test");
  await bot.say(ALICE, ".persona a pirate");
  deepStrictEqual(bot.history.get("!other:test", ALICE), other);
  deepStrictEqual(bot.history.get(ROOM, "@bob:test"), bob);
});
