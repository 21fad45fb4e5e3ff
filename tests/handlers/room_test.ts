/**
 * `.room` through the in-memory port: who may change a room's settings,
 * what they change, the precedence personal > room > global, `.clear`, and
 * persistence.
 */
import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { withBot } from "../fixtures/harness.ts";
import type { Tool } from "../../lib/tools/registry.ts";
import { parseRoom, roomReport } from "../../lib/handlers/room.ts";

const ROOM = "!room:test";
const OTHER = "!other:test";
const ALICE = "@alice:test";
const MOD = "@mod:test";
const ADMIN = "@admin:test";
const names = { [ALICE]: "Alice", [MOD]: "Mo", [ADMIN]: "Admin" };
const port = { names, powerLevels: { [MOD]: 50, [ALICE]: 49 } };
const REFUSED =
  "Sorry Alice, only bot admins and room moderators (power level 50 or more) can change room settings.";

const noop: Tool = {
  source: "builtin",
  definition: { type: "function", function: { name: "noop", parameters: { type: "object" } } },
  call: () => Promise.resolve("ok"),
};

Deno.test("parseRoom reads the setting, its value and reset", () => {
  const usage = {
    invalid: true,
    usage: "Usage: .room [model <id>|persona <text>|tools on|off|stream on|off] (or reset)",
  };
  const table: Array<[string, unknown]> = [
    ["", { kind: "show" }],
    ["reset", { kind: "reset" }],
    ["RESET", { kind: "reset" }],
    ["model gpt-5-mini", { kind: "set", key: "model", value: "gpt-5-mini" }],
    ["Model Reset", { kind: "reset", key: "model" }],
    ["persona a pirate\nwho rhymes", {
      kind: "set",
      key: "persona",
      value: "a pirate\nwho rhymes",
    }],
    ["tools off", { kind: "set", key: "tools", value: false }],
    ["stream ON", { kind: "set", key: "stream", value: true }],
    ["stream reset", { kind: "reset", key: "stream" }],
    ["tools maybe", usage],
    ["model", usage],
    ["colour red", usage],
    ["reset everything", usage],
  ];
  for (const [raw, expected] of table) deepStrictEqual(parseRoom(raw), expected, raw);
});

Deno.test(".room shows the room's settings and what applies where none is set", async () => {
  await using bot = await withBot({ port, tools: [noop] });
  await bot.say(ALICE, ".room");
  deepStrictEqual(bot.port.visible(), [
    [
      "**Room settings**",
      "- model: not set (global: gpt-4.1-nano)",
      "- persona: not set (the default persona)",
      "- tools: not set (global: on)",
      "- stream: not set (the bot's default)",
      "A personal model (.mymodel) wins over the room's. Bot admins and room moderators change these.",
    ].join("\n"),
  ]);
});

Deno.test("a room moderator sets the room's model; a member below 50 is refused", async () => {
  await using bot = await withBot({ port });
  await bot.say(ALICE, ".room model gpt-5-mini");
  await bot.say(MOD, ".room model gpt-5-mini");
  deepStrictEqual(bot.port.visible(), [REFUSED, "Room model set to gpt-5-mini"]);
  await bot.say(ALICE, ".ai hello");
  await bot.say(ALICE, ".ai elsewhere", OTHER);
  deepStrictEqual(bot.fake.chats.map((c) => c.body.model), ["gpt-5-mini", "gpt-4.1-nano"]);
});

Deno.test("a bot admin changes any room's settings without a power level", async () => {
  await using bot = await withBot({ port });
  await bot.say(ADMIN, ".room model gemini-2.5-flash");
  strictEqual(bot.port.visible().at(-1), "Room model set to gemini-2.5-flash");
  deepStrictEqual(bot.rooms.get(ROOM), { model: "gemini-2.5-flash" });
});

Deno.test("the model: personal over room over global", async () => {
  await using bot = await withBot({ port });
  await bot.say(MOD, ".room model gpt-5-mini");
  await bot.say(ALICE, ".mymodel gemini-2.5-flash");
  await bot.say(ALICE, ".ai mine");
  await bot.say(MOD, ".ai the room's");
  await bot.say(ALICE, ".mymodel reset");
  await bot.say(ALICE, ".ai the room's again");
  await bot.say(MOD, ".room model reset");
  await bot.say(ALICE, ".ai the global one");
  deepStrictEqual(bot.fake.chats.map((c) => c.body.model), [
    "gemini-2.5-flash",
    "gpt-5-mini",
    "gpt-5-mini",
    "gpt-4.1-nano",
  ]);
  strictEqual(bot.port.visible().includes("Room model reset"), true);
  strictEqual(
    bot.port.visible().includes("Model for Alice reset to the room's model (gpt-5-mini)"),
    true,
  );
});

Deno.test(".room model refuses an unknown model, and a local one for moderators unless it is the global model", async () => {
  await using bot = await withBot({ port });
  await bot.say(MOD, ".room model gpt-9");
  await bot.say(MOD, ".room model qwen3:8b");
  await bot.say(ADMIN, ".room model qwen3:8b");
  deepStrictEqual(bot.port.visible(), [
    "Model 'gpt-9' not found. Available: gpt-4.1-nano, gpt-5-mini, gemini-2.5-flash, qwen3:8b, llama3.2:3b, qwen/qwen3-8b",
    "You cannot set an Ollama model unless it matches the current global model. Please ask an admin to change the global model first.",
    "Room model set to qwen3:8b",
  ]);
});

Deno.test(".room persona starts new conversations in the room with it; .reset and an empty .persona use it", async () => {
  await using bot = await withBot({ port });
  await bot.say(ALICE, ".ai before");
  await bot.say(MOD, ".room persona a pirate");
  strictEqual(
    bot.port.visible().at(-1),
    "Room persona set: new conversations in this room start with it (.reset starts yours anew)",
  );
  await bot.say(ALICE, ".ai an old thread keeps its prompt");
  await bot.say(MOD, ".ai a new thread");
  await bot.say(ALICE, ".ai elsewhere", OTHER);
  await bot.say(ALICE, ".reset");
  await bot.say(ALICE, ".ai after reset");
  await bot.say(ALICE, ".persona");
  const prompts = bot.fake.chats.map((c) => c.messages[0].content);
  deepStrictEqual(prompts, [
    "you are a helpful test bot. Be brief.",
    "you are a helpful test bot. Be brief.",
    "you are a pirate. Be brief.",
    "you are a helpful test bot. Be brief.",
    "you are a pirate. Be brief.",
    "you are a pirate. Be brief.",
  ]);
});

Deno.test(".room tools off keeps tools out of the room's requests; on needs tools to exist", async () => {
  await using bot = await withBot({ port, tools: [noop] });
  await bot.say(MOD, ".room tools off");
  await bot.say(ALICE, ".ai no tools here");
  await bot.say(ALICE, ".ai tools elsewhere", OTHER);
  deepStrictEqual(bot.fake.chats.map((c) => Array.isArray(c.body.tools)), [false, true]);
  await bot.say(ADMIN, ".tools off");
  await bot.say(MOD, ".room tools on");
  await bot.say(ALICE, ".ai tools here only");
  await bot.say(ALICE, ".ai none elsewhere", OTHER);
  deepStrictEqual(bot.fake.chats.slice(2).map((c) => Array.isArray(c.body.tools)), [true, false]);
  await using bare = await withBot({ port, tools: [] });
  await bare.say(MOD, ".room tools on");
  deepStrictEqual(bare.port.visible(), ["No tools are available"]);
});

Deno.test(".room stream is stored and shown", async () => {
  await using bot = await withBot({ port });
  await bot.say(MOD, ".room stream off");
  deepStrictEqual(bot.rooms.get(ROOM), { stream: false });
  await bot.say(ALICE, ".room");
  strictEqual(bot.port.visible().at(-1)?.split("\n")[4], "- stream: off");
});

Deno.test(".room reset clears every setting of the room, not of others", async () => {
  await using bot = await withBot({ port, tools: [noop] });
  await bot.say(ADMIN, ".room model gpt-5-mini");
  await bot.say(ADMIN, ".room tools off");
  await bot.say(ADMIN, ".room model gpt-5-mini", OTHER);
  await bot.say(ALICE, ".room reset");
  await bot.say(MOD, ".room reset");
  deepStrictEqual(bot.port.visible().slice(-2), [REFUSED, "Room settings reset"]);
  deepStrictEqual([bot.rooms.get(ROOM), bot.rooms.get(OTHER)], [{}, { model: "gpt-5-mini" }]);
});

Deno.test(".clear clears every room's settings too", async () => {
  await using bot = await withBot({ port });
  await bot.say(MOD, ".room model gpt-5-mini");
  await bot.say(ADMIN, ".room persona a pirate", OTHER);
  await bot.say(ADMIN, ".clear");
  deepStrictEqual([bot.rooms.get(ROOM), bot.rooms.get(OTHER)], [{}, {}]);
});

Deno.test("room settings survive a restart", async () => {
  const dir = await Deno.makeTempDir({ prefix: "infinigpt-room-" });
  try {
    {
      await using bot = await withBot({ port, dir });
      await bot.say(MOD, ".room model gpt-5-mini");
      await bot.say(MOD, ".room persona a pirate");
    }
    await using bot = await withBot({ port, dir });
    await bot.say(ALICE, ".ai hi");
    strictEqual(bot.fake.chats[0].body.model, "gpt-5-mini");
    strictEqual(bot.fake.chats[0].messages[0].content, "you are a pirate. Be brief.");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test(".room says when the room's model is no longer configured, and the global one answers", () => {
  const report = roomReport(
    { model: "gpt-3", tools: true },
    { model: "m1", tools: false },
    (m) => m === "m1",
  );
  deepStrictEqual(report.split("\n").slice(1, 4), [
    "- model: gpt-3, no longer configured (global: m1 answers)",
    "- persona: not set (the default persona)",
    "- tools: on",
  ]);
});
