/**
 * Streaming (decision 35) through the in-memory port, with the fake model
 * streaming real server-sent events over HTTP.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { type BotWithModel, withBot } from "./fixtures/harness.ts";
import type { FakeOpenAIOptions, FakeReply } from "./fixtures/fake_openai.ts";
import type { PortEvent } from "./fixtures/memory_port.ts";

const ROOM = "!room:test";
const ALICE = "@alice:test";
const ADMIN = "@admin:test";
const names = { [ALICE]: "Alice", [ADMIN]: "Admin" };

/** Short clocks, so the tests are quick; the pace is still measured against them. */
const INTERVAL = 300;

function streamingBot(
  options: {
    model?: FakeOpenAIOptions;
    llm?: Record<string, unknown>;
    delayMs?: number;
    editLimitBytes?: number;
  } = {},
): Promise<BotWithModel> {
  return withBot({
    port: { names, editLimitBytes: options.editLimitBytes },
    placeholders: true,
    model: options.model,
    config: { llm: { stream: true, ...options.llm } },
    timing: {
      placeholderDelayMs: options.delayMs ?? 50,
      streamIntervalMs: INTERVAL,
      animationMs: 10_000,
    },
  });
}

function kinds(events: readonly PortEvent[]): string[] {
  return events.map((e) => e.kind === "typing" ? `typing:${e.typing}` : e.kind);
}

/** An answer in `n` pieces, one every `ms`. */
function slowAnswer(pieces: string[], ms: number): Extract<FakeReply, { content?: unknown }> {
  return { content: pieces.join(""), chunks: pieces, chunkDelayMs: ms };
}

const PIECES = [
  "The ",
  "answer ",
  "grows ",
  "word ",
  "by ",
  "word ",
  "until ",
  "it ",
  "is ",
  "done.",
];

Deno.test("a streamed answer grows by edits and its last version is byte for byte the non-streamed reply", async () => {
  await using streamed = await streamingBot();
  streamed.fake.enqueue(slowAnswer(PIECES, 80));
  await streamed.say(ALICE, ".ai tell me", ROOM, "$s1");
  await using whole = await streamingBot({ llm: { stream: false } });
  whole.fake.enqueue({ content: PIECES.join("") });
  await whole.say(ALICE, ".ai tell me", ROOM, "$s1");

  const [single] = whole.port.writes;
  strictEqual(whole.port.writes.length, 1, "the non-streamed reply is one message");
  strictEqual(streamed.port.writes[0].kind, "send");
  ok(streamed.port.writes.slice(1).every((w) => w.kind === "edit"));
  // A loaded machine may be slower than the placeholder's clock: then it shows first.
  const writes = streamed.port.writes.filter((w) => !w.body.endsWith("Thinking."));
  ok(writes.length >= 3, `a streamed answer shows versions as it grows (${writes.length})`);
  // Each version extends the one before it.
  for (let i = 1; i < writes.length; i++) {
    ok(writes[i].body.startsWith(writes[i - 1].body.trimEnd()), writes[i].body);
  }
  strictEqual(writes.at(-1)!.body, single.body);
  deepStrictEqual(streamed.port.visible(), whole.port.visible());
  // The same request, only streamed; the answer stored the same.
  strictEqual(streamed.fake.chats[0].body.stream, true);
  strictEqual(whole.fake.chats[0].body.stream, undefined);
  deepStrictEqual(streamed.fake.chats[0].messages, whole.fake.chats[0].messages);
  deepStrictEqual(streamed.history.get(ROOM, ALICE), whole.history.get(ROOM, ALICE));
});

Deno.test("the text so far is never shown more often than once per llm.stream_interval; the whole answer follows at once", async () => {
  await using bot = await streamingBot();
  // 20 pieces 40 ms apart: a version would be due every piece without the pace.
  const pieces = Array.from({ length: 20 }, (_, i) => `w${i} `);
  bot.fake.enqueue(slowAnswer(pieces, 40));
  await bot.say(ALICE, ".ai go");
  const writes = bot.port.writes;
  // A loaded machine may show the placeholder first: it is no version of the text.
  const times = writes.slice(0, -1).filter((w) => !w.body.endsWith("Thinking.")).map((w) => w.at);
  ok(times.length >= 3, `versions so far: ${times.length}`);
  const gaps = times.slice(1).map((t, i) => t - times[i]);
  for (const gap of gaps) ok(gap >= INTERVAL - 1, `gaps ${gaps.map(Math.round).join(", ")} ms`);
  strictEqual(writes.at(-1)!.body, `**Alice**:\n${pieces.join("").trim()}`);
});

Deno.test("a fast answer is one message: no placeholder, no edit, typing at once", async () => {
  await using bot = await streamingBot({ delayMs: 600 });
  await bot.say(ALICE, ".ai quick");
  deepStrictEqual(kinds(bot.port.events), ["typing:true", "send", "typing:false"]);
  deepStrictEqual(bot.port.visible(), ["**Alice**:\nEcho: quick"]);
});

Deno.test("with nothing to show after the delay the placeholder appears, then becomes the answer", async () => {
  await using bot = await streamingBot({ delayMs: 50 });
  bot.fake.enqueue({ content: "late but whole", delayMs: 400 });
  await bot.say(ALICE, ".ai slow");
  const writes = bot.port.writes.map((w) => `${w.kind} ${w.body}`);
  deepStrictEqual(writes, ["send **Alice**:\nThinking.", "edit **Alice**:\nlate but whole"]);
});

Deno.test("a <think> block is held back until it closes and never shown", async () => {
  await using bot = await streamingBot();
  bot.fake.enqueue(
    slowAnswer(
      ["<think>", "secret ", "plan ", "still ", "thinking", "</think>", "Forty", "-two"],
      70,
    ),
  );
  await bot.say(ALICE, ".ai life?");
  for (const w of bot.port.writes) {
    ok(!/secret|plan|think/.test(w.body), `shown: ${w.body}`);
  }
  strictEqual(bot.port.writes[0].body, "**Alice**:\nThinking.", "nothing to show: the placeholder");
  deepStrictEqual(bot.port.visible(), ["**Alice**:\nForty-two"]);
  strictEqual(bot.history.get(ROOM, ALICE).at(-1)?.content, "Forty-two");
});

Deno.test("tool rounds are not shown; the final round is streamed", async () => {
  await using bot = await streamingBot();
  bot.fake.enqueue(
    { content: null, toolCalls: [{ name: "calculator", arguments: { expression: "6*7" } }] },
    slowAnswer(["It ", "is ", "42."], 150),
  );
  await bot.say(ALICE, ".ai what is 6*7?");
  // The tool call arrived as deltas and was reassembled.
  const echoed = bot.fake.chats[1].messages.find((m) => m.role === "assistant");
  deepStrictEqual(
    (echoed?.tool_calls as Array<{ function: unknown }>)[0].function,
    { name: "calculator", arguments: '{"expression":"6*7"}' },
  );
  strictEqual(bot.fake.chats[1].messages.at(-1)?.role, "tool");
  deepStrictEqual(bot.port.visible(), ["**Alice**:\nIt is 42."]);
  ok(bot.port.writes.length >= 2, "the final round showed as it grew");
});

for (
  const [what, model] of [
    ["refuses stream with a 400", { refuseStream: true }],
    ["ignores stream and answers in JSON", { ignoreStream: true }],
  ] as const
) {
  Deno.test(`a provider that ${what} gets the same request without it, from then on`, async () => {
    await using bot = await streamingBot({ model });
    await bot.say(ALICE, ".ai one");
    await bot.say(ALICE, ".ai two");
    deepStrictEqual(bot.port.visible(), ["**Alice**:\nEcho: one", "**Alice**:\nEcho: two"]);
    const asked = bot.fake.chats.map((c) => c.body.stream === true);
    deepStrictEqual(asked, [true, false, false]);
    const { stream: _s, stream_options: _o, ...first } = bot.fake.chats[0].body;
    deepStrictEqual(bot.fake.chats[1].body, first);
  });
}

Deno.test("a provider that refuses only stream_options still streams, without it", async () => {
  await using bot = await streamingBot({ model: { refuseStreamOptions: true } });
  await bot.say(ALICE, ".ai one");
  await bot.say(ALICE, ".ai two");
  deepStrictEqual(
    bot.fake.chats.map((c) => [c.body.stream, c.body.stream_options !== undefined]),
    [[true, true], [true, false], [true, false]],
  );
  deepStrictEqual(bot.port.visible(), ["**Alice**:\nEcho: one", "**Alice**:\nEcho: two"]);
});

Deno.test("the usage a stream reports counts against the daily budget", async () => {
  await using bot = await streamingBot({ llm: { rate_limit: { daily_tokens: 10 } } });
  bot.fake.enqueue({
    ...slowAnswer(["a ", "b"], 10),
    usage: { prompt_tokens: 11, completion_tokens: 5 },
  });
  await bot.say(ALICE, ".ai count me");
  deepStrictEqual(bot.fake.chats[0].body.stream_options, { include_usage: true });
  await bot.say(ALICE, ".ai once more");
  strictEqual(bot.fake.chats.length, 1, "the budget was spent by the streamed answer");
  ok(bot.port.visible().length === 2 && !bot.port.visible()[1].includes("Echo"));
});

Deno.test("an answer that outgrows one event continues in a new message, each part within the limit", async () => {
  await using bot = await streamingBot({ editLimitBytes: 120 });
  const paragraphs = Array.from({ length: 6 }, (_, i) => `Paragraph ${i} ${"x".repeat(40)}.`);
  const pieces = paragraphs.flatMap((p, i) => i ? ["\n\n", p] : [p]);
  bot.fake.enqueue(slowAnswer(pieces, 60));
  await bot.say(ALICE, ".ai long");
  const visible = bot.port.visible();
  ok(visible.length >= 2, `parts: ${visible.length}`);
  for (const part of visible) ok(new TextEncoder().encode(part).length <= 120, part);
  strictEqual(visible.join("\n\n"), `**Alice**:\n${paragraphs.join("\n\n")}`);
  strictEqual(bot.port.events.filter((e) => e.kind === "redact").length, 0);
});

Deno.test(".thinking off and llm.stream false give one plain message from an unstreamed request", async () => {
  await using bot = await streamingBot();
  await bot.say(ADMIN, ".thinking off");
  bot.port.clear();
  bot.fake.enqueue(slowAnswer(PIECES, 20));
  await bot.say(ALICE, ".ai plain");
  deepStrictEqual(kinds(bot.port.events), ["typing:true", "send", "typing:false"]);
  strictEqual(bot.fake.chats.at(-1)!.body.stream, undefined);
  await using unstreamed = await streamingBot({ llm: { stream: false } });
  await unstreamed.say(ALICE, ".ai plain");
  strictEqual(unstreamed.fake.chats.at(-1)!.body.stream, undefined);
  deepStrictEqual(unstreamed.port.visible(), ["**Alice**:\nEcho: plain"]);
});

Deno.test("a stream that breaks off is retried, and the answer shown is the retried one", async () => {
  await using bot = await streamingBot();
  bot.fake.enqueue({ kind: "error", status: 503 }, slowAnswer(["Second ", "try."], 30));
  await bot.say(ALICE, ".ai again");
  deepStrictEqual(bot.port.visible(), ["**Alice**:\nSecond try."]);
});

Deno.test("the first message has one key whatever it becomes, so a re-handled event finds it again", async () => {
  await using bot = await streamingBot({ delayMs: 600 });
  await bot.say(ALICE, ".ai quick", ROOM, "$k1");
  bot.fake.enqueue(slowAnswer(PIECES, 80));
  await bot.say(ALICE, ".ai slow", ROOM, "$k2");
  bot.fake.enqueue({ content: "late", delayMs: 800 });
  await bot.say(ALICE, ".ai later", ROOM, "$k3");
  const firsts = bot.port.events.filter((e) => e.kind === "send").map((e) =>
    e.kind === "send" && e.message.txnId
  );
  deepStrictEqual(firsts, ["$k1:placeholder", "$k2:placeholder", "$k3:placeholder"]);
  // After a crash the same event is handled again: the placeholder comes at once (same key),
  // and the answer is its edit, sent with a fresh key.
  bot.port.clear();
  await bot.bot.handle({
    room: ROOM,
    sender: ALICE,
    body: ".ai quick",
    eventId: "$k1",
    retry: true,
  });
  const [first, ...rest] = bot.port.events.filter((e) => e.kind === "send" || e.kind === "edit");
  strictEqual(first.kind === "send" && first.message.txnId, "$k1:placeholder");
  deepStrictEqual(rest.map((e) => e.kind), ["edit"]);
  strictEqual(rest[0].kind === "edit" && rest[0].message.retry, true);
});
