/**
 * Talking without a prefix (decision 37), threads as shared conversations
 * (decision 38), context by tokens (decision 39) and prompt variables
 * (decision 40), through the whole bot: harness + MemoryPort + FakeOpenAI.
 */
import { deepStrictEqual, strictEqual } from "node:assert/strict";
import type { IncomingMessage } from "../lib/chat_port.ts";
import { threadKey } from "../lib/conversation.ts";
import { type BotWithModel, startTestBot, withBot } from "./fixtures/harness.ts";
import { FakeOpenAI } from "./fixtures/fake_openai.ts";

const ROOM = "!room:test";
const ALICE = "@alice:test";
const BOB = "@bob:test";
const BOT = "@bot:test";
const names = { [ALICE]: "Alice", [BOB]: "Bob" };

let n = 0;
function send(bot: BotWithModel, msg: Partial<IncomingMessage> & { sender: string; body: string }) {
  return bot.bot.handle({ room: ROOM, eventId: `$c${++n}`, ...msg });
}

function lastRequest(bot: BotWithModel): Array<{ role: string; content: unknown }> {
  return bot.fake.chats.at(-1)!.messages as Array<{ role: string; content: unknown }>;
}

Deno.test("a direct chat answers every text message, commands stay commands", async () => {
  await using bot = await withBot({ port: { names } });
  await send(bot, { sender: ALICE, body: "hello there", direct: true });
  await send(bot, { sender: ALICE, body: ".reset", direct: true });
  await send(bot, { sender: ALICE, body: ".AI typo", direct: true });
  deepStrictEqual(bot.port.visible(), [
    "**Alice**:\nEcho: hello there",
    "InfiniGPT reset to default for Alice",
  ]);
});

Deno.test("replies to the bot and mentions anywhere are .ai, the mention removed", async () => {
  await using bot = await withBot({ port: { names } });
  await send(bot, { sender: ALICE, body: "and then?", replyToSender: BOT });
  await send(bot, { sender: ALICE, body: "and then?", replyToSender: BOB });
  await send(bot, { sender: BOB, body: "what do you think, InfiniGPT, about tea?" });
  await send(bot, { sender: BOB, body: "plain chat" });
  deepStrictEqual(bot.port.visible(), [
    "**Alice**:\nEcho: and then?",
    "**Bob**:\nEcho: what do you think, about tea?",
  ]);
});

Deno.test("matrix.answer switched off: only prefixes are answered", async () => {
  await using bot = await withBot({
    port: { names },
    config: { matrix: { answer: { dm: false, replies: false, mentions: false, threads: false } } },
  });
  await send(bot, { sender: ALICE, body: "hi", direct: true });
  await send(bot, { sender: ALICE, body: "hi", replyToSender: BOT });
  await send(bot, { sender: ALICE, body: "hi InfiniGPT" });
  await send(bot, { sender: ALICE, body: ".ai in thread", threadId: "$t" });
  await send(bot, { sender: BOB, body: "follow-up", threadId: "$t" });
  deepStrictEqual(bot.port.visible(), ["**Alice**:\nEcho: Alice: in thread"]);
});

Deno.test("a thread is one conversation: a second user's follow-up sees the first's, with names", async () => {
  await using bot = await withBot({ port: { names } });
  await send(bot, { sender: ALICE, body: ".persona a pirate" });
  await send(bot, { sender: ALICE, body: ".ai ahoy", threadId: "$root" });
  await send(bot, { sender: BOB, body: "and me?", threadId: "$root" });
  await send(bot, { sender: BOB, body: "unrelated", threadId: "$elsewhere" });
  const messages = lastRequest(bot);
  strictEqual(messages[0].role, "system");
  strictEqual(messages[0].content, "you are a pirate. Be brief.");
  deepStrictEqual(messages.slice(1).map((m) => m.content), [
    "Alice: ahoy",
    "Echo: Alice: ahoy",
    "Bob: and me?",
  ]);
  strictEqual(bot.fake.chats.length, 3);
  // Alice's own conversation did not get the thread's messages.
  deepStrictEqual(bot.history.get(ROOM, ALICE).map((m) => m.content).slice(1), [
    "introduce yourself",
    "Echo: introduce yourself",
  ]);
});

Deno.test("a thread keeps the starter's personal model; .reset in it resets only the thread", async () => {
  await using bot = await withBot({ port: { names } });
  await send(bot, { sender: ALICE, body: ".mymodel gpt-5-mini" });
  await send(bot, { sender: ALICE, body: ".ai first", threadId: "$root" });
  await send(bot, { sender: ALICE, body: ".ai top" });
  await send(bot, { sender: BOB, body: "second", threadId: "$root" });
  strictEqual(bot.fake.chats.at(-1)!.body.model, "gpt-5-mini");
  await send(bot, { sender: BOB, body: ".reset", threadId: "$root" });
  deepStrictEqual(bot.history.get(ROOM, threadKey("$root")).map((m) => m.role), ["system"]);
  strictEqual(bot.history.get(ROOM, ALICE).length, 3);
  await send(bot, { sender: BOB, body: "after reset", threadId: "$root" });
  deepStrictEqual(lastRequest(bot).slice(1).map((m) => m.content), ["Bob: after reset"]);
});

Deno.test("a thread conversation survives a restart", async () => {
  await using fake = FakeOpenAI.start();
  const dir = await Deno.makeTempDir({ prefix: "infinigpt-test-" });
  try {
    const first = await startTestBot({ providerUrl: fake.url, dir, port: { names } });
    await first.bot.handle({
      room: ROOM,
      sender: ALICE,
      body: ".ai one",
      threadId: "$r",
      eventId: "$x1",
    });
    await first.dispose();
    const second = await startTestBot({ providerUrl: fake.url, dir, port: { names } });
    await second.bot.handle({
      room: ROOM,
      sender: BOB,
      body: "two",
      threadId: "$r",
      eventId: "$x2",
    });
    await second.dispose();
    const messages = fake.chats.at(-1)!.messages as Array<{ content: string }>;
    deepStrictEqual(messages.slice(1).map((m) => m.content), [
      "Alice: one",
      "Echo: Alice: one",
      "Bob: two",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a message over llm.context_tokens is refused without a request; older exchanges are trimmed", async () => {
  await using bot = await withBot({ port: { names }, config: { llm: { context_tokens: 30 } } });
  await send(bot, { sender: ALICE, body: `.ai ${"a".repeat(40)}` });
  await send(bot, { sender: ALICE, body: `.ai ${"b".repeat(40)}` });
  strictEqual(lastRequest(bot).length, 2, "the first exchange was trimmed");
  const requests = bot.fake.chats.length;
  await send(bot, { sender: ALICE, body: `.ai ${"c".repeat(200)}` });
  strictEqual(bot.fake.chats.length, requests);
  deepStrictEqual(
    bot.port.visible().at(-1),
    "Your message is too long for gpt-4.1-nano (about 50 tokens, the limit is 30)",
  );
});

Deno.test("prompt variables are replaced at each request, the stored prompt keeps them", async () => {
  await using bot = await withBot({
    port: { names },
    config: {
      llm: {
        personality: "{bot_name} on {model} for {user_name}, {{literally}}",
        timezone: "Asia/Tokyo",
      },
    },
  });
  await send(bot, { sender: ALICE, body: ".ai hi" });
  const system = String(lastRequest(bot)[0].content);
  strictEqual(
    system.startsWith("you are InfiniGPT on gpt-4.1-nano for Alice, {literally}"),
    true,
    system,
  );
  strictEqual(String(bot.history.get(ROOM, ALICE)[0].content).includes("{bot_name}"), true);
});

Deno.test(".persona and .stock in a thread act on the thread's conversation, not the sender's", async () => {
  await using bot = await withBot({ port: { names } });
  await send(bot, { sender: ALICE, body: ".ai mine" });
  await send(bot, { sender: BOB, body: ".persona a poet", threadId: "$t" });
  strictEqual(bot.history.get(ROOM, threadKey("$t"))[0].content, "you are a poet. Be brief.");
  strictEqual(bot.history.has(ROOM, BOB), false);
  await send(bot, { sender: ALICE, body: ".stock", threadId: "$t" });
  deepStrictEqual(bot.history.get(ROOM, threadKey("$t")), []);
  strictEqual(bot.history.get(ROOM, ALICE).length, 3, "Alice's own conversation is untouched");
});
