/**
 * MCP servers that misbehave, seen from the whole bot (createBot through the
 * harness, FakeOpenAI as the model): startup returns, the model gets an
 * error result and still answers, the bot keeps serving, nothing crashes.
 * McpManager's own unit behaviour is in mcp_test.ts.
 */
import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { resetSync } from "@logtape/logtape";
import { setupLogging } from "../lib/log.ts";
import { FakeOpenAI, type RecordedRequest } from "./fixtures/fake_openai.ts";
import { startTestBot, type TestBot } from "./fixtures/harness.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const OWN_SERVER = fileURLToPath(new URL("./fixtures/mcp_test_server.ts", import.meta.url));
const ROOM = "!room:test";
const ALICE = "@alice:test";
const BOB = "@bob:test";
const names = { [ALICE]: "Alice", [BOB]: "Bob" };

/** Variables the child deno needs to find its cache (MCP children get a minimal environment). */
function denoEnv(): Record<string, string> {
  const dir = Deno.env.get("DENO_DIR");
  return dir ? { DENO_DIR: dir } : {};
}

/** A config entry for `deno <args>` over stdio. */
function denoEntry(args: string[], extra: Record<string, unknown> = {}) {
  return { command: Deno.execPath(), args, cwd: ROOT, env: denoEnv(), ...extra };
}

/** Our own test server (tests/fixtures/mcp_test_server.ts). */
const ownEntry = (extra: Record<string, unknown> = {}) =>
  denoEntry(["run", "-A", "--quiet", OWN_SERVER], extra);

/** `deno eval <code>`: a process that is not an MCP server. */
const evalEntry = (code: string) => denoEntry(["eval", "--no-config", code]);

async function withLog<T>(fn: (lines: string[]) => Promise<T>): Promise<T> {
  const lines: string[] = [];
  setupLogging({ level: "debug", output: { write: (line) => lines.push(line) } });
  try {
    return await fn(lines);
  } finally {
    resetSync();
  }
}

/** Fails if `promise` has not settled after `ms` (a guard against hangs, not a speed test). */
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

/**
 * A bot with these MCP servers and no built-in tools. Its start is guarded:
 * with `tool_timeout` T the bot waits at most min(T, 10) s for MCP; the guard
 * is far above that, so only a start that blocks on a broken server fails it.
 */
function mcpBot(
  fake: FakeOpenAI,
  servers: Record<string, unknown>,
  llm: Record<string, unknown> = {},
  extra: Record<string, unknown> = {},
): Promise<TestBot> {
  return within(
    startTestBot({
      providerUrl: fake.url,
      port: { names },
      config: { llm: { tool_timeout: 2, ...llm, mcp_servers: servers }, ...extra },
      tools: [],
    }),
    60_000,
    "the bot to start",
  );
}

function toolMessage(request: RecordedRequest | undefined) {
  const last = request?.messages.at(-1);
  strictEqual(last?.role, "tool", "the request after a tool call ends with the tool result");
  return String(last!.content);
}

/** `.ai` then the visible reply; the fake answers `Tool said: <result>` after a tool. */
async function ask(bot: TestBot, user: string, text: string): Promise<string> {
  await within(bot.say(user, `.ai ${text}`), 60_000, `the answer to ${text}`);
  return bot.port.visible(ROOM).at(-1)!;
}

// ---------------------------------------------------------------------------
// Servers that never come up

const BROKEN: Array<{ what: string; entry: Record<string, unknown>; warning: RegExp }> = [
  {
    what: "a command that does not exist (ENOENT)",
    entry: { command: "/nonexistent/infinigpt-mcp-server", args: ["--stdio"] },
    warning: /Failed to list tools from MCP server 'broken' \(\/nonexistent\/infinigpt-mcp-server/,
  },
  {
    what: "a process that exits at once with status 1",
    entry: evalEntry("Deno.exit(1)"),
    warning: /Failed to list tools from MCP server 'broken'/,
  },
  {
    what: "a process that prints garbage on stdout and exits",
    entry: evalEntry(
      'console.log("garbage, not JSON-RPC"); console.log("{\\"jsonrpc\\": 5, \\"id\\": \\"x\\"}");' +
        ' console.log("\\u0000\\u00ff{{{"); Deno.exit(0)',
    ),
    warning: /Failed to list tools from MCP server 'broken'/,
  },
  {
    what: "a process that prints garbage on stdout and stays alive",
    entry: evalEntry(
      'console.log("garbage, not JSON-RPC"); for await (const _ of Deno.stdin.readable) {}',
    ),
    // Either start() gives up waiting first or the connection attempt does.
    warning: /MCP server 'broken' (is not ready after 2000 ms|\(.*\): )/,
  },
];

for (const c of BROKEN) {
  Deno.test(`MCP server that is ${c.what}: the bot starts, warns, and answers through the tool loop with the working server`, async () => {
    await withLog(async (lines) => {
      await using fake = FakeOpenAI.start();
      await using bot = await mcpBot(fake, {
        broken: c.entry,
        good: ownEntry({ allowed_tools: ["echo"] }),
      });
      ok(lines.some((l) => l.includes("WARNING") && c.warning.test(l)), lines.join("\n"));
      deepStrictEqual(bot.tools.names(), ["echo"], "only the working server's tools");
      strictEqual(bot.settings.get("tools"), true);

      // The model calls a tool nobody offers: it gets an error and answers.
      strictEqual(
        await ask(bot, ALICE, "tool:whoami {}"),
        `**Alice**:\nTool said: {"error":"Unknown tool: whoami"}`,
      );
      // The working server still does its job.
      strictEqual(
        await ask(bot, ALICE, 'tool:echo {"text":"still here"}'),
        `**Alice**:\nTool said: {"result":"still here"}`,
      );
      strictEqual(await ask(bot, BOB, "plain question"), "**Bob**:\nEcho: plain question");
      // The stored thread has no tool leftovers.
      deepStrictEqual(
        bot.history.get(ROOM, ALICE).slice(1).map((m) => m.role),
        ["user", "assistant", "user", "assistant"],
      );
    });
  });
}

Deno.test("with every MCP server broken and no built-ins, the bot starts with tools off and answers plainly", async () => {
  await withLog(async (lines) => {
    await using fake = FakeOpenAI.start();
    await using bot = await mcpBot(
      fake,
      Object.fromEntries(BROKEN.map((c, i) => [`b${i}`, c.entry])),
    );
    strictEqual(bot.tools.size, 0);
    strictEqual(bot.settings.get("tools"), false);
    ok(
      lines.some((l) => l.includes("MCP servers are configured but none of them offers tools")),
      lines.join("\n"),
    );
    strictEqual(await ask(bot, ALICE, "hello"), "**Alice**:\nEcho: hello");
    strictEqual("tools" in fake.chats[0].body, false, "no tools offered");
  });
});

// ---------------------------------------------------------------------------
// Servers that fail during a call

Deno.test("an MCP server that dies mid-call: the model gets an error result and answers, the next call reconnects", async () => {
  await withLog(async () => {
    await using fake = FakeOpenAI.start();
    await using bot = await mcpBot(
      fake,
      { own: ownEntry({ allowed_tools: ["crash", "whoami"] }) },
      {
        tool_timeout: 20,
      },
    );
    const before = await whoamiPid(bot, fake);

    const crashed = await ask(bot, ALICE, "tool:crash {}");
    const told = toolMessage(fake.chats.at(-1));
    match(told, /^\{"error":"Tool execution error for crash: .+"\}$/);
    strictEqual(crashed, `**Alice**:\nTool said: ${told}`);

    // Bob is still answered, and the server comes back on the next call.
    strictEqual(await ask(bot, BOB, "are you ok?"), "**Bob**:\nEcho: are you ok?");
    const after = await whoamiPid(bot, fake);
    ok(after !== before, `a new server process answers (pid ${after} vs ${before})`);
  });
});

/** The pid of the server process that answers `whoami` through the bot. */
async function whoamiPid(bot: TestBot, fake: FakeOpenAI): Promise<number> {
  await ask(bot, ALICE, "tool:whoami {}");
  const told = JSON.parse(toolMessage(fake.chats.at(-1)));
  ok(typeof told.result === "string", `not a result: ${JSON.stringify(told)}`);
  const pid = JSON.parse(told.result).pid;
  strictEqual(typeof pid, "number");
  return pid;
}

Deno.test("an MCP call that hangs ends at llm.tool_timeout with an error the model answers from", async () => {
  await withLog(async (lines) => {
    await using fake = FakeOpenAI.start();
    await using bot = await mcpBot(fake, {
      own: ownEntry({ allowed_tools: ["hang", "echo"] }),
    }, { tool_timeout: 2 });
    deepStrictEqual(bot.tools.names().sort(), ["echo", "hang"]);
    const reply = await ask(bot, ALICE, "tool:hang {}");
    const told = toolMessage(fake.chats.at(-1));
    match(told, /^\{"error":"Tool execution error for hang: .*timed out.*"\}$/i);
    strictEqual(reply, `**Alice**:\nTool said: ${told}`);
    ok(lines.some((l) => /WARNING .*Tool hang failed: .*timed out/i.test(l)), lines.join("\n"));
    // The same server keeps answering.
    strictEqual(
      await ask(bot, ALICE, 'tool:echo {"text":"after the hang"}'),
      `**Alice**:\nTool said: {"result":"after the hang"}`,
    );
  });
});

Deno.test("a 5 MB MCP result reaches the model cut to tools.result_max_chars, and the bot answers", async () => {
  await withLog(async () => {
    await using fake = FakeOpenAI.start();
    await using bot = await mcpBot(
      fake,
      { own: ownEntry({ allowed_tools: ["huge"] }) },
      { tool_timeout: 30 },
      { tools: { result_max_chars: 20_000 } },
    );
    const size = 5 * 1024 * 1024;
    fake.setHandler((request) =>
      request.messages.at(-1)?.role === "tool"
        ? { content: `I got ${String(request.messages.at(-1)!.content).length} characters.` }
        : undefined
    );
    const reply = await ask(bot, ALICE, `tool:huge {"size": ${size}}`);
    const told = toolMessage(fake.chats.at(-1));
    ok(told.length < 21_000, `the model got ${told.length} characters`);
    const parsed = JSON.parse(told);
    strictEqual(parsed.truncated, true);
    strictEqual(parsed.result.length, 20_000);
    ok(parsed.result.startsWith('{"result":"xxxx'), parsed.result.slice(0, 30));
    match(parsed.note, new RegExp(`from ${size + '{"result":""}'.length} to 20000`));
    strictEqual(reply, `**Alice**:\nI got ${told.length} characters.`);
    // Nothing of the 5 MB is stored in the thread.
    const stored = JSON.stringify(bot.history.get(ROOM, ALICE));
    ok(stored.length < 10_000, `the thread holds ${stored.length} characters`);
  });
});
