import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { FakeOpenAI } from "../fixtures/fake_openai.ts";
import { startTestBot, withBot } from "../fixtures/harness.ts";

const ROOM = "!room:test";
const ALICE = "@alice:test";
const ADMIN = "@admin:test";
const names = { [ALICE]: "Alice", [ADMIN]: "Admin" };
const DEFAULT_PROMPT = "you are a helpful test bot. Be brief.";

function plain(messages: ReadonlyArray<{ role: string; content?: unknown }>) {
  return messages.map((m) => ({ role: m.role, content: m.content }));
}

Deno.test(".reset puts the default prompt back and names the bot in the reply", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(ALICE, ".persona a pirate");
  await bot.say(ALICE, ".reset");
  strictEqual(bot.port.visible().at(-1), "InfiniGPT reset to default for Alice");
  deepStrictEqual(plain(bot.history.get(ROOM, ALICE)), [
    { role: "system", content: DEFAULT_PROMPT },
  ]);
  await bot.say(ALICE, ".ai again");
  deepStrictEqual(bot.fake.chats.at(-1)?.messages, [
    { role: "system", content: DEFAULT_PROMPT },
    { role: "user", content: "again" },
  ]);
});

Deno.test(".reset names the bot by the port's bot name", async () => {
  await using bot = await withBot({ port: { names, botName: "Marvin" } });
  await bot.say(ALICE, ".reset");
  deepStrictEqual(bot.port.visible(), ["Marvin reset to default for Alice"]);
});

Deno.test(".reset uses the Matrix ID of a sender without a display name", async () => {
  await using bot = await withBot();
  await bot.say("@bob:test", ".reset");
  deepStrictEqual(bot.port.visible(), ["InfiniGPT reset to default for @bob:test"]);
});

Deno.test(".reset in verbose mode leaves out the brevity clause", async () => {
  await using fake = FakeOpenAI.start();
  await using bot = await startTestBot({ providerUrl: fake.url, port: { names } });
  await bot.say(ADMIN, ".verbose on");
  await bot.say(ALICE, ".reset");
  deepStrictEqual(plain(bot.history.get(ROOM, ALICE)), [
    { role: "system", content: "you are a helpful test bot." },
  ]);
});

for (const arg of ["stock", "STOCK", "Stock"]) {
  Deno.test(`.reset ${arg} is a stock reset`, async () => {
    await using fake = FakeOpenAI.start();
    await using bot = await startTestBot({ providerUrl: fake.url, port: { names } });
    await bot.say(ALICE, ".ai hello");
    await bot.say(ALICE, `.reset ${arg}`);
    strictEqual(bot.port.visible().at(-1), "Stock settings applied for Alice");
    deepStrictEqual(bot.history.get(ROOM, ALICE), []);
  });
}

Deno.test(".reset with any other argument is a default reset", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(ALICE, ".reset everything");
  deepStrictEqual(bot.port.visible(), ["InfiniGPT reset to default for Alice"]);
  strictEqual(bot.history.get(ROOM, ALICE).length, 1);
});

Deno.test(".stock empties the thread and the next .ai sends no system message", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(ALICE, ".ai hello");
  await bot.say(ALICE, ".stock");
  strictEqual(bot.port.visible().at(-1), "Stock settings applied for Alice");
  deepStrictEqual(bot.history.get(ROOM, ALICE), []);
  await bot.say(ALICE, ".ai plain");
  deepStrictEqual(bot.fake.chats.at(-1)?.messages, [{ role: "user", content: "plain" }]);
  await bot.say(ALICE, ".ai more");
  deepStrictEqual(bot.fake.chats.at(-1)?.messages, [
    { role: "user", content: "plain" },
    { role: "assistant", content: "Echo: plain" },
    { role: "user", content: "more" },
  ]);
});

Deno.test(".stock ignores its arguments", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(ALICE, ".stock please and thanks");
  deepStrictEqual(bot.port.visible(), ["Stock settings applied for Alice"]);
  deepStrictEqual(bot.history.get(ROOM, ALICE), []);
});

Deno.test(".reset and .stock keep the personal model", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(ALICE, ".mymodel gpt-5-mini");
  await bot.say(ALICE, ".reset");
  strictEqual(bot.models.get(ROOM, ALICE), "gpt-5-mini");
  await bot.say(ALICE, ".stock");
  strictEqual(bot.models.get(ROOM, ALICE), "gpt-5-mini");
  await bot.say(ALICE, ".ai hi");
  strictEqual(bot.fake.chats[0].body.model, "gpt-5-mini");
});

Deno.test(".reset and .stock only touch the sender's thread in this room", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(ALICE, ".ai here");
  await bot.say(ALICE, ".ai there", "!other:test");
  await bot.say("@bob:test", ".ai bob");
  await bot.say(ALICE, ".stock");
  strictEqual(bot.history.get("!other:test", ALICE).length, 3);
  strictEqual(bot.history.get(ROOM, "@bob:test").length, 3);
  await bot.say(ALICE, ".reset");
  strictEqual(bot.history.get("!other:test", ALICE).length, 3);
  strictEqual(bot.history.get(ROOM, "@bob:test").length, 3);
});

Deno.test(".reset and .stock do not talk to the model", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(ALICE, ".reset");
  await bot.say(ALICE, ".stock");
  strictEqual(bot.fake.chats.length, 0);
  // No typing notice either: they answer at once.
  strictEqual(bot.port.events.some((e) => e.kind === "typing"), false);
});
