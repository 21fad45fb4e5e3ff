import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { withBot } from "../fixtures/harness.ts";
import { type Tool, ToolOutput } from "../../lib/tools/registry.ts";

const ROOM = "!room:test";
const ALICE = "@alice:test";
const ADMIN = "@admin:test";
const names = { [ALICE]: "Alice", [ADMIN]: "Admin" };
const DEFAULT_PROMPT = "you are a helpful test bot. Be brief.";

/** A tool that upper-cases its `text` argument. */
const shout: Tool = {
  source: "builtin",
  definition: {
    type: "function",
    function: {
      name: "shout",
      description: "Upper-cases text",
      parameters: {
        type: "object",
        properties: { text: { type: "string" } },
        required: ["text"],
        additionalProperties: false,
      },
    },
  },
  call: (args) => Promise.resolve(String(args.text).toUpperCase()),
};

/** A tool that always fails. */
const boom: Tool = {
  source: "builtin",
  definition: {
    type: "function",
    function: { name: "boom", parameters: { type: "object", properties: {} } },
  },
  call: () => Promise.reject(new Error("kaput")),
};

/** Role and content of each message (stored messages also carry ids). */
function plain(messages: ReadonlyArray<{ role: string; content?: unknown }>) {
  return messages.map((m) => ({ role: m.role, content: m.content }));
}

Deno.test(".ai replies with the sender's display name as header and the model's text", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(ALICE, ".ai hello there");
  deepStrictEqual(bot.port.visible(), ["**Alice**:\nEcho: hello there"]);
  strictEqual(bot.fake.chats.length, 1);
  strictEqual(bot.fake.chats[0].body.model, "gpt-4.1-nano");
});

Deno.test("the mention form `<bot name>: text` is answered like .ai", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(ALICE, "InfiniGPT: what is up");
  deepStrictEqual(bot.port.visible(), ["**Alice**:\nEcho: what is up"]);
  deepStrictEqual(plain(bot.history.get(ROOM, ALICE)).at(-2), {
    role: "user",
    content: "what is up",
  });
});

Deno.test("the mention form works with a bot display name that contains spaces", async () => {
  await using bot = await withBot({ port: { names, botName: "Infini Bot" } });
  await bot.say(ALICE, "Infini Bot: hi");
  deepStrictEqual(bot.port.visible(), ["**Alice**:\nEcho: hi"]);
});

Deno.test(".ai adds the user message and then the answer to the sender's thread", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(ALICE, ".ai hello");
  deepStrictEqual(plain(bot.history.get(ROOM, ALICE)), [
    { role: "system", content: DEFAULT_PROMPT },
    { role: "user", content: "hello" },
    { role: "assistant", content: "Echo: hello" },
  ]);
});

Deno.test("the stored thread is exactly what the next request sends, system prompt first", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(ALICE, ".ai first");
  await bot.say(ALICE, ".ai second");
  deepStrictEqual(bot.fake.chats[0].messages, [
    { role: "system", content: DEFAULT_PROMPT },
    { role: "user", content: "first" },
  ]);
  // No stored ids leak into requests.
  deepStrictEqual(bot.fake.chats[1].messages, [
    { role: "system", content: DEFAULT_PROMPT },
    { role: "user", content: "first" },
    { role: "assistant", content: "Echo: first" },
    { role: "user", content: "second" },
  ]);
});

Deno.test(".ai keeps newlines and spacing of the message as written (decision 18)", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(ALICE, ".ai line one\n  line  two");
  deepStrictEqual(bot.fake.chats[0].messages.at(-1), {
    role: "user",
    content: "line one\n  line  two",
  });
});

Deno.test("a personal model set with .mymodel is used by .ai in that room only", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(ALICE, ".mymodel gpt-5-mini");
  await bot.say(ALICE, ".ai hi");
  await bot.say(ALICE, ".ai hi", "!other:test");
  strictEqual(bot.fake.chats[0].body.model, "gpt-5-mini");
  strictEqual(bot.fake.chats[1].body.model, "gpt-4.1-nano");
});

Deno.test(".ai offers the tools while tools are enabled", async () => {
  await using bot = await withBot({ port: { names }, tools: [shout] });
  await bot.say(ALICE, ".ai hi");
  const body = bot.fake.chats[0].body;
  deepStrictEqual(
    (body.tools as Array<{ function: { name: string } }>).map((t) => t.function.name),
    ["shout"],
  );
  strictEqual(body.tool_choice, "auto");
});

Deno.test(".ai offers no tools after an admin sent .tools off", async () => {
  await using bot = await withBot({ port: { names }, tools: [shout] });
  await bot.say(ADMIN, ".tools off");
  await bot.say(ALICE, ".ai hi");
  strictEqual(bot.fake.chats.length, 1);
  strictEqual("tools" in bot.fake.chats[0].body, false);
  strictEqual("tool_choice" in bot.fake.chats[0].body, false);
});

Deno.test("a tool call runs the tool and only the final answer is stored", async () => {
  await using bot = await withBot({ port: { names }, tools: [shout] });
  await bot.say(ALICE, '.ai tool:shout {"text":"hi"}');
  deepStrictEqual(bot.port.visible(), ['**Alice**:\nTool said: {"result":"HI"}']);
  strictEqual(bot.fake.chats.length, 2);
  deepStrictEqual(plain(bot.history.get(ROOM, ALICE)), [
    { role: "system", content: DEFAULT_PROMPT },
    { role: "user", content: 'tool:shout {"text":"hi"}' },
    { role: "assistant", content: 'Tool said: {"result":"HI"}' },
  ]);
});

Deno.test("a tool that throws gives the model an error result and the user still gets an answer", async () => {
  await using bot = await withBot({ port: { names }, tools: [boom] });
  await bot.say(ALICE, ".ai tool:boom {}");
  deepStrictEqual(bot.port.visible(), [
    '**Alice**:\nTool said: {"error":"Tool execution error for boom: kaput"}',
  ]);
});

Deno.test("an empty .ai appends nothing and asks the model again on the existing thread", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(ALICE, ".ai first");
  await bot.say(ALICE, ".ai");
  strictEqual(bot.fake.chats.length, 2);
  deepStrictEqual(bot.fake.chats[1].messages, [
    { role: "system", content: DEFAULT_PROMPT },
    { role: "user", content: "first" },
    { role: "assistant", content: "Echo: first" },
  ]);
  deepStrictEqual(bot.port.visible(), ["**Alice**:\nEcho: first", "**Alice**:\nEcho: first"]);
  deepStrictEqual(plain(bot.history.get(ROOM, ALICE)).map((m) => m.role), [
    "system",
    "user",
    "assistant",
    "assistant",
  ]);
});

Deno.test("the mention form without text also asks the model again without appending", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(ALICE, ".ai first");
  await bot.say(ALICE, "InfiniGPT:");
  strictEqual(bot.fake.chats.length, 2);
  strictEqual(bot.fake.chats[1].messages.length, 3);
  strictEqual(bot.fake.chats[1].messages.at(-1)?.role, "assistant");
});

Deno.test("reasoning markers are stripped from the reply and from the stored answer", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(ALICE, ".ai think:the answer");
  deepStrictEqual(bot.port.visible(), ["**Alice**:\nthe answer"]);
  strictEqual(bot.history.get(ROOM, ALICE).at(-1)?.content, "the answer");
});

Deno.test("thought and solution markers are stripped as well", async () => {
  await using bot = await withBot({ port: { names } });
  bot.fake.enqueue({
    content:
      "<think>p</think> Hi <|begin_of_thought|>x<|end_of_thought|> <|begin_of_solution|>final<|end_of_solution|>",
  });
  await bot.say(ALICE, ".ai hi");
  deepStrictEqual(bot.port.visible(), ["**Alice**:\nfinal"]);
});

Deno.test("a provider HTTP 500 replies with the reason and leaves the thread as it was (decision 30)", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(ALICE, ".ai before");
  const before = bot.history.get(ROOM, ALICE);
  bot.fake.enqueue({ kind: "error", status: 500 });
  await bot.say(ALICE, ".ai hello");
  deepStrictEqual(
    bot.port.visible().at(-1),
    "Something went wrong (the model provider had an internal error, HTTP 500)",
  );
  deepStrictEqual(bot.history.get(ROOM, ALICE), before);
});

Deno.test("after a failed .ai the next request is about the next message only", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(ALICE, ".ai before");
  bot.fake.enqueue({
    kind: "error",
    status: 400,
    message: "too long",
    code: "context_length_exceeded",
  });
  await bot.say(ALICE, ".ai a message that is far too long");
  await bot.say(ALICE, ".ai after");
  deepStrictEqual(bot.fake.chats.at(-1)!.messages, [
    { role: "system", content: DEFAULT_PROMPT },
    { role: "user", content: "before" },
    { role: "assistant", content: "Echo: before" },
    { role: "user", content: "after" },
  ]);
  strictEqual(bot.port.visible().at(-1), "**Alice**:\nEcho: after");
});

Deno.test("a thread an older version left with unanswered messages is sent without them", async () => {
  await using bot = await withBot({ port: { names } });
  bot.history.set(ROOM, ALICE, [
    { role: "system", content: DEFAULT_PROMPT },
    { role: "assistant", content: "left over by one-at-a-time trimming" },
    { role: "user", content: "answered" },
    { role: "assistant", content: "Echo: answered" },
    { role: "user", content: "failed once", id: "$old1" },
    { role: "user", content: "failed twice", id: "$old2" },
  ]);
  await bot.say(ALICE, ".ai now");
  deepStrictEqual(bot.fake.chats[0].messages, [
    { role: "system", content: DEFAULT_PROMPT },
    { role: "user", content: "answered" },
    { role: "assistant", content: "Echo: answered" },
    { role: "user", content: "now" },
  ]);
  strictEqual(bot.port.visible().at(-1), "**Alice**:\nEcho: now");
});

Deno.test("a provider HTTP 401 replies that the API key was rejected", async () => {
  await using bot = await withBot({ port: { names } });
  bot.fake.enqueue({ kind: "error", status: 401 });
  await bot.say(ALICE, ".ai hello");
  deepStrictEqual(bot.port.visible(), [
    "Something went wrong (the model provider rejected the API key)",
  ]);
});

Deno.test("a provider error in the tools path also replies Something went wrong (decision 3)", async () => {
  await using bot = await withBot({ port: { names }, tools: [shout] });
  bot.fake.enqueue({ kind: "error", status: 500 });
  await bot.say(ALICE, ".ai hello");
  deepStrictEqual(bot.port.visible(), [
    "Something went wrong (the model provider had an internal error, HTTP 500)",
  ]);
});

Deno.test("a display name with markup and newlines gives a one-line escaped header", async () => {
  await using bot = await withBot({ port: { names: { [ALICE]: "<b>Eve</b>\n**x**" } } });
  await bot.say(ALICE, ".ai hi");
  const [reply] = bot.port.visible();
  strictEqual(reply, "**\\<b\\>Eve\\</b\\> \\*\\*x\\*\\***:\nEcho: hi");
  strictEqual(reply.split("\n").length, 2);
});

Deno.test("a user without a display name is shown by their Matrix ID (decision 15)", async () => {
  await using bot = await withBot();
  await bot.say("@bob:test", ".ai hi");
  deepStrictEqual(bot.port.visible(), ["**@bob:test**:\nEcho: hi"]);
});

Deno.test("a user whose display name is empty is shown by their Matrix ID", async () => {
  await using bot = await withBot({ port: { names: { "@bob:test": "" } } });
  await bot.say("@bob:test", ".ai hi");
  deepStrictEqual(bot.port.visible(), ["**@bob:test**:\nEcho: hi"]);
});

Deno.test("re-handling an answered event resends the stored answer without asking the model", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(ALICE, ".ai hello", ROOM, "$same");
  await bot.say(ALICE, ".ai hello", ROOM, "$same");
  strictEqual(bot.fake.chats.length, 1);
  deepStrictEqual(bot.port.visible(), ["**Alice**:\nEcho: hello", "**Alice**:\nEcho: hello"]);
  deepStrictEqual(plain(bot.history.get(ROOM, ALICE)), [
    { role: "system", content: DEFAULT_PROMPT },
    { role: "user", content: "hello" },
    { role: "assistant", content: "Echo: hello" },
  ]);
});

Deno.test("re-handling an event whose answer failed asks again without a duplicate user message", async () => {
  await using bot = await withBot({ port: { names } });
  bot.fake.enqueue({ kind: "error", status: 500 });
  await bot.say(ALICE, ".ai hello", ROOM, "$again");
  await bot.say(ALICE, ".ai hello", ROOM, "$again");
  strictEqual(bot.fake.chats.length, 2);
  deepStrictEqual(bot.fake.chats[1].messages, [
    { role: "system", content: DEFAULT_PROMPT },
    { role: "user", content: "hello" },
  ]);
  ok(bot.port.visible().includes("**Alice**:\nEcho: hello"));
});

Deno.test("an empty model answer replies Something went wrong and stores nothing", async () => {
  await using bot = await withBot({ port: { names } });
  bot.fake.enqueue({ content: null }, { content: "<think>only thoughts</think>" });
  await bot.say(ALICE, ".ai one");
  await bot.say(ALICE, ".ai two");
  deepStrictEqual(bot.port.visible(), [
    "Something went wrong (the model returned an empty answer)",
    "Something went wrong (the model returned an empty answer)",
  ]);
  strictEqual(bot.history.has(ROOM, ALICE), false);
  deepStrictEqual(bot.fake.chats[1].messages, [
    { role: "system", content: DEFAULT_PROMPT },
    { role: "user", content: "two" },
  ]);
});

Deno.test("a failure in the tool loop leaves the thread as it was", async () => {
  await using bot = await withBot({ port: { names }, tools: [shout] });
  await bot.say(ALICE, ".ai before");
  const before = bot.history.get(ROOM, ALICE);
  bot.fake.enqueue(
    { content: null, toolCalls: [{ name: "shout", arguments: { text: "x" } }] },
    { kind: "error", status: 500 },
  );
  await bot.say(ALICE, ".ai use the tool");
  strictEqual(
    bot.port.visible().at(-1),
    "Something went wrong (the model provider had an internal error, HTTP 500)",
  );
  deepStrictEqual(bot.history.get(ROOM, ALICE), before);
  await bot.say(ALICE, ".ai after");
  deepStrictEqual(plain(bot.fake.chats.at(-1)!.messages).slice(1), [
    { role: "user", content: "before" },
    { role: "assistant", content: "Echo: before" },
    { role: "user", content: "after" },
  ]);
});

Deno.test("an empty .ai after an empty .ai sends the two answers as one (roles alternate)", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(ALICE, ".ai first");
  bot.fake.enqueue({ content: "more" });
  await bot.say(ALICE, ".ai");
  await bot.say(ALICE, ".ai next");
  deepStrictEqual(bot.fake.chats.at(-1)!.messages, [
    { role: "system", content: DEFAULT_PROMPT },
    { role: "user", content: "first" },
    { role: "assistant", content: "Echo: first\n\nmore" },
    { role: "user", content: "next" },
  ]);
});

Deno.test("an image a tool makes is posted in the room before the text answer", async () => {
  const bytes = new Uint8Array([137, 80, 78, 71]);
  const painter: Tool = {
    source: "builtin",
    definition: { type: "function", function: { name: "paint", parameters: { type: "object" } } },
    call: () =>
      Promise.resolve(
        new ToolOutput('{"result":"image posted"}', [{
          bytes,
          mimetype: "image/png",
          name: "cat.png",
        }]),
      ),
  };
  await using bot = await withBot({ port: { names }, tools: [painter] });
  await bot.say(ALICE, ".ai tool:paint {}");
  const posted = bot.port.events.filter((e) => e.kind === "image" || e.kind === "send");
  deepStrictEqual(posted.map((e) => e.kind), ["image", "send"]);
  const image = posted[0];
  strictEqual(image.kind === "image" && image.room, ROOM);
  strictEqual(image.kind === "image" && image.image.name, "cat.png");
  deepStrictEqual(bot.port.visible(), ['**Alice**:\nTool said: {"result":"image posted"}']);
});

Deno.test("history_size trims whole exchanges before the request, the new message included", async () => {
  await using bot = await withBot({ port: { names }, config: { llm: { history_size: 3 } } });
  await bot.say(ALICE, ".ai a");
  await bot.say(ALICE, ".ai b");
  deepStrictEqual(bot.fake.chats[1].messages, [
    { role: "system", content: DEFAULT_PROMPT },
    { role: "user", content: "b" },
  ]);
  deepStrictEqual(plain(bot.history.get(ROOM, ALICE)), [
    { role: "system", content: DEFAULT_PROMPT },
    { role: "user", content: "b" },
    { role: "assistant", content: "Echo: b" },
  ]);
});

Deno.test("a very long display name is shortened in the header", async () => {
  await using bot = await withBot({ port: { names: { [ALICE]: "A".repeat(150) } } });
  await bot.say(ALICE, ".ai hi");
  deepStrictEqual(bot.port.visible(), [`**${"A".repeat(100)}…**:\nEcho: hi`]);
});

Deno.test("a retried message already in the thread is answered with the thread up to it", async () => {
  await using bot = await withBot();
  // As after a crash: m1 was stored, then a later m2 was answered first.
  bot.history.append("!room:test", "@u:test", { role: "user", content: "first", id: "$m1" });
  bot.history.append("!room:test", "@u:test", { role: "user", content: "second", id: "$m2" });
  bot.history.append("!room:test", "@u:test", {
    role: "assistant",
    content: "Echo: second",
    id: "$m2:answer",
  });
  await bot.say("@u:test", ".ai first", "!room:test", "$m1");
  const sent = bot.fake.chats[0].messages.map((m) => m.content);
  strictEqual(sent.at(-1), "first");
  ok(!sent.includes("second"));
  ok(bot.port.visible().at(-1)!.endsWith("Echo: first"));
});
