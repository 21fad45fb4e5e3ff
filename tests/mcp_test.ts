import { deepStrictEqual, match, ok, strictEqual, throws } from "node:assert/strict";
import { sniffImageType } from "../lib/image_type.ts";
import denoJson from "../deno.json" with { type: "json" };
import { waitUntil } from "./fixtures/wait.ts";
import { fileURLToPath } from "node:url";
import { resetSync } from "@logtape/logtape";
import type { McpServerSpec } from "../lib/config.ts";
import { setupLogging } from "../lib/log.ts";
import { McpManager, type McpOptions, McpSpecError, substituteEnv } from "../lib/mcp.ts";
import { type Tool, ToolOutput, ToolRegistry } from "../lib/tools/registry.ts";
import { processRunning } from "./fixtures/platform.ts";

// ---------------------------------------------------------------------------
// Helpers: real MCP servers as child processes on 127.0.0.1

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const OWN_SERVER = fileURLToPath(new URL("./fixtures/mcp_test_server.ts", import.meta.url));
/** The reference MCP server, at the version deno.json pins. */
const EVERYTHING = denoJson.imports["@modelcontextprotocol/server-everything"];

/** Variables the child deno needs to find its cache (the MCP SDK passes only a safe set). */
function denoEnv(): Record<string, string> {
  const dir = Deno.env.get("DENO_DIR");
  return dir ? { DENO_DIR: dir } : {};
}

function stdio(
  args: string[],
  extra: Partial<Extract<McpServerSpec, { kind: "stdio" }>> = {},
): McpServerSpec {
  return {
    kind: "stdio",
    command: Deno.execPath(),
    args: ["run", "-A", "--quiet", ...args],
    cwd: ROOT,
    ...extra,
    env: { ...denoEnv(), ...extra.env },
  };
}

/** Our own SDK server over stdio. */
function own(extra: Partial<Extract<McpServerSpec, { kind: "stdio" }>> = {}): McpServerSpec {
  return stdio([OWN_SERVER], extra);
}

function http(url: string): McpServerSpec {
  return { kind: "http", url, transport: "auto" };
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** A server process listening on a port of 127.0.0.1; killed on dispose. */
class ChildServer {
  readonly port: number;
  readonly #child: Deno.ChildProcess;
  #exited = false;

  private constructor(port: number, child: Deno.ChildProcess) {
    this.port = port;
    this.#child = child;
    child.status.then(() => this.#exited = true);
  }

  /** Spawns `deno run -A <args>` and waits until the port accepts connections. */
  static async start(args: string[], port: number, env: Record<string, string> = {}) {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", ...args],
      cwd: ROOT,
      env: { ...env, ...denoEnv() },
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const server = new ChildServer(port, child);
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port });
        conn.close();
        return server;
      } catch {
        if (server.#exited || Date.now() > deadline) {
          await server.stop();
          throw new Error(`server ${args.join(" ")} did not start on port ${port}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  /** Our own server over Streamable HTTP. */
  static own(port = freePort()): Promise<ChildServer> {
    return ChildServer.start([OWN_SERVER, "--http", String(port)], port);
  }

  /** server-everything over "streamableHttp" or "sse". */
  static everything(mode: "streamableHttp" | "sse", port = freePort()): Promise<ChildServer> {
    return ChildServer.start([EVERYTHING, mode], port, { PORT: String(port) });
  }

  async stop(): Promise<void> {
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // already gone
    }
    await this.#child.status;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

/** A manager that is closed on dispose. */
function manager(
  specs: Record<string, McpServerSpec>,
  options: Partial<McpOptions> = {},
): McpManager & AsyncDisposable {
  const m = new McpManager(specs, { env: {}, connectTimeoutMs: 20_000, ...options });
  return Object.assign(m, { [Symbol.asyncDispose]: () => m.close() });
}

function find(m: McpManager, name: string): Tool {
  const tool = m.tools().find((t) => t.definition.function.name === name);
  ok(tool, `no tool ${name} in [${m.tools().map((t) => t.definition.function.name)}]`);
  return tool;
}

async function call(
  m: McpManager,
  name: string,
  args: Record<string, unknown> = {},
): Promise<ToolOutput> {
  const out = await find(m, name).call(args, { signal: new AbortController().signal });
  ok(out instanceof ToolOutput, "MCP tools return a ToolOutput");
  return out;
}

async function pidOf(m: McpManager): Promise<number> {
  const out = await call(m, "whoami");
  const { result } = JSON.parse(out.content);
  return JSON.parse(result).pid;
}

/** Runs `fn` with the log captured (debug and up). */
async function withLog<T>(fn: (lines: string[]) => Promise<T>): Promise<T> {
  const lines: string[] = [];
  setupLogging({ level: "debug", output: { write: (line) => lines.push(line) } });
  try {
    return await fn(lines);
  } finally {
    resetSync();
  }
}

// ---------------------------------------------------------------------------
// substituteEnv

const ENV = { TOKEN: "abc123", A: "1", B: "two", DOLLAR: "$&$1" };

for (
  const [what, input, expected] of [
    ["replaces ${env:NAME} with the value", "Bearer ${env:TOKEN}", "Bearer abc123"],
    ["replaces several placeholders in one string", "${env:A}-${env:B}-${env:A}", "1-two-1"],
    [
      "leaves text without placeholders unchanged",
      "plain $HOME ${HOME} ${env:}",
      "plain $HOME ${HOME} ${env:}",
    ],
    ["inserts a value with $ signs literally", "x${env:DOLLAR}y", "x$&$1y"],
    ["leaves an empty string empty", "", ""],
  ] as const
) {
  Deno.test(`substituteEnv ${what}`, () => {
    strictEqual(substituteEnv(input, ENV), expected);
  });
}

Deno.test("substituteEnv throws an McpSpecError naming a missing variable", () => {
  throws(
    () => substituteEnv("Bearer ${env:TOKEN} ${env:NOT_SET_ANYWHERE}", ENV),
    (error: unknown) => error instanceof McpSpecError && /NOT_SET_ANYWHERE/.test(error.message),
  );
});

// ---------------------------------------------------------------------------
// McpManager against @modelcontextprotocol/server-everything

const TRANSPORTS: Array<{
  name: string;
  spec: () => Promise<{ spec: McpServerSpec; server?: ChildServer }>;
}> = [
  { name: "stdio", spec: () => Promise.resolve({ spec: stdio([EVERYTHING, "stdio"]) }) },
  {
    name: "Streamable HTTP",
    spec: async () => {
      const server = await ChildServer.everything("streamableHttp");
      return { spec: http(`http://127.0.0.1:${server.port}/mcp`), server };
    },
  },
  {
    name: "SSE",
    spec: async () => {
      const server = await ChildServer.everything("sse");
      return { spec: http(`http://127.0.0.1:${server.port}/sse`), server };
    },
  },
];

for (const transport of TRANSPORTS) {
  Deno.test(`server-everything over ${transport.name}: tools are listed, converted and called`, async () => {
    const { spec, server } = await transport.spec();
    try {
      await using m = manager({ everything: spec });
      await m.start();
      const tools = m.tools();
      const names = tools.map((t) => t.definition.function.name);
      for (const name of ["echo", "get-sum", "get-tiny-image"]) {
        ok(names.includes(name), `${name} missing from [${names}]`);
      }
      for (const tool of tools) {
        strictEqual(tool.source, "mcp");
        strictEqual(tool.server, "everything");
        strictEqual(tool.definition.type, "function");
        match(tool.definition.function.name, /^[A-Za-z0-9_-]{1,64}$/);
        strictEqual(typeof tool.definition.function.description, "string");
        strictEqual(
          (tool.definition.function.parameters as { type?: string }).type,
          "object",
        );
      }
      const sum = find(m, "get-sum").definition.function;
      strictEqual(sum.description, "Returns the sum of two numbers");
      deepStrictEqual(
        Object.keys((sum.parameters as { properties: object }).properties).sort(),
        ["a", "b"],
      );

      const echo = await call(m, "echo", { message: "hi there" });
      deepStrictEqual(JSON.parse(echo.content), { result: "Echo: hi there" });
      deepStrictEqual(echo.images, []);

      const added = await call(m, "get-sum", { a: 2, b: 40 });
      match(JSON.parse(added.content).result, /\b42\b/);

      const image = await call(m, "get-tiny-image");
      strictEqual(image.images.length, 1);
      strictEqual(image.images[0].mimetype, "image/png");
      strictEqual(sniffImageType(image.images[0].bytes), "image/png");
      const content = JSON.parse(image.content);
      match(content.result, /Here's the image you requested/);
      strictEqual(content.images, "1 image(s) posted to the chat");
    } finally {
      await server?.stop();
    }
  });
}

// ---------------------------------------------------------------------------
// McpManager against our own server

Deno.test("a tool that throws gives the model a tool execution error", async () => {
  await using m = manager({ own: own() });
  await m.start();
  const out = await call(m, "fail");
  const parsed = JSON.parse(out.content);
  deepStrictEqual(Object.keys(parsed), ["error"]);
  match(parsed.error, /^Tool execution error for fail: .*boom from the tool/);
  deepStrictEqual(out.images, []);
});

Deno.test("structured content of a real server is what the model sees", async () => {
  await using m = manager({ own: own() });
  await m.start();
  const out = await call(m, "add", { a: 2, b: 3 });
  deepStrictEqual(JSON.parse(out.content), { sum: 5 });
});

Deno.test("a tool name providers reject is exposed rewritten and still calls the original", async () => {
  await using m = manager({ own: own() });
  await m.start();
  const names = m.tools().map((t) => t.definition.function.name);
  ok(!names.includes("dotted.name"), `${names}`);
  const out = await call(m, "dotted_name");
  deepStrictEqual(JSON.parse(out.content), { result: "dotted ok" });
});

Deno.test("a server that crashes mid-call gives an error for that call and is reconnected on the next", async () => {
  await using m = manager({ own: own() }, { callTimeoutMs: 20_000 });
  await m.start();
  const before = await pidOf(m);
  const crashed = await call(m, "crash");
  match(JSON.parse(crashed.content).error, /^Tool execution error for crash: /);
  const after = await pidOf(m);
  ok(after !== before, `pid ${after} should differ from ${before}`);
  const echo = await call(m, "echo", { text: "back again" });
  deepStrictEqual(JSON.parse(echo.content), { result: "back again" });
});

Deno.test("a call that hangs ends with a timeout error and the server still answers later calls", async () => {
  await using m = manager({ own: own() }, { callTimeoutMs: 500 });
  await m.start();
  const pid = await pidOf(m);
  const hung = await call(m, "hang");
  match(JSON.parse(hung.content).error, /^Tool execution error for hang: .*timed out/i);
  const echo = await call(m, "echo", { text: "still here" });
  deepStrictEqual(JSON.parse(echo.content), { result: "still here" });
  strictEqual(await pidOf(m), pid, "the same process answers: no reconnect was needed");
});

Deno.test("a server's own timeout (seconds) replaces the default call timeout for its tools", async () => {
  await using m = manager({ own: own({ timeout: 0.5 }) }, { callTimeoutMs: 30_000 });
  await m.start();
  strictEqual(find(m, "hang").timeoutMs, 500, "the registry gets the server's timeout too");
  const hung = await call(m, "hang");
  match(JSON.parse(hung.content).error, /^Tool execution error for hang: .*timed out/i);
});

Deno.test("without a server timeout the tools keep the registry's default timeout", async () => {
  await using m = manager({ own: own({ allowed_tools: ["hang"] }) }, { callTimeoutMs: 30_000 });
  await m.start();
  strictEqual(find(m, "hang").timeoutMs, undefined);
});

Deno.test("a huge MCP result is cut to the registry's result cap", async () => {
  await using m = manager({ own: own() });
  await m.start();
  const registry = new ToolRegistry(m.tools(), { maxResultChars: 100_000, timeoutMs: 30_000 });
  const result = await registry.call("huge", { size: 1_000_000 });
  strictEqual(result.ok, true);
  ok(result.content.length < 101_000, `content has ${result.content.length} characters`);
  const parsed = JSON.parse(result.content);
  strictEqual(parsed.truncated, true);
  strictEqual(parsed.result.length, 100_000);
  ok(parsed.result.startsWith('{"result":"xxxx'), parsed.result.slice(0, 20));
});

Deno.test("allowed_tools offers only the listed tools of that server", async () => {
  await using m = manager({ own: own({ allowed_tools: ["echo", "add", "not-offered"] }) });
  await m.start();
  deepStrictEqual(m.tools().map((t) => t.definition.function.name).sort(), ["add", "echo"]);
  const out = await call(m, "echo", { text: "allowed" });
  deepStrictEqual(JSON.parse(out.content), { result: "allowed" });
});

Deno.test("two servers offering the same valid name both keep it, in server order", async () => {
  await using m = manager({
    first: own({ allowed_tools: ["echo"] }),
    second: own({ allowed_tools: ["echo", "add"] }),
  });
  await m.start();
  deepStrictEqual(
    m.tools().map((t) => [t.server, t.definition.function.name]),
    [["first", "echo"], ["second", "echo"], ["second", "add"]],
  );
});

Deno.test("a disabled spec is not a server", async () => {
  await using m = manager({ off: { kind: "disabled" }, on: own({ allowed_tools: ["echo"] }) });
  deepStrictEqual(m.names, ["on"]);
  await m.start();
  deepStrictEqual(m.tools().map((t) => t.server), ["on"]);
});

Deno.test("a server whose command does not exist gives 0 tools and the others still work", async () => {
  await withLog(async (lines) => {
    // Default retry delays: close() must clear the pending retry timer.
    await using m = manager({
      missing: { kind: "stdio", command: "/nonexistent/infinigpt-mcp-server", args: [] },
      own: own({ allowed_tools: ["echo"] }),
    });
    await m.start();
    deepStrictEqual(m.tools().map((t) => [t.server, t.definition.function.name]), [
      ["own", "echo"],
    ]);
    const out = await call(m, "echo", { text: "fine" });
    deepStrictEqual(JSON.parse(out.content), { result: "fine" });
    ok(
      lines.some((l) =>
        /WARNING .*Failed to list tools from MCP server 'missing' \(\/nonexistent\/infinigpt-mcp-server\)/
          .test(l)
      ),
      lines.join("\n"),
    );
  });
});

Deno.test("start() returns after the connect timeout when a server never answers initialize", async () => {
  // Reads stdin until it closes and never writes a byte.
  const silent: McpServerSpec = {
    kind: "stdio",
    command: Deno.execPath(),
    args: ["eval", "--no-config", "for await (const _ of Deno.stdin.readable) {}"],
    env: denoEnv(),
  };
  await withLog(async (lines) => {
    await using m = manager({ silent, own: own({ allowed_tools: ["echo"] }) }, {
      connectTimeoutMs: 2_000,
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const guard = new Promise<"hung">((resolve) => {
      timer = setTimeout(() => resolve("hung"), 60_000);
    });
    const outcome = await Promise.race([m.start().then(() => "returned" as const), guard]);
    clearTimeout(timer);
    strictEqual(outcome, "returned");
    ok(
      lines.some((l) => /MCP server 'silent' is not ready after 2000 ms/.test(l)),
      lines.join("\n"),
    );
    ok(!m.tools().some((t) => t.server === "silent"));
    // The other server is not held up by the silent one.
    await waitUntil("the other server", () => m.tools().some((t) => t.server === "own"), {
      timeoutMs: 30_000,
    });
    const out = await call(m, "echo", { text: "not blocked" });
    deepStrictEqual(JSON.parse(out.content), { result: "not blocked" });
  });
});

Deno.test("a server slower than the start wait keeps connecting and joins when ready", async () => {
  let changed = 0;
  await using m = manager({ slow: stdio([OWN_SERVER, "--delay", "2000"]) }, {
    connectTimeoutMs: 300,
    callTimeoutMs: 30_000,
    retryDelaysMs: [60_000], // a retry cannot explain the join
    onToolsChanged: () => changed++,
  });
  await m.start();
  deepStrictEqual(m.tools(), [], "start() did not wait for the slow server");
  await waitUntil("the slow server's tools", () => m.tools().length > 0, { timeoutMs: 30_000 });
  ok(changed >= 1, "onToolsChanged was called");
  const out = await call(m, "echo", { text: "worth the wait" });
  deepStrictEqual(JSON.parse(out.content), { result: "worth the wait" });
});

Deno.test("a spec with a missing ${env:NAME} fails naming it and is not retried", async () => {
  await withLog(async (lines) => {
    await using m = manager({
      keyed: own({ env: { API_TOKEN: "Bearer ${env:MISSING_MCP_TOKEN}" } }),
      remote: {
        kind: "http",
        url: "http://127.0.0.1:1/mcp",
        transport: "auto",
        headers: { Authorization: "${env:MISSING_MCP_HEADER}" },
      },
    }, { retryDelaysMs: [50] });
    await m.start();
    deepStrictEqual(m.tools(), []);
    await new Promise((r) => setTimeout(r, 400));
    const failures = (server: string) =>
      lines.filter((l) => l.includes(`Failed to list tools from MCP server '${server}'`));
    strictEqual(failures("keyed").length, 1, lines.join("\n"));
    match(failures("keyed")[0], /MISSING_MCP_TOKEN/);
    strictEqual(failures("remote").length, 1, lines.join("\n"));
    match(failures("remote")[0], /MISSING_MCP_HEADER/);
    // It failed at once for good: not "not ready yet".
    ok(!lines.some((l) => /not ready after/.test(l)), lines.join("\n"));
  });
});

Deno.test("${env:NAME} in a stdio spec's env reaches the child process", async () => {
  await using m = manager(
    { own: own({ env: { MCP_GREETING: "hello ${env:WHO}!" } }) },
    { env: { WHO: "world" } },
  );
  await m.start();
  const out = await call(m, "env", { name: "MCP_GREETING" });
  deepStrictEqual(JSON.parse(JSON.parse(out.content).result), { value: "hello world!" });
});

Deno.test("the bot's own environment is not passed to a stdio child", async () => {
  Deno.env.set("INFINIGPT_MCP_TEST_SECRET", "do-not-leak");
  try {
    await using m = manager({ own: own() });
    await m.start();
    const out = await call(m, "env", { name: "INFINIGPT_MCP_TEST_SECRET" });
    deepStrictEqual(JSON.parse(JSON.parse(out.content).result), { value: null });
  } finally {
    Deno.env.delete("INFINIGPT_MCP_TEST_SECRET");
  }
});

Deno.test("close() ends the stdio child processes", async () => {
  const m = manager({
    a: own({ allowed_tools: ["whoami"] }),
    b: own({ allowed_tools: ["whoami"] }),
  });
  let closed = false;
  try {
    await m.start();
    const [a, b] = m.tools();
    const pids: number[] = [];
    for (const tool of [a, b]) {
      const out = await tool.call({}, { signal: new AbortController().signal }) as ToolOutput;
      pids.push(JSON.parse(JSON.parse(out.content).result).pid);
    }
    ok(pids[0] !== pids[1]);
    ok((await Promise.all(pids.map(processRunning))).every(Boolean), "children run before close()");
    await m.close();
    closed = true;
    await waitUntil(
      "the children to end",
      async () => !(await Promise.all(pids.map(processRunning))).some(Boolean),
    );
  } finally {
    if (!closed) await m.close();
  }
});

Deno.test("a server that fails at start is retried in the background and announced", async () => {
  const port = freePort();
  let changed = 0;
  await using m = manager({ late: http(`http://127.0.0.1:${port}/mcp`) }, {
    connectTimeoutMs: 5_000,
    retryDelaysMs: [300],
    onToolsChanged: () => changed++,
  });
  await m.start();
  deepStrictEqual(m.tools(), []);
  strictEqual(changed, 0);
  await using _server = await ChildServer.own(port);
  await waitUntil("the late server's tools", () => m.tools().length > 0, { timeoutMs: 30_000 });
  ok(changed >= 1, "onToolsChanged was called");
  const out = await call(m, "echo", { text: "late but here" });
  deepStrictEqual(JSON.parse(out.content), { result: "late but here" });
});

Deno.test("a server's tools/list_changed notification refreshes the tools and calls onToolsChanged", async () => {
  let changed = 0;
  await using m = manager({ own: own() }, { onToolsChanged: () => changed++ });
  await m.start();
  ok(!m.tools().some((t) => t.definition.function.name === "late"));
  await call(m, "add_tool");
  await waitUntil(
    "the new tool",
    () => m.tools().some((t) => t.definition.function.name === "late"),
  );
  ok(changed >= 1);
  const out = await call(m, "late");
  deepStrictEqual(JSON.parse(out.content), { result: "late ok" });
});
