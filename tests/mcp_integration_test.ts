import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import denoJson from "../deno.json" with { type: "json" };
import { waitUntil } from "./fixtures/wait.ts";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { resetSync } from "@logtape/logtape";
import { decodeBase64 } from "../lib/base64.ts";
import { setupLogging } from "../lib/log.ts";
import type { Tool } from "../lib/tools/registry.ts";
import { FakeOpenAI } from "./fixtures/fake_openai.ts";
import { startTestBot, type TestBot } from "./fixtures/harness.ts";
import { TINY_PNG } from "./fixtures/mcp_test_server.ts";
import { canSymlink, processRunning } from "./fixtures/platform.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const OWN_SERVER = fileURLToPath(new URL("./fixtures/mcp_test_server.ts", import.meta.url));
/** The reference MCP server, at the version deno.json pins. */
const EVERYTHING = denoJson.imports["@modelcontextprotocol/server-everything"];
const ALICE = "@alice:test";
const names = { [ALICE]: "Alice" };
const PNG = decodeBase64(TINY_PNG);

/** Variables the child deno needs to find its cache (MCP children get a minimal environment). */
function denoEnv(): Record<string, string> {
  const dir = Deno.env.get("DENO_DIR");
  return dir ? { DENO_DIR: dir } : {};
}

/** A raw config entry (as in config.json) for a stdio server run by deno. */
function stdioEntry(args: string[], extra: Record<string, unknown> = {}) {
  return {
    command: Deno.execPath(),
    args: ["run", "-A", "--quiet", ...args],
    cwd: ROOT,
    env: denoEnv(),
    ...extra,
  };
}

const ownEntry = (extra: Record<string, unknown> = {}) => stdioEntry([OWN_SERVER], extra);
const everythingEntry = () => stdioEntry([EVERYTHING, "stdio"]);

/** A bot whose config has these MCP servers; tool_timeout 30 s, so start waits up to 10 s. */
function mcpBot(
  fake: FakeOpenAI,
  servers: Record<string, unknown>,
  options: { tools?: Tool[] } = {},
): Promise<TestBot> {
  return startTestBot({
    providerUrl: fake.url,
    port: { names },
    config: { llm: { tool_timeout: 30, mcp_servers: servers } },
    tools: options.tools,
  });
}

type OfferedTool = { function: { name: string; description?: string; parameters?: unknown } };

function offered(fake: FakeOpenAI, chat = 0): OfferedTool[] {
  return (fake.chats[chat].body.tools ?? []) as OfferedTool[];
}

function toolMessages(fake: FakeOpenAI, chat: number) {
  return fake.chats[chat].messages.filter((m) => m.role === "tool");
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Our own server over Streamable HTTP on a free port; killed on dispose. */
async function httpServer(): Promise<{ url: string } & AsyncDisposable> {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", OWN_SERVER, "--http", String(port)],
    cwd: ROOT,
    env: denoEnv(),
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const stop = async () => {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
    await child.status;
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      break;
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new Error("the MCP test server did not start");
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return { url: `http://127.0.0.1:${port}/mcp`, [Symbol.asyncDispose]: stop };
}

/** False when symlinks need a privilege this process lacks (Windows). */
const SYMLINKS = await canSymlink();

// ---------------------------------------------------------------------------
// Name clashes and the tool loop

Deno.test("an MCP tool replaces the built-in of the same name and gets its calls", async () => {
  await using fake = FakeOpenAI.start();
  await using bot = await mcpBot(fake, { own: ownEntry() });
  fake.enqueue(
    { toolCalls: [{ name: "get_weather", arguments: { city: "Paris" } }] },
    { content: "It is MCP weather." },
  );
  await bot.say(ALICE, ".ai weather in Paris?");
  const weather = offered(fake).filter((t) => t.function.name === "get_weather");
  strictEqual(weather.length, 1, "get_weather is offered once");
  match(weather[0].function.description ?? "", /MCP/);
  const names = offered(fake).map((t) => t.function.name);
  ok(names.includes("calculate_expression"), `built-ins are still offered: ${names}`);
  strictEqual(names[0], "echo", "MCP tools come first, in the server's order");
  deepStrictEqual(toolMessages(fake, 1).map((m) => m.content), [
    '{"result":"MCP weather for Paris"}',
  ]);
  deepStrictEqual(bot.port.visible(), ["**Alice**:\nIt is MCP weather."]);
});

Deno.test("the first MCP server's tool beats a later server's tool of the same name, end to end", async () => {
  await using fake = FakeOpenAI.start();
  const lines: string[] = [];
  setupLogging({ level: "info", output: { write: (line) => lines.push(line) } });
  let bot: TestBot;
  try {
    bot = await mcpBot(fake, { own: ownEntry(), everything: everythingEntry() }, { tools: [] });
  } finally {
    resetSync();
  }
  await using _bot = bot;
  ok(
    lines.some((l) =>
      l.includes('WARNING app: MCP tool "echo" of server "everything" is ignored: server "own"')
    ),
    lines.join("\n"),
  );
  fake.enqueue(
    { toolCalls: [{ name: "echo", arguments: { text: "hello mcp" } }] },
    { content: "The echo came back." },
  );
  await bot.say(ALICE, ".ai please echo");
  const tools = offered(fake);
  const echoes = tools.filter((t) => t.function.name === "echo");
  strictEqual(echoes.length, 1, "one echo is offered");
  strictEqual(echoes[0].function.description, "Echoes the text back.");
  ok(
    tools.some((t) => t.function.name === "get-sum"),
    "the later server's other tools are offered",
  );
  strictEqual(fake.chats.length, 2);
  const sent = toolMessages(fake, 1);
  strictEqual(sent.length, 1);
  match(String(sent[0].content), /hello mcp/);
  // The first server's echo answers {text}; server-everything's would say "Echo: ...".
  strictEqual(sent[0].content, '{"result":"hello mcp"}');
  deepStrictEqual(bot.port.visible(), ["**Alice**:\nThe echo came back."]);
});

Deno.test("an MCP image result reaches the chat as bytes before the final reply", async () => {
  await using fake = FakeOpenAI.start();
  await using bot = await mcpBot(fake, { own: ownEntry({ allowed_tools: ["image"] }) }, {
    tools: [],
  });
  fake.enqueue({ toolCalls: [{ name: "image", arguments: {} }] }, { content: "Here it is." });
  await bot.say(ALICE, ".ai draw something");
  const posted = bot.port.events.filter((e) => e.kind === "image" || e.kind === "send");
  deepStrictEqual(posted.map((e) => e.kind), ["image", "send"]);
  const image = posted[0];
  ok(image.kind === "image");
  strictEqual(image.room, "!room:test");
  strictEqual(image.image.mimetype, "image/png");
  deepStrictEqual(image.image.bytes, PNG);
  const told = JSON.parse(String(toolMessages(fake, 1)[0].content));
  deepStrictEqual(told, { result: "here is an image", images: "1 image(s) posted to the chat" });
  deepStrictEqual(bot.port.visible(), ["**Alice**:\nHere it is."]);
});

for (
  const [form, entry] of [
    ["a bare URL string", (url: string) => url],
    ["a {url} object", (url: string) => ({ url })],
    ["a {url, transport: streamable-http} object", (url: string) => ({
      url,
      transport: "streamable-http",
    })],
  ] as const
) {
  Deno.test(`an MCP server given as ${form} serves the bot over HTTP`, async () => {
    await using server = await httpServer();
    await using fake = FakeOpenAI.start();
    await using bot = await mcpBot(fake, { remote: entry(server.url) }, { tools: [] });
    fake.enqueue(
      { toolCalls: [{ name: "add", arguments: { a: 20, b: 22 } }] },
      { content: "Forty-two." },
    );
    await bot.say(ALICE, ".ai add");
    ok(offered(fake).some((t) => t.function.name === "add"));
    strictEqual(toolMessages(fake, 1)[0].content, '{"sum":42}');
    deepStrictEqual(bot.port.visible(), ["**Alice**:\nForty-two."]);
  });
}

Deno.test("with only MCP tools, tool calling starts enabled and offers them", async () => {
  await using fake = FakeOpenAI.start();
  await using bot = await mcpBot(fake, { own: ownEntry({ allowed_tools: ["echo", "add"] }) }, {
    tools: [],
  });
  strictEqual(bot.settings.get("tools"), true);
  deepStrictEqual(bot.tools.counts(), { mcp: 2, builtin: 0 });
  await bot.say(ALICE, ".ai hi");
  deepStrictEqual(offered(fake).map((t) => t.function.name), ["echo", "add"]);
});

Deno.test("when the only MCP server fails and there are no built-ins, tool calling starts disabled", async () => {
  await using fake = FakeOpenAI.start();
  await using bot = await mcpBot(fake, {
    broken: { command: "/nonexistent/infinigpt-mcp-server" },
  }, { tools: [] });
  strictEqual(bot.tools.size, 0);
  strictEqual(bot.settings.get("tools"), false);
  await bot.say(ALICE, ".ai hi");
  strictEqual("tools" in fake.chats[0].body, false);
  deepStrictEqual(bot.port.visible(), ["**Alice**:\nEcho: hi"]);
});

Deno.test("a tool a server adds at run time is offered on the next request", async () => {
  await using fake = FakeOpenAI.start();
  await using bot = await mcpBot(fake, { own: ownEntry({ allowed_tools: ["add_tool", "late"] }) }, {
    tools: [],
  });
  await bot.say(ALICE, ".ai tool:add_tool {}");
  deepStrictEqual(offered(fake, 0).map((t) => t.function.name), ["add_tool"]);
  await waitUntil("the new tool in the registry", () => bot.tools.names().includes("late"));
  await bot.say(ALICE, ".ai tool:late {}");
  deepStrictEqual(offered(fake, 2).map((t) => t.function.name).sort(), ["add_tool", "late"]);
  strictEqual(toolMessages(fake, 3).at(-1)?.content, '{"result":"late ok"}');
});

Deno.test("the bot's close() closes the MCP servers and ends their processes", async () => {
  await using fake = FakeOpenAI.start();
  const bot = await mcpBot(fake, { own: ownEntry({ allowed_tools: ["whoami"] }) }, { tools: [] });
  let disposed = false;
  try {
    ok(bot.mcp, "the app has an MCP manager");
    const result = await bot.tools.call("whoami", {});
    strictEqual(result.ok, true);
    const pid: number = JSON.parse(JSON.parse(result.content).result).pid;
    ok(await processRunning(pid), "the server runs");
    await bot.dispose();
    disposed = true;
    await waitUntil("the server process to end", async () => !(await processRunning(pid)));
  } finally {
    if (!disposed) await bot.dispose();
  }
});

// ---------------------------------------------------------------------------
// Images named by path (decision 13)

/** A tool that names an image file by path, like the original's image tools did. */
function namingTool(path: () => string, key: "result" | "path" = "result"): Tool {
  return {
    source: "builtin",
    definition: {
      type: "function",
      function: { name: "show", parameters: { type: "object", properties: {} } },
    },
    call: () => Promise.resolve({ [key]: path() }),
  };
}

const PATH_CASES: Array<{
  what: string;
  key?: "result" | "path";
  /** Prepares files and returns the path the tool names. */
  setup: (bot: TestBot, outside: string) => Promise<string>;
  posted: boolean;
  /** Makes a symlink (Windows may not allow it). */
  symlink?: boolean;
}> = [
  {
    what: "a PNG in the images directory, by absolute path, is posted as bytes",
    setup: async (bot) => {
      await Deno.writeFile(join(bot.imagesDir, "cat.png"), PNG);
      return join(bot.imagesDir, "cat.png");
    },
    posted: true,
  },
  {
    what: "a PNG in the images directory, by bare file name, is posted",
    setup: async (bot) => {
      await Deno.writeFile(join(bot.imagesDir, "cat.png"), PNG);
      return "cat.png";
    },
    posted: true,
  },
  {
    what: 'a PNG in the images directory named under "path" is posted',
    key: "path",
    setup: async (bot) => {
      await Deno.writeFile(join(bot.imagesDir, "cat.png"), PNG);
      return join(bot.imagesDir, "cat.png");
    },
    posted: true,
  },
  {
    what: "a PNG outside the images directory is refused",
    setup: (_bot, outside) => Promise.resolve(outside),
    posted: false,
  },
  {
    what: "a PNG reached with ../ from the images directory is refused",
    setup: async (bot) => {
      await Deno.writeFile(join(bot.dir, "secret.png"), PNG);
      return join(bot.imagesDir, "..", "secret.png");
    },
    posted: false,
  },
  {
    what: "a relative ../ name is refused",
    setup: async (bot) => {
      await Deno.writeFile(join(bot.dir, "secret.png"), PNG);
      return "../secret.png";
    },
    posted: false,
  },
  {
    what: "a symlink in the images directory pointing outside is refused",
    setup: async (bot, outside) => {
      await Deno.symlink(outside, join(bot.imagesDir, "link.png"));
      return join(bot.imagesDir, "link.png");
    },
    posted: false,
    symlink: true,
  },
  {
    what: "a file without an image extension is ignored, even with PNG bytes",
    setup: async (bot) => {
      await Deno.writeFile(join(bot.imagesDir, "cat.txt"), PNG);
      return join(bot.imagesDir, "cat.txt");
    },
    posted: false,
  },
  {
    what: "a missing file in the images directory posts nothing",
    setup: () => Promise.resolve("nowhere.png"),
    posted: false,
  },
];

for (const c of PATH_CASES) {
  // Windows makes symlinks only with a privilege the runner may lack.
  Deno.test(`image by path: ${c.what}`, { ignore: c.symlink && !SYMLINKS }, async () => {
    const outside = await Deno.makeTempFile({ prefix: "infinigpt-outside-", suffix: ".png" });
    try {
      await Deno.writeFile(outside, PNG);
      let target = "";
      await using fake = FakeOpenAI.start();
      await using bot = await startTestBot({
        providerUrl: fake.url,
        port: { names },
        tools: [namingTool(() => target, c.key)],
      });
      await Deno.mkdir(bot.imagesDir, { recursive: true });
      target = await c.setup(bot, outside);
      await bot.say(ALICE, ".ai tool:show {}");
      const images = bot.port.events.filter((e) => e.kind === "image");
      if (c.posted) {
        strictEqual(images.length, 1);
        const [event] = images;
        ok(event.kind === "image");
        deepStrictEqual(event.image.bytes, PNG);
        strictEqual(event.image.mimetype, "image/png");
        strictEqual(event.image.name, "cat.png");
      } else {
        deepStrictEqual(images, []);
      }
      // The model still gets the tool's result and the user an answer.
      strictEqual(
        toolMessages(fake, 1)[0].content,
        JSON.stringify({ [c.key ?? "result"]: target }),
      );
      strictEqual(bot.port.visible().length, 1);
    } finally {
      await Deno.remove(outside);
    }
  });
}
