import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import type { Message } from "../lib/conversation.ts";
import { type Answer, failureReason, Llm, LlmError, stripReasoning } from "../lib/llm.ts";
import { type FailureKind, ProviderError } from "../lib/provider_errors.ts";
import { Providers } from "../lib/providers.ts";
import { builtinTools } from "../lib/tools/builtins.ts";
import { type Tool, type ToolImage, ToolOutput, ToolRegistry } from "../lib/tools/registry.ts";
import { FakeOpenAI, type FakeReply } from "./fixtures/fake_openai.ts";
import { testConfig } from "./fixtures/harness.ts";

// ---------------------------------------------------------------------------
// stripReasoning (reference §4.6)

type StripCase = { what: string; input: string; text: string; thinking: string[] };
const STRIP_CASES: StripCase[] = [
  {
    what: "a think block and surrounding whitespace",
    input: "<think>plan</think>  Hello  \n",
    text: "Hello",
    thinking: ["plan"],
  },
  {
    what: "think, thought and solution markers combined",
    input:
      "<think>p</think> Hi <|begin_of_thought|>x<|end_of_thought|> <|begin_of_solution|>final<|end_of_solution|>",
    text: "final",
    thinking: ["p", "Hi x"],
  },
  {
    what: "a </think> without <think>",
    input: "Answer </think> tail",
    text: "Answer </think> tail",
    thinking: [],
  },
  {
    what: "a <think> without </think>",
    input: "<think>still thinking",
    text: "<think>still thinking",
    thinking: [],
  },
  {
    what: "text before <think> (discarded with the thinking)",
    input: "Intro <think>plan</think> Answer",
    text: "Answer",
    thinking: ["Intro plan"],
  },
  {
    what: "a second think block (kept)",
    input: "<think>a</think>B<think>c</think>D",
    text: "B<think>c</think>D",
    thinking: ["a"],
  },
  {
    what: "an empty think block",
    input: "<think></think>\n\nHi",
    text: "Hi",
    thinking: [],
  },
  {
    what: "only a think block",
    input: "<think>plan</think>   ",
    text: "",
    thinking: ["plan"],
  },
  {
    what: "thought markers",
    input: "<|begin_of_thought|>reasoning<|end_of_thought|>  answer ",
    text: "answer",
    thinking: ["reasoning"],
  },
  {
    what: "thought markers with a second end marker (the rest is lost)",
    input: "<|begin_of_thought|>r<|end_of_thought|>one<|end_of_thought|>two",
    text: "one",
    thinking: ["r"],
  },
  {
    what: "an end-of-thought marker alone",
    input: "x <|end_of_thought|> y",
    text: "x <|end_of_thought|> y",
    thinking: [],
  },
  {
    what: "solution markers",
    input: "preamble <|begin_of_solution|> the solution <|end_of_solution|> postscript",
    text: "the solution",
    thinking: [],
  },
  {
    what: "a begin-of-solution marker alone",
    input: "<|begin_of_solution|>only begin",
    text: "<|begin_of_solution|>only begin",
    thinking: [],
  },
  {
    what: "plain text",
    input: "  Just an answer.\n",
    text: "Just an answer.",
    thinking: [],
  },
];
for (const c of STRIP_CASES) {
  Deno.test(`stripReasoning handles ${c.what}`, () => {
    deepStrictEqual(stripReasoning(c.input), { text: c.text, thinking: c.thinking });
  });
}

// ---------------------------------------------------------------------------
// failureReason (decision 3)

const SECRET = "sk-secret-provider-detail";
const REASON_CASES: Array<[FailureKind, number | undefined, string]> = [
  ["timeout", undefined, "the model provider timed out"],
  ["unreachable", undefined, "could not reach the model provider"],
  ["auth", 401, "the model provider rejected the API key"],
  ["not_found", 404, "the model provider does not know this model"],
  ["rate_limited", 429, "the model provider is rate limiting requests, try again later"],
  ["bad_request", 400, "the model provider rejected the request, HTTP 400"],
  ["too_long", 400, "the conversation is too long for this model, try .reset"],
  ["server_error", 503, "the model provider had an internal error, HTTP 503"],
  ["invalid_response", undefined, "the model provider sent an invalid response"],
  ["aborted", undefined, "the request was cancelled"],
];
for (const [kind, status, reason] of REASON_CASES) {
  Deno.test(`failureReason for ${kind} is "${reason}" without the provider's text`, () => {
    const error = new ProviderError(kind, `HTTP ${status}: ${SECRET} Incorrect API key`, status);
    const got = failureReason(error);
    strictEqual(got, reason);
    ok(!got.includes(SECRET));
    ok(!got.includes("Incorrect"));
  });
}

Deno.test("failureReason passes an LlmError's reason through and hides other errors", () => {
  strictEqual(
    failureReason(new LlmError("the model returned an empty answer")),
    "the model returned an empty answer",
  );
  strictEqual(failureReason(new Error(`boom ${SECRET}`)), "an internal error");
  strictEqual(failureReason("a string"), "an internal error");
});

// ---------------------------------------------------------------------------
// Llm.answer through the fake provider

const thread: Message[] = [
  { role: "system", content: "you are a test bot." },
  { role: "user", content: "what is 2+2?", id: "$event1" },
];

function llmFor(fake: FakeOpenAI, maxToolRounds = 10): Llm {
  const providers = new Providers({ config: testConfig(fake.url), env: {}, retryBaseMs: 1 });
  return new Llm({ providers, maxToolRounds });
}

function calcTools(...extra: Tool[]): ToolRegistry {
  return new ToolRegistry([...builtinTools(), ...extra]);
}

/** A tool that returns the arguments it got, to see what the loop passed. */
const echoArgs: Tool = {
  definition: {
    type: "function",
    function: {
      name: "echo_args",
      description: "Returns its arguments",
      parameters: { type: "object", properties: {} },
    },
  },
  source: "builtin",
  call: (args) => Promise.resolve(args),
};

async function llmFailure(promise: Promise<Answer>): Promise<LlmError> {
  try {
    await promise;
  } catch (error) {
    ok(error instanceof LlmError, `expected an LlmError, got ${error}`);
    return error;
  }
  throw new Error("expected the answer to fail");
}

function calc(expression: string, id?: string): FakeReply {
  return {
    content: null,
    toolCalls: [{ id, name: "calculate_expression", arguments: { expression } }],
  };
}

type Sent = { role: string; content?: unknown; tool_calls?: unknown; [k: string]: unknown };
type SentCall = { id: string; type: string; function: { name: string; arguments: string } };

Deno.test("answer returns a plain completion's text and usage", async () => {
  await using fake = FakeOpenAI.start();
  fake.enqueue({ content: "Four.", usage: { prompt_tokens: 21, completion_tokens: 2 } });
  const answer = await llmFor(fake).answer({ model: "gpt-4.1-nano", messages: thread });
  deepStrictEqual(answer, {
    text: "Four.",
    thinking: [],
    usage: { prompt: 21, completion: 2 },
    requests: 1,
    toolCalls: 0,
  });
  const body = fake.chats[0].body;
  ok(!("tools" in body));
  ok(!("tool_choice" in body));
  // Stored message ids never reach the provider.
  deepStrictEqual(fake.chats[0].messages, [
    { role: "system", content: "you are a test bot." },
    { role: "user", content: "what is 2+2?" },
  ]);
});

Deno.test("answer with an empty tool registry is a plain completion", async () => {
  await using fake = FakeOpenAI.start();
  const answer = await llmFor(fake).answer({
    model: "gpt-4.1-nano",
    messages: thread,
    tools: new ToolRegistry([]),
  });
  strictEqual(answer.text, "Echo: what is 2+2?");
  ok(!("tools" in fake.chats[0].body));
});

Deno.test("answer strips reasoning markers from a plain completion and returns the thinking", async () => {
  await using fake = FakeOpenAI.start();
  fake.enqueue({ content: "<think>add them</think>\n4" });
  const answer = await llmFor(fake).answer({ model: "gpt-4.1-nano", messages: thread });
  strictEqual(answer.text, "4");
  deepStrictEqual(answer.thinking, ["add them"]);
});

Deno.test("answer runs a tool call and answers with the follow-up", async () => {
  await using fake = FakeOpenAI.start();
  fake.enqueue(
    {
      content: null,
      toolCalls: [{
        id: "call_a",
        name: "calculate_expression",
        arguments: '{"expression":"2+2"}',
      }],
      extra: { reasoning_content: "I should use the calculator" },
      usage: { prompt_tokens: 30, completion_tokens: 5 },
    },
    { content: "Result is 4", usage: { prompt_tokens: 40, completion_tokens: 3 } },
  );
  const tools = calcTools();
  const answer = await llmFor(fake).answer({ model: "gpt-4.1-nano", messages: thread, tools });
  strictEqual(answer.text, "Result is 4");
  strictEqual(answer.toolCalls, 1);
  strictEqual(answer.requests, 2);
  deepStrictEqual(answer.usage, { prompt: 70, completion: 8 });
  strictEqual(fake.chats.length, 2);

  const first = fake.chats[0].body;
  deepStrictEqual(first.tools, tools.definitions());
  strictEqual(first.tool_choice, "auto");
  strictEqual(fake.chats[1].body.tool_choice, "auto");

  const sent = fake.chats[1].messages as Sent[];
  strictEqual(sent.length, 4);
  const assistant = sent[2];
  // Decision 12: only role, content and tool_calls are echoed back.
  deepStrictEqual(Object.keys(assistant).sort(), ["content", "role", "tool_calls"]);
  strictEqual(assistant.role, "assistant");
  strictEqual(assistant.content, null);
  deepStrictEqual(assistant.tool_calls, [{
    id: "call_a",
    type: "function",
    function: { name: "calculate_expression", arguments: '{"expression":"2+2"}' },
  }]);
  const tool = sent[3];
  strictEqual(tool.role, "tool");
  strictEqual(tool.tool_call_id, "call_a");
  ok(String(tool.content).includes("4.0"), String(tool.content));
});

Deno.test("answer runs several tool calls of one round in order", async () => {
  await using fake = FakeOpenAI.start();
  fake.enqueue(
    {
      content: "Let me calculate.",
      toolCalls: [
        { id: "c1", name: "calculate_expression", arguments: { expression: "2+2" } },
        { id: "c2", name: "calculate_expression", arguments: { expression: "3*3" } },
      ],
    },
    { content: "4 and 9" },
  );
  const answer = await llmFor(fake).answer({
    model: "gpt-4.1-nano",
    messages: thread,
    tools: calcTools(),
  });
  strictEqual(answer.text, "4 and 9");
  strictEqual(answer.toolCalls, 2);
  const sent = fake.chats[1].messages as Sent[];
  strictEqual(sent[2].content, "Let me calculate.");
  deepStrictEqual((sent[2].tool_calls as SentCall[]).map((c) => c.id), ["c1", "c2"]);
  deepStrictEqual(sent.slice(3).map((m) => [m.role, m.tool_call_id]), [
    ["tool", "c1"],
    ["tool", "c2"],
  ]);
  ok(String(sent[3].content).includes("4.0"), String(sent[3].content));
  ok(String(sent[4].content).includes("9.0"), String(sent[4].content));
});

Deno.test("answer gives calls without an id generated ids, the same in the echo and the tool message", async () => {
  await using fake = FakeOpenAI.start();
  fake.enqueue(
    {
      content: null,
      toolCalls: [
        { id: "", name: "calculate_expression", arguments: { expression: "1+1" } },
        { id: "", name: "calculate_expression", arguments: { expression: "2+2" } },
      ],
    },
    calc("3+3", ""),
    { content: "done" },
  );
  const answer = await llmFor(fake).answer({
    model: "gpt-4.1-nano",
    messages: thread,
    tools: calcTools(),
  });
  strictEqual(answer.text, "done");
  // The fake really sent calls without an id.
  const sent = fake.chats[2].messages as Sent[];
  const echoed = sent.filter((m) => m.role === "assistant")
    .flatMap((m) => m.tool_calls as SentCall[]).map((c) => c.id);
  const answered = sent.filter((m) => m.role === "tool").map((m) => m.tool_call_id);
  strictEqual(echoed.length, 3);
  for (const id of echoed) ok(typeof id === "string" && id.length > 0, `bad id ${id}`);
  deepStrictEqual(answered, echoed);
  strictEqual(new Set(echoed).size, 3, `ids must be unique: ${echoed}`);
});

Deno.test("answer reports an unknown tool to the model and continues", async () => {
  await using fake = FakeOpenAI.start();
  fake.enqueue(
    { content: null, toolCalls: [{ id: "u1", name: "launch_rockets", arguments: {} }] },
    { content: "I cannot do that." },
  );
  const answer = await llmFor(fake).answer({
    model: "gpt-4.1-nano",
    messages: thread,
    tools: calcTools(),
  });
  strictEqual(answer.text, "I cannot do that.");
  const tool = (fake.chats[1].messages as Sent[])[3];
  strictEqual(tool.tool_call_id, "u1");
  deepStrictEqual(JSON.parse(String(tool.content)), { error: "Unknown tool: launch_rockets" });
});

const BAD_ARGUMENTS: Array<[string, string, string]> = [
  ["malformed JSON", '{"expression": "2+2"', "arguments are not valid JSON"],
  ["a JSON array", '["2+2"]', "arguments must be a JSON object"],
  ["a JSON string", '"2+2"', "arguments must be a JSON object"],
];
for (const [what, args, problem] of BAD_ARGUMENTS) {
  Deno.test(`answer reports ${what} as arguments to the model and continues`, async () => {
    await using fake = FakeOpenAI.start();
    fake.enqueue(
      {
        content: null,
        toolCalls: [{ id: "b1", name: "calculate_expression", arguments: args }],
      },
      { content: "Sorry." },
    );
    const answer = await llmFor(fake).answer({
      model: "gpt-4.1-nano",
      messages: thread,
      tools: calcTools(),
    });
    strictEqual(answer.text, "Sorry.");
    const sent = fake.chats[1].messages as Sent[];
    // The arguments are echoed as the model sent them.
    strictEqual((sent[2].tool_calls as SentCall[])[0].function.arguments, args);
    const tool = sent[3];
    strictEqual(tool.tool_call_id, "b1");
    deepStrictEqual(JSON.parse(String(tool.content)), {
      error: `Invalid arguments for calculate_expression: ${problem}`,
    });
  });
}

for (const [what, args] of [["blank", "   "], ["empty", ""], ["null", "null"]]) {
  Deno.test(`answer passes ${what} arguments as {}`, async () => {
    await using fake = FakeOpenAI.start();
    fake.enqueue(
      { content: null, toolCalls: [{ id: "e1", name: "echo_args", arguments: args }] },
      { content: "ok" },
    );
    await llmFor(fake).answer({
      model: "gpt-4.1-nano",
      messages: thread,
      tools: calcTools(echoArgs),
    });
    strictEqual((fake.chats[1].messages as Sent[])[3].content, "{}");
  });
}

Deno.test("answer stops a model that wants tools forever after max_tool_rounds and answers", async () => {
  await using fake = FakeOpenAI.start();
  fake.setHandler(() => ({
    content: "Partial answer",
    toolCalls: [{ name: "calculate_expression", arguments: { expression: "1+1" } }],
  }));
  const answer = await llmFor(fake, 3).answer({
    model: "gpt-4.1-nano",
    messages: thread,
    tools: calcTools(),
  });
  strictEqual(answer.text, "Partial answer");
  strictEqual(answer.requests, 4);
  strictEqual(answer.toolCalls, 3);
  strictEqual(fake.chats.length, 4);
  deepStrictEqual(
    fake.chats.map((c) => c.body.tool_choice),
    ["auto", "auto", "auto", "none"],
  );
  // The last request carries the results of all three rounds.
  strictEqual((fake.chats[3].messages as Sent[]).filter((m) => m.role === "tool").length, 3);
});

Deno.test("answer fails with 'the model returned an empty answer' on null content without tool calls", async () => {
  await using fake = FakeOpenAI.start();
  fake.enqueue({ content: null });
  const e = await llmFailure(llmFor(fake).answer({ model: "gpt-4.1-nano", messages: thread }));
  strictEqual(e.reason, "the model returned an empty answer");
});

Deno.test("answer fails with an empty answer when only reasoning is left after a tool loop", async () => {
  await using fake = FakeOpenAI.start();
  fake.enqueue(calc("2+2", "x1"), { content: "<think>the result is 4</think>   " });
  const e = await llmFailure(
    llmFor(fake).answer({ model: "gpt-4.1-nano", messages: thread, tools: calcTools() }),
  );
  strictEqual(e.reason, "the model returned an empty answer");
});

const MID_LOOP_FAILURES: Array<[FakeReply, string, FailureKind]> = [
  [{ kind: "error", status: 401 }, "the model provider rejected the API key", "auth"],
  [
    { kind: "error", status: 500 },
    "the model provider had an internal error, HTTP 500",
    "server_error",
  ],
  [
    { kind: "raw", body: "not json" },
    "the model provider sent an invalid response",
    "invalid_response",
  ],
];
for (const [reply, reason, kind] of MID_LOOP_FAILURES) {
  Deno.test(`answer turns a provider failure (${kind}) in the tool loop into LlmError "${reason}"`, async () => {
    await using fake = FakeOpenAI.start();
    fake.enqueue(calc("2+2", "m1"), reply);
    const e = await llmFailure(
      llmFor(fake).answer({ model: "gpt-4.1-nano", messages: thread, tools: calcTools() }),
    );
    strictEqual(e.reason, reason);
    ok(e.cause instanceof ProviderError);
    strictEqual(e.cause.kind, kind);
    strictEqual(fake.chats.length, 2);
  });
}

Deno.test("answer fails with the provider's reason on the first request", async () => {
  await using fake = FakeOpenAI.start();
  fake.enqueue({ kind: "error", status: 404, message: "The model `gpt-9` does not exist" });
  const e = await llmFailure(llmFor(fake).answer({ model: "gpt-4.1-nano", messages: thread }));
  strictEqual(e.reason, "the model provider does not know this model");
  ok(!e.message.includes("gpt-9"));
});

function imageTool(image: ToolImage): Tool {
  return {
    definition: {
      type: "function",
      function: {
        name: "draw",
        description: "Draws a picture",
        parameters: { type: "object", properties: {} },
      },
    },
    source: "builtin",
    call: () => Promise.resolve(new ToolOutput('{"result": "drawn"}', [image])),
  };
}

Deno.test("answer hands images from tools to onImage before it resolves", async () => {
  await using fake = FakeOpenAI.start();
  fake.enqueue(
    { content: null, toolCalls: [{ id: "d1", name: "draw", arguments: {} }] },
    { content: "Here is your picture." },
  );
  const image: ToolImage = {
    bytes: new Uint8Array([0x89, 0x50, 0x4e, 0x47]),
    mimetype: "image/png",
    name: "cat.png",
  };
  const events: string[] = [];
  const received: ToolImage[] = [];
  const answer = await llmFor(fake).answer({
    model: "gpt-4.1-nano",
    messages: thread,
    tools: calcTools(imageTool(image)),
    onImage: async (img) => {
      await new Promise((resolve) => setTimeout(resolve, 30));
      received.push(img);
      events.push("image");
    },
  });
  events.push("answer");
  strictEqual(answer.text, "Here is your picture.");
  deepStrictEqual(events, ["image", "answer"]);
  strictEqual(received[0], image);
  strictEqual((fake.chats[1].messages as Sent[])[3].content, '{"result": "drawn"}');
});

Deno.test("answer still answers when posting a tool's image fails", async () => {
  await using fake = FakeOpenAI.start();
  fake.enqueue(
    { content: null, toolCalls: [{ id: "d1", name: "draw", arguments: {} }] },
    { content: "Drawn." },
  );
  const image: ToolImage = { bytes: new Uint8Array([1]), mimetype: "image/png", name: "x.png" };
  const answer = await llmFor(fake).answer({
    model: "gpt-4.1-nano",
    messages: thread,
    tools: calcTools(imageTool(image)),
    onImage: () => Promise.reject(new Error("upload failed")),
  });
  strictEqual(answer.text, "Drawn.");
});

Deno.test("answer strips reasoning markers from the final text after a tool loop", async () => {
  await using fake = FakeOpenAI.start();
  fake.enqueue(calc("2+2", "r1"), {
    content: "<think>the tool said 4</think>\n\nThe answer is 4.",
  });
  const answer = await llmFor(fake).answer({
    model: "gpt-4.1-nano",
    messages: thread,
    tools: calcTools(),
  });
  strictEqual(answer.text, "The answer is 4.");
  deepStrictEqual(answer.thinking, ["the tool said 4"]);
});

Deno.test("answer sends the messages it is given in order, without ids, joining nothing", async () => {
  await using fake = FakeOpenAI.start();
  await llmFor(fake).answer({
    model: "gpt-4.1-nano",
    messages: [
      { role: "system", content: "s", id: "x" },
      { role: "user", content: "a", id: "$1" },
      { role: "assistant", content: "b", id: "$1:answer" },
      { role: "user", content: "c", id: "$2" },
    ],
  });
  deepStrictEqual(fake.chats[0].messages, [
    { role: "system", content: "s" },
    { role: "user", content: "a" },
    { role: "assistant", content: "b" },
    { role: "user", content: "c" },
  ]);
});
