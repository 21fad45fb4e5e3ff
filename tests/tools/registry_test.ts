import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import { resetSync } from "@logtape/logtape";
import { setupLogging } from "../../lib/log.ts";
import type { ToolDefinition } from "../../lib/providers.ts";
import {
  logArgs,
  mergeTools,
  normaliseArgs,
  normaliseResult,
  type Tool,
  ToolArgumentError,
  type ToolCallOptions,
  ToolOutput,
  ToolRegistry,
} from "../../lib/tools/registry.ts";

function definition(name: string, parameters: Record<string, unknown> = {
  type: "object",
  properties: {},
  additionalProperties: false,
}): ToolDefinition {
  return { type: "function", function: { name, description: `${name} tool`, parameters } };
}

function tool(
  name: string,
  call: (args: Record<string, unknown>, options: ToolCallOptions) => Promise<unknown>,
  extra: Partial<Tool> = {},
): Tool {
  return { definition: definition(name), source: "builtin", validate: true, call, ...extra };
}

/** Collects the lines logged while `fn` runs. */
async function captureLogs(fn: () => Promise<void>): Promise<string[]> {
  const lines: string[] = [];
  setupLogging({ level: "debug", output: { write: (line) => lines.push(line) } });
  try {
    await fn();
  } finally {
    resetSync();
  }
  return lines;
}

// --- normaliseResult (reference §5.4) ---------------------------------------

const resultCases: Array<[name: string, value: unknown, want: string]> = [
  ["an object becomes JSON", { a: 1, b: [true, null] }, '{"a":1,"b":[true,null]}'],
  ["an array becomes JSON", [1, "two"], '[1,"two"]'],
  ["non-ASCII text stays unescaped", { city: "Zürich ☀" }, '{"city":"Zürich ☀"}'],
  ["a JSON object string is passed through unchanged", '{"x": 1}', '{"x": 1}'],
  ["a JSON array string is passed through unchanged", "[1, 2]", "[1, 2]"],
  ["a JSON number string is passed through unchanged", "42", "42"],
  ["a plain string is wrapped as a result", "./images/a.png", '{"result":"./images/a.png"}'],
  ["an empty string is wrapped as a result", "", '{"result":""}'],
  ["a number becomes JSON", 4.5, "4.5"],
  ["a boolean becomes JSON", false, "false"],
  ["null becomes JSON null", null, "null"],
  ["undefined becomes a null result", undefined, '{"result":null}'],
  ["a bigint becomes its decimal string", 12n, '{"result":"12"}'],
];

for (const [name, value, want] of resultCases) {
  Deno.test(`normaliseResult: ${name}`, () => {
    strictEqual(normaliseResult(value), want);
  });
}

Deno.test("normaliseResult: a value JSON cannot serialise becomes its string form", () => {
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  strictEqual(normaliseResult(cyclic), '{"result":"[object Object]"}');
});

// --- normaliseArgs (decision 26) --------------------------------------------

const argSchema = {
  type: "object",
  properties: {
    city: { type: "string" },
    flag: { type: "boolean" },
    count: { type: "integer" },
    ratio: { type: "number" },
    tags: { type: "array", items: { type: "string" } },
  },
};

const argCases: Array<
  [name: string, input: Record<string, unknown>, want: Record<string, unknown>]
> = [
  ["a blank string counts as not given", { city: "" }, {}],
  ["a whitespace-only string counts as not given", { city: " \t\n" }, {}],
  ["a normal string is kept as is", { city: " Paris " }, { city: " Paris " }],
  ["boolean 'yes' is true", { flag: "yes" }, { flag: true }],
  ["boolean 'off' is false", { flag: "off" }, { flag: false }],
  ["boolean '1' is true", { flag: "1" }, { flag: true }],
  ["boolean '0' is false", { flag: "0" }, { flag: false }],
  ["boolean 'TRUE' is true, case-insensitively", { flag: "TRUE" }, { flag: true }],
  ["boolean 'No' is false", { flag: "No" }, { flag: false }],
  ["an unknown boolean word is left for validation", { flag: "maybe" }, { flag: "maybe" }],
  ["a real boolean is kept", { flag: true }, { flag: true }],
  ["a numeric string becomes an integer", { count: "3" }, { count: 3 }],
  ["a numeric string becomes a number", { ratio: " 0.25 " }, { ratio: 0.25 }],
  ["a non-numeric string is left for validation", { count: "three" }, { count: "three" }],
  ["a comma-separated string becomes a list", { tags: "a, b ,c" }, { tags: ["a", "b", "c"] }],
  ["a single word becomes a one-item list", { tags: "solo" }, { tags: ["solo"] }],
  ["a list is kept", { tags: ["x", "y"] }, { tags: ["x", "y"] }],
  ["an argument not in the schema is passed on unchanged", { extra: "yes" }, { extra: "yes" }],
];

for (const [name, input, want] of argCases) {
  Deno.test(`normaliseArgs: ${name}`, () => {
    deepStrictEqual(normaliseArgs(input, argSchema), want);
  });
}

// --- ToolRegistry.call ------------------------------------------------------

const citySchema = {
  type: "object",
  properties: { city: { type: "string" }, days: { type: "integer" } },
  required: ["city"],
  additionalProperties: false,
};

function cityTool(call: Tool["call"] = (args) => Promise.resolve({ got: args })): Tool {
  return { definition: definition("weather", citySchema), source: "builtin", validate: true, call };
}

Deno.test("ToolRegistry.call: an unknown tool is an error result naming it", async () => {
  const registry = new ToolRegistry([cityTool()]);
  const result = await registry.call("x", {});
  deepStrictEqual(JSON.parse(result.content), { error: "Unknown tool: x" });
  strictEqual(result.ok, false);
});

Deno.test("ToolRegistry.call: valid arguments reach the tool, normalised first", async () => {
  let seen: Record<string, unknown> | undefined;
  const registry = new ToolRegistry([cityTool((args) => {
    seen = args;
    return Promise.resolve("sunny");
  })]);
  const result = await registry.call("weather", { city: "Oslo", days: "2" });
  deepStrictEqual(seen, { city: "Oslo", days: 2 });
  deepStrictEqual(result, { content: '{"result":"sunny"}', images: [], ok: true });
});

const invalidArgCases: Array<[name: string, args: Record<string, unknown>, detail: RegExp]> = [
  ["a missing required argument", { days: 1 }, /city/],
  ["a blank required argument (counts as missing)", { city: "  " }, /city/],
  ["an argument of the wrong type", { city: 12 }, /city/],
  ["a non-numeric string for an integer", { city: "Oslo", days: "soon" }, /days/],
  ["an extra argument (additionalProperties false)", { city: "Oslo", units: "metric" }, /units/],
];

for (const [name, args, detail] of invalidArgCases) {
  Deno.test(`ToolRegistry.call rejects ${name} without calling the tool`, async () => {
    let called = false;
    const registry = new ToolRegistry([cityTool(() => {
      called = true;
      return Promise.resolve("x");
    })]);
    const result = await registry.call("weather", args);
    const error = JSON.parse(result.content).error as string;
    ok(error.startsWith("Invalid arguments for weather: "), error);
    match(error, detail);
    strictEqual(called, false);
    strictEqual(result.ok, false);
  });
}

Deno.test("ToolRegistry.call: a tool with validate unset gets its arguments unchecked", async () => {
  const registry = new ToolRegistry([{
    ...cityTool((args) => Promise.resolve(args)),
    validate: false,
  }]);
  const result = await registry.call("weather", { other: 1 });
  deepStrictEqual(JSON.parse(result.content), { other: 1 });
});

Deno.test("ToolRegistry.call: a thrown error becomes a tool execution error", async () => {
  const registry = new ToolRegistry([
    tool("boom", () => Promise.reject(new Error("disk on fire"))),
  ]);
  const result = await registry.call("boom", {});
  deepStrictEqual(JSON.parse(result.content), {
    error: "Tool execution error for boom: disk on fire",
  });
  strictEqual(result.ok, false);
});

Deno.test("ToolRegistry.call: a synchronous throw becomes a tool execution error", async () => {
  const registry = new ToolRegistry([tool("boom", () => {
    throw new Error("sync");
  })]);
  const result = await registry.call("boom", {});
  deepStrictEqual(JSON.parse(result.content), { error: "Tool execution error for boom: sync" });
});

Deno.test("ToolRegistry.call: a ToolArgumentError from the tool is reported as invalid arguments", async () => {
  const registry = new ToolRegistry([
    tool("t", () => Promise.reject(new ToolArgumentError("city must not be empty"))),
  ]);
  const result = await registry.call("t", {});
  deepStrictEqual(JSON.parse(result.content), {
    error: "Invalid arguments for t: city must not be empty",
  });
});

Deno.test("ToolRegistry.call: a tool that never resolves times out and its signal is aborted", async () => {
  let signal: AbortSignal | undefined;
  const registry = new ToolRegistry([
    tool("slow", (_args, options) => {
      signal = options.signal;
      return new Promise(() => {});
    }),
  ], { timeoutMs: 100 });
  const result = await registry.call("slow", {});
  const error = JSON.parse(result.content).error as string;
  ok(error.startsWith("Tool execution error for slow: "), error);
  match(error, /timed out/);
  strictEqual(result.ok, false);
  strictEqual(signal?.aborted, true);
});

Deno.test("ToolRegistry.call: the caller's abort signal reaches the tool", async () => {
  const controller = new AbortController();
  const registry = new ToolRegistry([
    tool("wait", (_args, { signal }) =>
      new Promise((_, reject) => {
        signal.addEventListener("abort", () => reject(new Error("stopped")), { once: true });
      })),
  ], { timeoutMs: 10_000 });
  const pending = registry.call("wait", {}, { signal: controller.signal });
  controller.abort();
  const result = await pending;
  deepStrictEqual(JSON.parse(result.content), { error: "Tool execution error for wait: stopped" });
});

Deno.test("ToolRegistry.call: a result longer than maxResultChars is cut and marked truncated", async () => {
  const registry = new ToolRegistry([tool("big", () => Promise.resolve("a".repeat(500)))], {
    maxResultChars: 100,
  });
  const result = await registry.call("big", {});
  const parsed = JSON.parse(result.content);
  strictEqual(parsed.truncated, true);
  strictEqual(parsed.result.length, 100);
  ok(result.content.length < 500);
});

Deno.test("ToolRegistry.call: a result within maxResultChars is not touched", async () => {
  const registry = new ToolRegistry([tool("small", () => Promise.resolve({ v: 1 }))], {
    maxResultChars: 100,
  });
  strictEqual((await registry.call("small", {})).content, '{"v":1}');
});

Deno.test("ToolRegistry.call: a ToolOutput passes its content and images through", async () => {
  const image = { bytes: new Uint8Array([137, 80, 78, 71]), mimetype: "image/png", name: "a.png" };
  const registry = new ToolRegistry([
    tool("draw", () => Promise.resolve(new ToolOutput("plain text, not JSON", [image]))),
  ]);
  const result = await registry.call("draw", {});
  strictEqual(result.content, "plain text, not JSON");
  deepStrictEqual(result.images, [image]);
  strictEqual(result.ok, true);
});

Deno.test("ToolRegistry.call logs `Tool (builtin): <name> args=<json>` at info", async () => {
  const registry = new ToolRegistry([cityTool()]);
  const lines = await captureLogs(async () => {
    await registry.call("weather", { city: "Zürich" });
  });
  const line = lines.find((l) => l.includes("Tool (builtin): weather"));
  ok(line, lines.join("\n"));
  match(line, /\bINFO\b/);
  ok(line.endsWith('Tool (builtin): weather args={"city":"Zürich"}'), line);
});

Deno.test("ToolRegistry.call logs MCP tools as `Tool (MCP)` with long args cut at 800 chars", async () => {
  const registry = new ToolRegistry([
    { ...tool("search", (args) => Promise.resolve(args)), source: "mcp", server: "s1" },
  ]);
  const args = { q: "x".repeat(2000) };
  const lines = await captureLogs(async () => {
    await registry.call("search", args);
  });
  const line = lines.find((l) => l.includes("Tool (MCP): search args="));
  ok(line, lines.join("\n"));
  const logged = line.slice(line.indexOf("args=") + 5);
  strictEqual(logged, JSON.stringify(args).slice(0, 800) + "…");
});

const logArgCases: Array<[name: string, args: unknown, max: number, want: string]> = [
  ["short args are logged whole", { a: 1 }, 800, '{"a":1}'],
  ["args of exactly the limit are not cut", "x".repeat(8), 10, '"xxxxxxxx"'],
  ["longer args are cut and marked", { a: "xxxxxxxxxx" }, 5, '{"a":…'],
  ["non-ASCII is kept", { city: "Köln" }, 800, '{"city":"Köln"}'],
];

for (const [name, args, max, want] of logArgCases) {
  Deno.test(`logArgs: ${name}`, () => {
    strictEqual(logArgs(args, max), want);
  });
}

// --- mergeTools (decision 11) -----------------------------------------------

function named(name: string, source: "builtin" | "mcp", server?: string): Tool {
  return { definition: definition(name), source, server, call: () => Promise.resolve(server) };
}

Deno.test("mergeTools: an MCP tool beats a built-in of the same name", () => {
  const mcp = named("get_time", "mcp", "clock");
  const builtin = named("get_time", "builtin");
  const { tools, dropped } = mergeTools([mcp], [builtin]);
  deepStrictEqual(tools, [mcp]);
  strictEqual(dropped.length, 1);
  match(dropped[0], /get_time/);
  match(dropped[0], /clock/);
});

Deno.test("mergeTools: the first MCP server beats a later one with the same tool name", () => {
  const first = named("search", "mcp", "alpha");
  const second = named("search", "mcp", "beta");
  const { tools, dropped } = mergeTools([first, second], []);
  deepStrictEqual(tools, [first]);
  strictEqual(dropped.length, 1);
  match(dropped[0], /search/);
  match(dropped[0], /beta/);
});

Deno.test("mergeTools: MCP tools come first in server order, then built-ins", () => {
  const { tools, dropped } = mergeTools(
    [named("m1", "mcp", "a"), named("m2", "mcp", "b")],
    [named("b1", "builtin"), named("m1", "builtin"), named("b2", "builtin")],
  );
  deepStrictEqual(tools.map((t) => `${t.source}:${t.definition.function.name}`), [
    "mcp:m1",
    "mcp:m2",
    "builtin:b1",
    "builtin:b2",
  ]);
  strictEqual(dropped.length, 1);
  match(dropped[0], /m1/);
});

Deno.test("mergeTools: tools without clashes drop nothing", () => {
  const { tools, dropped } = mergeTools([named("a", "mcp", "s")], [named("b", "builtin")]);
  strictEqual(tools.length, 2);
  deepStrictEqual(dropped, []);
});

Deno.test("ToolRegistry counts, names and definitions follow the merged tools", () => {
  const { tools } = mergeTools([named("m", "mcp", "s")], [named("b", "builtin")]);
  const registry = new ToolRegistry(tools);
  deepStrictEqual(registry.counts(), { mcp: 1, builtin: 1 });
  deepStrictEqual(registry.names(), ["m", "b"]);
  deepStrictEqual(registry.definitions().map((d) => d.function.name), ["m", "b"]);
  strictEqual(registry.size, 2);
});
