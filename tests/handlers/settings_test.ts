import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { FakeOpenAI } from "../fixtures/fake_openai.ts";
import { startTestBot, type TestBot, withBot } from "../fixtures/harness.ts";
import type { Tool } from "../../lib/tools/registry.ts";

const ROOM = "!room:test";
const ALICE = "@alice:test";
const ADMIN = "@admin:test";
const names = { [ALICE]: "Alice", [ADMIN]: "Admin" };

const noop: Tool = {
  source: "builtin",
  definition: { type: "function", function: { name: "noop", parameters: { type: "object" } } },
  call: () => Promise.resolve("ok"),
};

/** Sends an admin command and returns the single reply it produced. */
async function admin(bot: TestBot, body: string): Promise<string | undefined> {
  bot.port.clear();
  await bot.say(ADMIN, body);
  const replies = bot.port.visible();
  strictEqual(replies.length, 1, `${body} should reply once, got ${JSON.stringify(replies)}`);
  return replies[0];
}

// --- .tools ---

Deno.test(".tools and .tools status report the current state", async () => {
  await using fake = FakeOpenAI.start();
  await using bot = await startTestBot({ providerUrl: fake.url, tools: [noop] });
  strictEqual(await admin(bot, ".tools"), "Tools are currently enabled");
  strictEqual(await admin(bot, ".tools status"), "Tools are currently enabled");
  bot.settings.set("tools", false);
  strictEqual(await admin(bot, ".tools STATUS"), "Tools are currently disabled");
});

const toolWords: Array<[word: string, from: boolean, to: boolean]> = [
  ["off", true, false],
  ["disable", true, false],
  ["disabled", true, false],
  ["OFF", true, false],
  ["off", false, false],
  ["on", false, true],
  ["enable", false, true],
  ["enabled", false, true],
  ["On", false, true],
  ["on", true, true],
  ["toggle", true, false],
  ["toggle", false, true],
  ["of", true, false],
  ["banana", false, true],
];

for (const [word, from, to] of toolWords) {
  Deno.test(`.tools ${word} turns tools from ${from ? "on" : "off"} to ${to ? "on" : "off"}`, async () => {
    await using fake = FakeOpenAI.start();
    await using bot = await startTestBot({ providerUrl: fake.url, tools: [noop] });
    bot.settings.set("tools", from);
    strictEqual(await admin(bot, `.tools ${word}`), `Tools are now ${to ? "enabled" : "disabled"}`);
    strictEqual(bot.settings.get("tools"), to);
  });
}

Deno.test(".tools off applies to every user in every room", async () => {
  await using bot = await withBot({ tools: [noop] });
  await bot.say(ADMIN, ".tools off", "!admin-room:test");
  await bot.say(ALICE, ".ai hi", "!elsewhere:test");
  strictEqual("tools" in bot.fake.chats[0].body, false);
  await bot.say(ADMIN, ".tools on", "!admin-room:test");
  await bot.say(ALICE, ".ai hi", "!elsewhere:test");
  strictEqual(Array.isArray(bot.fake.chats[1].body.tools), true);
});

Deno.test("with no tools at all, tools start disabled and cannot be enabled", async () => {
  await using bot = await withBot({ tools: [] });
  strictEqual(bot.settings.get("tools"), false);
  strictEqual(await admin(bot, ".tools"), "Tools are currently disabled");
  strictEqual(await admin(bot, ".tools on"), "No tools are available");
  strictEqual(await admin(bot, ".tools toggle"), "No tools are available");
  strictEqual(bot.settings.get("tools"), false);
  strictEqual(await admin(bot, ".tools off"), "Tools are now disabled");
  await bot.say(ALICE, ".ai hi");
  strictEqual("tools" in bot.fake.chats[0].body, false);
});

Deno.test("tools start disabled when tools.enabled is false in the config", async () => {
  await using fake = FakeOpenAI.start();
  await using bot = await startTestBot({
    providerUrl: fake.url,
    tools: [noop],
    config: { tools: { enabled: false } },
  });
  strictEqual(await admin(bot, ".tools"), "Tools are currently disabled");
});

// --- .verbose and .thinking ---

const toggles = [
  {
    command: ".verbose",
    key: "verbose" as const,
    initial: false,
    label: "Verbose mode",
    usage: "Usage: .verbose [on|off|toggle]",
  },
  {
    command: ".thinking",
    key: "thinking" as const,
    initial: true,
    label: "Thinking placeholder",
    usage: "Usage: .thinking [on|off|toggle]",
  },
];

const ON_WORDS = ["on", "true", "1", "enable", "enabled", "ON"];
const OFF_WORDS = ["off", "false", "0", "disable", "disabled", "Off"];

for (const t of toggles) {
  Deno.test(`${t.command} reports its status with no argument or status`, async () => {
    await using fake = FakeOpenAI.start();
    await using bot = await startTestBot({ providerUrl: fake.url });
    const shown = t.initial ? "ON" : "OFF";
    strictEqual(await admin(bot, t.command), `${t.label} is **${shown}**`);
    strictEqual(await admin(bot, `${t.command} status`), `${t.label} is **${shown}**`);
    strictEqual(bot.settings.get(t.key), t.initial);
  });

  for (const word of ON_WORDS) {
    Deno.test(`${t.command} ${word} turns it on`, async () => {
      await using fake = FakeOpenAI.start();
      await using bot = await startTestBot({ providerUrl: fake.url });
      bot.settings.set(t.key, false);
      strictEqual(await admin(bot, `${t.command} ${word}`), `${t.label} set to **ON**`);
      strictEqual(bot.settings.get(t.key), true);
      strictEqual(await admin(bot, t.command), `${t.label} is **ON**`);
    });
  }

  for (const word of OFF_WORDS) {
    Deno.test(`${t.command} ${word} turns it off`, async () => {
      await using fake = FakeOpenAI.start();
      await using bot = await startTestBot({ providerUrl: fake.url });
      bot.settings.set(t.key, true);
      strictEqual(await admin(bot, `${t.command} ${word}`), `${t.label} set to **OFF**`);
      strictEqual(bot.settings.get(t.key), false);
      strictEqual(await admin(bot, t.command), `${t.label} is **OFF**`);
    });
  }

  for (const word of ["toggle", "switch"]) {
    Deno.test(`${t.command} ${word} flips it both ways`, async () => {
      await using fake = FakeOpenAI.start();
      await using bot = await startTestBot({ providerUrl: fake.url });
      bot.settings.set(t.key, false);
      strictEqual(await admin(bot, `${t.command} ${word}`), `${t.label} set to **ON**`);
      strictEqual(await admin(bot, `${t.command} ${word}`), `${t.label} set to **OFF**`);
      strictEqual(bot.settings.get(t.key), false);
    });
  }

  for (const garbage of ["banana", "yes", "on please"]) {
    Deno.test(`${t.command} ${garbage} replies with the usage and changes nothing`, async () => {
      await using fake = FakeOpenAI.start();
      await using bot = await startTestBot({ providerUrl: fake.url });
      strictEqual(await admin(bot, `${t.command} ${garbage}`), t.usage);
      strictEqual(bot.settings.get(t.key), t.initial);
    });
  }

  Deno.test(`${t.command} from a non-admin gets no reply and changes nothing`, async () => {
    await using fake = FakeOpenAI.start();
    await using bot = await startTestBot({ providerUrl: fake.url });
    await bot.say(ALICE, `${t.command} toggle`);
    deepStrictEqual(bot.port.events, []);
    strictEqual(bot.settings.get(t.key), t.initial);
  });
}

Deno.test("verbose mode affects new threads only; existing threads keep the brevity clause", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(ALICE, ".ai before");
  await bot.say(ADMIN, ".verbose on");
  await bot.say(ALICE, ".ai after");
  await bot.say("@bob:test", ".ai new");
  strictEqual(bot.fake.chats[1].messages[0].content, "you are a helpful test bot. Be brief.");
  strictEqual(bot.fake.chats[2].messages[0].content, "you are a helpful test bot.");
});

Deno.test("llm.verbose in the config sets the start value of verbose mode", async () => {
  await using bot = await withBot({ config: { llm: { verbose: true } } });
  strictEqual(await admin(bot, ".verbose"), "Verbose mode is **ON**");
});

// --- .clear ---

Deno.test(".clear forgets every thread and personal model and restores the default model", async () => {
  await using bot = await withBot({ port: { names }, tools: [noop] });
  await bot.say(ALICE, ".ai hi");
  await bot.say("@bob:test", ".ai hi", "!other:test");
  await bot.say(ALICE, ".mymodel gpt-5-mini");
  await bot.say("@bob:test", ".mymodel gemini-2.5-flash", "!other:test");
  await bot.say(ADMIN, ".model gemini-2.5-flash");
  await bot.say(ADMIN, ".verbose on");
  await bot.say(ADMIN, ".tools off");
  strictEqual(await admin(bot, ".clear"), "Bot has been reset for everyone");
  deepStrictEqual(bot.history.users(ROOM), []);
  deepStrictEqual(bot.history.users("!other:test"), []);
  strictEqual(bot.models.get(ROOM, ALICE), undefined);
  strictEqual(bot.models.get("!other:test", "@bob:test"), undefined);
  strictEqual(bot.settings.get("model"), "gpt-4.1-nano");
  // The switches are not part of .clear.
  strictEqual(bot.settings.get("verbose"), true);
  strictEqual(bot.settings.get("tools"), false);
  await bot.say(ALICE, ".ai fresh");
  deepStrictEqual(bot.fake.chats.at(-1)?.messages, [
    { role: "system", content: "you are a helpful test bot." },
    { role: "user", content: "fresh" },
  ]);
  strictEqual(bot.fake.chats.at(-1)?.body.model, "gpt-4.1-nano");
});

Deno.test(".clear waits for an answer in flight, and that answer leaves no thread behind", async () => {
  await using bot = await withBot({ port: { names } });
  let arrived!: () => void;
  const atProvider = new Promise<void>((resolve) => arrived = resolve);
  let release!: () => void;
  const gate = new Promise<void>((resolve) => release = resolve);
  bot.fake.setHandler(async (request) => {
    if (request.messages.at(-1)?.content !== "slow") return undefined;
    arrived();
    await gate;
    return { content: "late answer" };
  });
  const inFlight = bot.say(ALICE, ".ai slow");
  await atProvider;
  let cleared = false;
  const clearing = bot.say(ADMIN, ".clear").then(() => cleared = true);
  // Let .clear run as far as it can while the answer is still out.
  await new Promise((resolve) => setTimeout(resolve, 50));
  strictEqual(cleared, false, ".clear waits for the answer in flight");
  strictEqual(bot.port.visible().length, 0);
  release();
  await Promise.all([inFlight, clearing]);
  deepStrictEqual(bot.port.visible(), [
    "**Alice**:\nlate answer",
    "Bot has been reset for everyone",
  ]);
  deepStrictEqual(bot.history.users(ROOM), [], "no thread is left behind");
});

Deno.test(".clear from a non-admin gets no reply and forgets nothing", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(ALICE, ".ai hi");
  bot.port.clear();
  await bot.say(ALICE, ".clear");
  deepStrictEqual(bot.port.events, []);
  deepStrictEqual(bot.history.users(ROOM), [ALICE]);
});
