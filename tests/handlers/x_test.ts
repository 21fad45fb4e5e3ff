import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { withBot } from "../fixtures/harness.ts";
import { type Candidate, parseXTarget, type XTarget } from "../../lib/handlers/x.ts";
import type { Tool } from "../../lib/tools/registry.ts";

const ROOM = "!room:test";
const ALICE = "@alice:test";
const BOB = "@bob:test";
const JOHN = "@john:test";
const JOHN_DOE = "@jdoe:test";
const names = {
  [ALICE]: "Alice",
  [BOB]: "Bob",
  [JOHN]: "John",
  [JOHN_DOE]: "John Doe",
  "@carol:test": "Carol",
};
const DEFAULT_PROMPT = "you are a helpful test bot. Be brief.";

function plain(messages: ReadonlyArray<{ role: string; content?: unknown }>) {
  return messages.map((m) => ({ role: m.role, content: m.content }));
}

const JOHNS: Candidate[] = [
  { userId: JOHN, name: "John" },
  { userId: JOHN_DOE, name: "John Doe" },
];

const cases: Array<{ name: string; args: string; candidates?: Candidate[]; want: XTarget | null }> =
  [
    { name: "empty arguments are ignored", args: "", want: null },
    { name: "blank arguments are ignored", args: "   ", want: null },
    {
      name: "a Matrix ID target takes the rest as the message",
      args: "@bob:test hello there",
      want: { target: BOB, message: "hello there" },
    },
    { name: "a Matrix ID without a message is ignored", args: "@bob:test", want: null },
    {
      name: "a Matrix ID target keeps newlines in the message",
      args: "@bob:test  line one\nline two",
      want: { target: BOB, message: "line one\nline two" },
    },
    {
      name: "an @name without a colon falls back to display names",
      args: "@bob hello",
      candidates: [{ userId: BOB, name: "@bob" }],
      want: { target: BOB, message: "hello" },
    },
    { name: "an @name without a colon and no such name is ignored", args: "@bob hi", want: null },
    {
      name: "the longest matching display name wins",
      args: "John Doe hello there",
      candidates: JOHNS,
      want: { target: JOHN_DOE, message: "hello there" },
    },
    {
      name: "a shorter name matches when the longer one does not",
      args: "John hello",
      candidates: JOHNS,
      want: { target: JOHN, message: "hello" },
    },
    {
      name: "candidate order does not matter for the longest match",
      args: "John Doe hi",
      candidates: [...JOHNS].reverse(),
      want: { target: JOHN_DOE, message: "hi" },
    },
    { name: "a name without a message is ignored", args: "John", candidates: JOHNS, want: null },
    {
      name: "a name must be followed by whitespace",
      args: "Johnny hi",
      candidates: JOHNS,
      want: null,
    },
    { name: "names match case-sensitively", args: "john hi", candidates: JOHNS, want: null },
    {
      name: "a newline after the name separates the message",
      args: "John\nhi",
      candidates: JOHNS,
      want: { target: JOHN, message: "hi" },
    },
    {
      name: "candidates with an empty name never match",
      args: " hi",
      candidates: [{ userId: BOB, name: "" }],
      want: null,
    },
    { name: "an unknown name is ignored", args: "Zed hi", candidates: JOHNS, want: null },
  ];

for (const c of cases) {
  Deno.test(`parseXTarget: ${c.name}`, () => {
    deepStrictEqual(parseXTarget(c.args, c.candidates ?? []), c.want);
  });
}

Deno.test(".x to a Matrix ID without a thread creates one for the target (decision 6)", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(ALICE, ".x @bob:test hello");
  deepStrictEqual(bot.port.visible(), ["**Alice**:\nEcho: hello"]);
  deepStrictEqual(plain(bot.history.get(ROOM, BOB)), [
    { role: "system", content: DEFAULT_PROMPT },
    { role: "user", content: "hello" },
    { role: "assistant", content: "Echo: hello" },
  ]);
  strictEqual(bot.history.has(ROOM, ALICE), false);
});

Deno.test(".x leaves the requester's own thread untouched", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(ALICE, ".ai mine");
  const before = bot.history.get(ROOM, ALICE);
  await bot.say(ALICE, ".x @bob:test theirs");
  deepStrictEqual(bot.history.get(ROOM, ALICE), before);
  deepStrictEqual(bot.fake.chats[1].messages, [
    { role: "system", content: DEFAULT_PROMPT },
    { role: "user", content: "theirs" },
  ]);
});

Deno.test(".x finds a display-name target with spaces; the longest name wins", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(JOHN, ".ai hi");
  await bot.say(JOHN_DOE, ".ai hi");
  bot.fake.enqueue({ content: "got it" });
  await bot.say(ALICE, ".x John Doe hello there");
  strictEqual(bot.port.visible().at(-1), "**Alice**:\ngot it");
  deepStrictEqual(plain(bot.history.get(ROOM, JOHN_DOE)).slice(-2), [
    { role: "user", content: "hello there" },
    { role: "assistant", content: "got it" },
  ]);
  strictEqual(bot.history.get(ROOM, JOHN).length, 3);
  await bot.say(ALICE, ".x John short");
  strictEqual(bot.history.get(ROOM, JOHN).at(-2)?.content, "short");
});

Deno.test(".x to a display name without a thread in this room is ignored silently", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say("@carol:test", ".ai hi", "!elsewhere:test");
  bot.port.clear();
  await bot.say(ALICE, ".x Carol hello");
  await bot.say(ALICE, ".x Nobody hello");
  deepStrictEqual(bot.port.visible(), []);
  strictEqual(bot.fake.chats.length, 1);
  deepStrictEqual(bot.history.users(ROOM), []);
});

Deno.test(".x with a target but no message is ignored", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(BOB, ".ai hi");
  await bot.say(ALICE, ".x @bob:test");
  await bot.say(ALICE, ".x Bob");
  await bot.say(ALICE, ".x");
  strictEqual(bot.fake.chats.length, 1);
  strictEqual(bot.port.visible().length, 1);
});

Deno.test(".x uses the target's personal model, not the requester's", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(BOB, ".mymodel gpt-5-mini");
  await bot.say(ALICE, ".mymodel gemini-2.5-flash");
  await bot.say(ALICE, ".x @bob:test hi");
  strictEqual(bot.fake.chats[0].body.model, "gpt-5-mini");
});

Deno.test(".x strips reasoning markers from the reply and the stored answer", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(ALICE, ".x @bob:test think:ok");
  deepStrictEqual(bot.port.visible(), ["**Alice**:\nok"]);
  strictEqual(bot.history.get(ROOM, BOB).at(-1)?.content, "ok");
});

Deno.test("the target's next .ai continues from the .x exchange", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(ALICE, ".x @bob:test from alice");
  await bot.say(BOB, ".ai from bob");
  deepStrictEqual(bot.fake.chats[1].messages, [
    { role: "system", content: DEFAULT_PROMPT },
    { role: "user", content: "from alice" },
    { role: "assistant", content: "Echo: from alice" },
    { role: "user", content: "from bob" },
  ]);
  deepStrictEqual(bot.port.visible().at(-1), "**Bob**:\nEcho: from bob");
});

Deno.test("a user may target themselves with .x", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(ALICE, ".ai first");
  await bot.say(ALICE, ".x Alice second");
  strictEqual(bot.history.get(ROOM, ALICE).at(-2)?.content, "second");
  strictEqual(bot.port.visible().at(-1), "**Alice**:\nEcho: second");
});

Deno.test(".x offers tools while they are enabled", async () => {
  const noop: Tool = {
    source: "builtin",
    definition: { type: "function", function: { name: "noop", parameters: { type: "object" } } },
    call: () => Promise.resolve("ok"),
  };
  await using bot = await withBot({ port: { names }, tools: [noop] });
  await bot.say(ALICE, ".x @bob:test hi");
  strictEqual(Array.isArray(bot.fake.chats[0].body.tools), true);
});

Deno.test("a provider error in .x replies Something went wrong and stores no answer", async () => {
  await using bot = await withBot({ port: { names } });
  bot.fake.enqueue({ kind: "error", status: 500 });
  await bot.say(ALICE, ".x @bob:test hi");
  deepStrictEqual(bot.port.visible(), [
    "Something went wrong (the model provider had an internal error, HTTP 500)",
  ]);
  strictEqual(bot.history.has(ROOM, BOB), false, "no thread is created by a failure");
});

Deno.test("a failed .x leaves the target's thread as it was, and the target's next .ai is unaffected", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(BOB, ".ai mine");
  const before = bot.history.get(ROOM, BOB);
  bot.fake.enqueue({ kind: "error", status: 500 });
  await bot.say(ALICE, ".x @bob:test from alice");
  deepStrictEqual(bot.history.get(ROOM, BOB), before);
  await bot.say(BOB, ".ai mine again");
  deepStrictEqual(plain(bot.fake.chats.at(-1)!.messages).slice(1), [
    { role: "user", content: "mine" },
    { role: "assistant", content: "Echo: mine" },
    { role: "user", content: "mine again" },
  ]);
});
