/**
 * Provider faults through the whole bot (harness + MemoryPort + FakeOpenAI):
 * every failure gives its exact decision-3 reply, the thread stays usable,
 * other users are answered while one user's request is stuck, and no secret
 * reaches the log.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { resetSync } from "@logtape/logtape";
import type { Config } from "../lib/config.ts";
import { registerSecret, setupLogging } from "../lib/log.ts";
import type { Tool } from "../lib/tools/registry.ts";
import { FakeOpenAI, type FakeReply, type RecordedRequest } from "./fixtures/fake_openai.ts";
import { startTestBot, withBot } from "./fixtures/harness.ts";

const ROOM = "!room:test";
const ALICE = "@alice:test";
const BOB = "@bob:test";
const names = { [ALICE]: "Alice", [BOB]: "Bob" };
/** The secrets of the harness config (tests/fixtures/harness.ts rawConfig). */
const API_KEY = "sk-test-openai-key";
const PASSWORD = "test-password-123";

/** Registers the config's secrets exactly as lib/cli.ts `load()` does. */
function registerConfigSecrets(c: Config): void {
  for (
    const secret of [c.matrix.password, c.matrix.access_token, ...Object.values(c.llm.api_keys)]
  ) {
    registerSecret(secret);
  }
}

/** Runs `fn` with every log line (debug and up) captured. */
async function withLog<T>(fn: (lines: string[]) => Promise<T>): Promise<T> {
  const lines: string[] = [];
  setupLogging({ level: "debug", output: { write: (line) => lines.push(line) } });
  try {
    return await fn(lines);
  } finally {
    resetSync();
  }
}

function assertNoSecrets(where: string, texts: readonly string[]): void {
  for (const text of texts) {
    for (const secret of [API_KEY, PASSWORD]) {
      ok(!text.includes(secret), `${where} contains a secret: ${text.slice(0, 300)}`);
    }
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => resolve = r);
  return { promise, resolve };
}

/** Fails if `promise` has not settled after `ms` (a guard against deadlocks, not a speed test). */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, guard]);
  } finally {
    clearTimeout(timer);
  }
}

function lastUserText(request: RecordedRequest): string {
  const m = request.messages.findLast((m) => m.role === "user");
  return typeof m?.content === "string" ? m.content : "";
}

/** role/content of stored or sent messages (ids and other fields dropped). */
function plain(messages: ReadonlyArray<{ role: string; content?: unknown }>) {
  return messages.map((m) => ({ role: m.role, content: m.content }));
}

/**
 * The message list of a request that starts a new exchange is well-formed:
 * a system prompt first, only user/assistant after it, string contents, no
 * tool messages or tool calls left over from earlier tool loops.
 */
function assertWellFormed(request: RecordedRequest): void {
  const messages = request.messages;
  strictEqual(messages[0]?.role, "system", "the system prompt comes first");
  for (const [i, m] of messages.entries()) {
    ok(
      i === 0 ? m.role === "system" : m.role === "user" || m.role === "assistant",
      `message ${i} has role ${m.role}`,
    );
    strictEqual(typeof m.content, "string", `message ${i} has string content`);
    ok(!("tool_calls" in m) && !("tool_call_id" in m), `message ${i} carries tool fields`);
  }
  strictEqual(messages.at(-1)?.role, "user", "the new user message comes last");
}

/** A tool for the tool-loop faults: returns its text argument. */
const echoTool: Tool = {
  definition: {
    type: "function",
    function: {
      name: "echo",
      description: "Echoes the text back.",
      parameters: { type: "object", properties: { text: { type: "string" } } },
    },
  },
  source: "builtin",
  call: (args) => Promise.resolve({ echoed: args.text ?? null }),
};

// ---------------------------------------------------------------------------
// One table: each fault, Alice's exact reply, and what she cost the provider

interface FaultCase {
  what: string;
  /** Replies to Alice's first exchange, request by request; then the fake's default. */
  replies: FakeReply[];
  /** Config overrides (deep-merged into the harness config). */
  config?: Record<string, unknown>;
  /** Offer the echo tool (tool calling on). */
  tools?: boolean;
  /** Exactly what Alice sees. */
  reply: string;
  /** Requests Alice's exchange made (retries included). */
  requests: number;
  /** Which of Alice's requests is held until Bob has been answered. */
  holdAt?: number;
  /** Extra checks on Alice's requests. */
  check?: (requests: RecordedRequest[], lines: string[]) => void;
}

const ASK = "alice asks";
const ANSWERED = `**Alice**:\nEcho: ${ASK}`;
const fail = (reason: string) => `Something went wrong (${reason})`;
const error = (status: number, extra: Partial<Extract<FakeReply, { kind: "error" }>> = {}) =>
  ({ kind: "error", status, ...extra }) as FakeReply;
const echoCall = (args: string | Record<string, unknown>): FakeReply => ({
  content: null,
  toolCalls: [{ name: "echo", arguments: args }],
});

const FAULTS: FaultCase[] = [
  {
    what: "HTTP 400",
    replies: [error(400), error(400)],
    reply: fail("the model provider rejected the request, HTTP 400"),
    requests: 1,
  },
  {
    what: "HTTP 401 whose error body echoes the API key",
    replies: [
      error(401, {
        message: `Incorrect API key provided: ${API_KEY}`,
        code: "invalid_api_key",
      }),
      error(401),
    ],
    reply: fail("the model provider rejected the API key"),
    requests: 1,
    check: (_, lines) => {
      // The provider's text reached the log, with the key masked.
      ok(
        lines.some((l) => l.includes("Incorrect API key provided: ***")),
        `no masked provider message in:\n${lines.join("\n")}`,
      );
    },
  },
  {
    what: "HTTP 404",
    replies: [error(404, { message: "The model `gpt-4.1-nano` does not exist" }), error(404)],
    reply: fail("the model provider does not know this model"),
    requests: 1,
  },
  {
    what: "HTTP 429 with Retry-After: 0 (retried, then answered)",
    replies: [error(429, { headers: { "retry-after": "0" } })],
    reply: ANSWERED,
    requests: 2,
    holdAt: 1,
  },
  {
    what: "HTTP 429 without Retry-After, every time (gives up after 3 requests)",
    replies: [error(429), error(429), error(429), error(429)],
    reply: fail("the model provider is rate limiting requests, try again later"),
    requests: 3,
    holdAt: 1,
  },
  {
    what: "HTTP 500 (not retried)",
    replies: [error(500), error(500)],
    reply: fail("the model provider had an internal error, HTTP 500"),
    requests: 1,
  },
  {
    what: "HTTP 503 once (retried, then answered)",
    replies: [error(503)],
    reply: ANSWERED,
    requests: 2,
    holdAt: 1,
  },
  {
    what: "HTTP 503 every time (gives up after 3 requests)",
    replies: [error(503), error(503), error(503), error(503)],
    reply: fail("the model provider had an internal error, HTTP 503"),
    requests: 3,
    holdAt: 2,
  },
  {
    what: "a connection reset in the middle of the body once (retried, then answered)",
    replies: [{ kind: "reset" }],
    reply: ANSWERED,
    requests: 2,
    holdAt: 1,
  },
  {
    what: "a connection reset in the middle of the body every time",
    replies: [{ kind: "reset" }, { kind: "reset" }, { kind: "reset" }, { kind: "reset" }],
    reply: fail("could not reach the model provider"),
    requests: 3,
    holdAt: 1,
  },
  {
    what: "a provider that never answers (llm.timeout 2 s)",
    replies: [{ kind: "hang" }, { kind: "hang" }],
    config: { llm: { timeout: 2 } },
    reply: fail("the model provider timed out"),
    requests: 1,
  },
  {
    what: "a body that is not JSON, sent as JSON",
    replies: [{ kind: "raw", body: "<html><body>502 Bad Gateway</body></html>" }],
    reply: fail("the model provider sent an invalid response"),
    requests: 1,
  },
  {
    what: "a body that is not JSON, sent as text/html",
    replies: [{
      kind: "raw",
      body: "<html><body>Welcome to nginx</body></html>",
      contentType: "text/html",
    }],
    reply: fail("the model provider sent an invalid response"),
    requests: 1,
  },
  {
    what: "a valid completion with an empty choices list",
    replies: [{
      kind: "raw",
      body: JSON.stringify({
        id: "chatcmpl-empty",
        object: "chat.completion",
        created: 0,
        model: "gpt-4.1-nano",
        choices: [],
      }),
    }],
    reply: fail("the model provider sent an invalid response"),
    requests: 1,
  },
  {
    what: "content null without tool calls",
    replies: [{ content: null }],
    reply: fail("the model returned an empty answer"),
    requests: 1,
  },
  {
    what: "a call of a tool that does not exist, then a final answer",
    tools: true,
    replies: [{ content: null, toolCalls: [{ name: "no_such_tool", arguments: {} }] }],
    reply: `**Alice**:\nTool said: {"error":"Unknown tool: no_such_tool"}`,
    requests: 2,
    check: (requests) => {
      const tool = requests[1].messages.at(-1)!;
      strictEqual(tool.role, "tool");
      strictEqual(tool.content, '{"error":"Unknown tool: no_such_tool"}');
    },
  },
  {
    what: "tool arguments that are not JSON, then a final answer",
    tools: true,
    replies: [echoCall('{"text": "unterminated')],
    reply:
      `**Alice**:\nTool said: {"error":"Invalid arguments for echo: arguments are not valid JSON"}`,
    requests: 2,
  },
  {
    what: "a model that requests tools forever with no text (max_tool_rounds 2)",
    tools: true,
    config: { llm: { max_tool_rounds: 2 } },
    replies: Array.from({ length: 6 }, () => echoCall({ text: "again" })),
    reply: fail("the model returned an empty answer"),
    requests: 3,
    check: (requests) => {
      deepStrictEqual(requests.map((r) => r.body.tool_choice), ["auto", "auto", "none"]);
    },
  },
  {
    what: "a model that requests tools forever, with text (max_tool_rounds 2)",
    tools: true,
    config: { llm: { max_tool_rounds: 2 } },
    replies: Array.from({ length: 6 }, () => ({
      content: "what I have so far",
      toolCalls: [{ name: "echo", arguments: { text: "again" } }],
    })),
    reply: "**Alice**:\nwhat I have so far",
    requests: 3,
  },
];

/**
 * Alice's first `.ai` meets the fault; her request number `holdAt` is held
 * at the fake until Bob has been answered; then Alice asks again.
 */
async function runFault(c: FaultCase): Promise<void> {
  await withLog(async (lines) => {
    await using fake = FakeOpenAI.start();
    await using bot = await startTestBot({
      providerUrl: fake.url,
      port: { names },
      config: c.config,
      tools: c.tools ? [echoTool] : [],
    });
    registerConfigSecrets(bot.config);
    strictEqual(bot.settings.get("tools"), !!c.tools);
    const held = deferred();
    const gate = deferred();
    const alice: RecordedRequest[] = [];
    fake.setHandler(async (request) => {
      if (lastUserText(request) !== ASK) return undefined;
      const i = alice.push(request) - 1;
      if (i === (c.holdAt ?? 0)) {
        held.resolve();
        await gate.promise;
      }
      return c.replies[i];
    });
    let aliceDone = false;
    const first = bot.say(ALICE, `.ai ${ASK}`).then(() => aliceDone = true);
    try {
      await within(held.promise, 30_000, "Alice's request to reach the provider");
      await within(bot.say(BOB, ".ai bob asks"), 30_000, "Bob's answer while Alice waits");
      strictEqual(aliceDone, false, "Alice's exchange was still running when Bob was answered");
    } finally {
      gate.resolve();
      await within(first, 60_000, "Alice's exchange");
    }

    deepStrictEqual(bot.port.visible(ROOM), ["**Bob**:\nEcho: bob asks", c.reply]);
    strictEqual(alice.length, c.requests, "requests of Alice's exchange");
    c.check?.(alice, lines);

    // The thread: the exchange is stored on success; a failure leaves it as it was (decision 30).
    const answered = c.reply.startsWith("**Alice**:\n");
    const answer = c.reply.slice("**Alice**:\n".length);
    const system = bot.history.get(ROOM, ALICE)[0];
    strictEqual(system.role, "system");
    strictEqual(bot.history.has(ROOM, ALICE), answered, "a thread exists only after an answer");
    const expected = [
      { role: "system", content: system.content },
      ...(answered ? [{ role: "user", content: ASK }, { role: "assistant", content: answer }] : []),
    ];
    deepStrictEqual(plain(bot.history.get(ROOM, ALICE)), expected);

    // Alice's next .ai works and sends the thread without tool leftovers; after a
    // failure it is about her new message only (roles alternate).
    await bot.say(ALICE, ".ai alice again");
    strictEqual(bot.port.visible(ROOM).at(-1), "**Alice**:\nEcho: alice again");
    const next = fake.chats.at(-1)!;
    assertWellFormed(next);
    deepStrictEqual(plain(next.messages), [...expected, { role: "user", content: "alice again" }]);
    ok(
      answered || !JSON.stringify(next.messages).includes(ASK),
      "the failed message is not resent",
    );

    // Bob's thread is untouched by Alice's trouble.
    deepStrictEqual(plain(bot.history.get(ROOM, BOB)).slice(1), [
      { role: "user", content: "bob asks" },
      { role: "assistant", content: "Echo: bob asks" },
    ]);

    ok(lines.length > 0, "the log was captured");
    assertNoSecrets("the log", lines);
    assertNoSecrets("the chat", bot.port.visible());
  });
}

for (const c of FAULTS) {
  Deno.test(`${c.what}: Alice gets "${c.reply.replace("\n", " ")}", Bob is served meanwhile, the thread stays usable`, () =>
    runFault(c));
}

// ---------------------------------------------------------------------------
// Faults that need their own set-up

/** A port on 127.0.0.1 where nothing listens. */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

Deno.test("a refused connection replies 'could not reach the model provider' at once, and users of another provider are served", async () => {
  await withLog(async (lines) => {
    await using fake = FakeOpenAI.start();
    const down = `http://127.0.0.1:${closedPort()}/v1`;
    // gpt-4.1-nano (openai, the default) goes to the closed port; gemini-2.5-flash (google) to the fake.
    await using bot = await startTestBot({
      providerUrl: fake.url,
      port: { names },
      config: { llm: { base_urls: { openai: down } } },
      tools: [],
    });
    registerConfigSecrets(bot.config);
    await bot.say(BOB, ".mymodel gemini-2.5-flash");
    await Promise.all([bot.say(ALICE, `.ai ${ASK}`), bot.say(BOB, ".ai bob asks")]);
    deepStrictEqual(bot.port.visible(ROOM).slice(1).sort(), [
      "**Bob**:\nEcho: bob asks",
      fail("could not reach the model provider"),
    ]);
    strictEqual(fake.chats.length, 1, "only Bob's request reached a provider");
    // Not retried: a refused connection is refused again.
    ok(!lines.some((l) => /retry \d/.test(l)), lines.join("\n"));
    strictEqual(bot.history.has(ROOM, ALICE), false, "the failed exchange left no thread");

    // Alice moves to the working provider; her new message is answered on its own.
    await bot.say(ALICE, ".mymodel gemini-2.5-flash");
    await bot.say(ALICE, ".ai alice again");
    strictEqual(bot.port.visible(ROOM).at(-1), "**Alice**:\nEcho: alice again");
    const next = fake.chats.at(-1)!;
    assertWellFormed(next);
    deepStrictEqual(plain(next.messages).slice(1), [{ role: "user", content: "alice again" }]);
    assertNoSecrets("the log", lines);
  });
});

Deno.test("a 1 MB answer reaches the user whole, is stored whole and is sent back next time", async () => {
  await withLog(async (lines) => {
    await using bot = await withBot({ port: { names }, tools: [] });
    registerConfigSecrets(bot.config);
    const line = "The quick brown fox jumps over the lazy dog 0123456789.\n";
    const answer = (line.repeat(Math.ceil(1_048_576 / line.length)) + "THE END").trim();
    ok(answer.length > 1_048_576);
    bot.fake.enqueue({ content: answer });
    await bot.say(ALICE, ".ai write a lot");
    const visible = bot.port.visible(ROOM);
    strictEqual(visible.length, 1);
    strictEqual(visible[0].length, "**Alice**:\n".length + answer.length);
    strictEqual(visible[0], `**Alice**:\n${answer}`);
    strictEqual(bot.history.get(ROOM, ALICE).at(-1)?.content, answer);
    await bot.say(ALICE, ".ai thanks");
    const sent = bot.fake.chats.at(-1)!;
    assertWellFormed(sent);
    strictEqual(sent.messages.at(-2)?.content, answer);
    assertNoSecrets("the log", lines);
  });
});

Deno.test("a request that hangs keeps only its own user waiting: Bob is answered, Alice gets the timeout", async () => {
  await withLog(async (lines) => {
    await using bot = await withBot({
      port: { names },
      config: { llm: { timeout: 3 } },
      tools: [],
    });
    registerConfigSecrets(bot.config);
    const arrived = deferred();
    bot.fake.setHandler((request) => {
      if (lastUserText(request) !== ASK) return undefined;
      arrived.resolve();
      return { kind: "hang" };
    });
    let aliceDone = false;
    const alice = bot.say(ALICE, `.ai ${ASK}`).then(() => aliceDone = true);
    await within(arrived.promise, 30_000, "Alice's request");
    // Several of Bob's exchanges while Alice's request hangs, one after another.
    for (const n of [1, 2, 3]) await bot.say(BOB, `.ai bob ${n}`);
    strictEqual(aliceDone, false, "Bob was answered while Alice's request hung");
    await within(alice, 60_000, "Alice's timeout");
    deepStrictEqual(bot.port.visible(ROOM), [
      "**Bob**:\nEcho: bob 1",
      "**Bob**:\nEcho: bob 2",
      "**Bob**:\nEcho: bob 3",
      fail("the model provider timed out"),
    ]);
    assertNoSecrets("the log", lines);
  });
});

Deno.test("with the placeholder on, a failure that took retries replaces 'Thinking…' with the reason", async () => {
  await using bot = await withBot({
    port: { names },
    tools: [],
    placeholders: true,
    timing: { animationMs: 20 },
  });
  bot.fake.enqueue(error(503), error(503), error(503));
  await bot.say(ALICE, `.ai ${ASK}`);
  strictEqual(bot.fake.chats.length, 3);
  deepStrictEqual(bot.port.visible(ROOM), [
    fail("the model provider had an internal error, HTTP 503"),
  ]);
  const sends = bot.port.events.filter((e) => e.kind === "send");
  strictEqual(sends.length, 1, "the reason is an edit of the placeholder, not a new message");
  ok(bot.port.events.some((e) => e.kind === "edit"), "the placeholder was edited");
});

Deno.test("a 401 that echoes the key in its body leaks it neither to the log nor to the chat, at any level", async () => {
  await withLog(async (lines) => {
    await using bot = await withBot({ port: { names }, tools: [] });
    registerConfigSecrets(bot.config);
    bot.fake.enqueue({
      kind: "error",
      status: 401,
      message: `Incorrect API key provided: ${API_KEY}. You can find your API key at ...`,
    });
    bot.fake.enqueue({ kind: "error", status: 401, message: `Incorrect password ${PASSWORD}` });
    await bot.say(ALICE, ".ai one");
    await bot.say(ALICE, ".ai two");
    // The key did go over the wire as the bearer token: the log is where it must stop.
    strictEqual(bot.fake.chats[0].headers.get("authorization"), `Bearer ${API_KEY}`);
    deepStrictEqual(bot.port.visible(ROOM), [
      fail("the model provider rejected the API key"),
      fail("the model provider rejected the API key"),
    ]);
    ok(lines.some((l) => l.includes("***")), "the secrets were masked, not dropped unseen");
    assertNoSecrets("the log", lines);
    assertNoSecrets("the chat", bot.port.visible());
  });
});

// A failed exchange leaves the thread as it was (decision 30): the next request is
// about the next message only, and roles still alternate (strict chat templates
// refuse two user messages in a row).
Deno.test({
  name: "after a failed exchange the next request is about the next message and alternates roles",
  fn: async () => {
    await using bot = await withBot({ port: { names }, tools: [] });
    await bot.say(ALICE, ".ai zero");
    bot.fake.enqueue({ kind: "error", status: 500 });
    await bot.say(ALICE, ".ai first");
    await bot.say(ALICE, ".ai second");
    strictEqual(bot.port.visible(ROOM).at(-1), "**Alice**:\nEcho: second");
    const sent = bot.fake.chats.at(-1)!.messages;
    ok(!JSON.stringify(sent).includes("first"), "the failed message is not resent");
    const roles = sent.map((m) => m.role).slice(1);
    deepStrictEqual(roles, ["user", "assistant", "user"]);
  },
});
