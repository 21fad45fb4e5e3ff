import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { DELETE, errorsOf, raw, valid } from "./fixtures/config_raw.ts";

Deno.test("rejects a root that is not an object", () => {
  for (const root of [[], "config", 42, null]) {
    deepStrictEqual(errorsOf(root), ["(root): must be a JSON object"]);
  }
});

Deno.test("reports every problem at once, cross-field ones included", () => {
  const errors = errorsOf(raw({
    "llm.history_size": 1,
    "llm.default_model": "gpt-9",
    "matrix.server": "ftp://matrix.test",
    "matrix.channels": ["ai"],
    "matrix.password": DELETE,
  }));
  deepStrictEqual(errors, [
    "llm.history_size: must be at least 2 (got number 1)",
    "matrix.server: must be the homeserver's URL (https://matrix.example.org) or a server name (example.org)",
    "matrix.channels[0]: must be a room alias (#room:server) or room ID (!id:server, or !id in room version 12)",
    'llm.default_model: "gpt-9" is not in any list of llm.models (available: gpt-4.1-nano, gpt-4o, qwen3:8b)',
    "matrix.password: is required (or set matrix.access_token)",
  ]);
});

Deno.test("does not modify the raw object it validates", () => {
  const input = raw();
  const before = structuredClone(input);
  valid(input);
  deepStrictEqual(input, before);
});

// ---------------------------------------------------------------------------
// Unknown keys, comments, admins, MCP forms.

Deno.test("warns about unknown keys by full path and ignores _comment keys", () => {
  const { warnings, config } = valid(raw({
    "llm.histroy_size": 50,
    "llm._comment_models": "a comment",
    "matrix.pasword": "typo",
    "matrix.verification": { accept_from: "anyone", acept: "x" },
    "tools.enabeld": false,
    "_comment": "top-level comment",
    "$schema": "./schema.json",
    "colour": "blue",
    "llm.mcp_servers": {
      web: { url: "http://127.0.0.1:9000/mcp", header: { A: "b" } },
      fs: { command: "npx", arg: ["-y"] },
    },
  }));
  deepStrictEqual(warnings, [
    'Unknown config key "llm.histroy_size" is ignored',
    'Unknown config key "llm.mcp_servers.web.header" is ignored',
    'Unknown config key "llm.mcp_servers.fs.arg" is ignored',
    'Unknown config key "matrix.pasword" is ignored',
    'Unknown config key "matrix.verification.acept" is ignored',
    'Unknown config key "tools.enabeld" is ignored',
    'Unknown config key "colour" is ignored',
  ]);
  strictEqual(config.llm.history_size, 24, "the misspelt key has no effect");
  strictEqual("histroy_size" in config.llm, false);
});

Deno.test("drops non-mxid admins with a warning that says why", () => {
  const { config, warnings } = valid(raw({
    "matrix.admins": ["@admin:matrix.test", "Alice Admin", "@ops:matrix.test"],
  }));
  deepStrictEqual(config.matrix.admins, ["@admin:matrix.test", "@ops:matrix.test"]);
  deepStrictEqual(warnings, [
    'matrix.admins entry "Alice Admin" is ignored: admins are matched by Matrix ID (@name:server) only, because anyone can copy a display name',
  ]);
});

Deno.test("uses the legacy matrix.admin string when admins is absent", async (t) => {
  await t.step("admin only", () => {
    const { config } = valid(raw({ "matrix.admin": "@boss:matrix.test" }));
    deepStrictEqual(config.matrix.admins, ["@boss:matrix.test"]);
    strictEqual("admin" in config.matrix, false);
  });
  await t.step("admins null", () => {
    const { config } = valid(raw({ "matrix.admins": null, "matrix.admin": "@boss:matrix.test" }));
    deepStrictEqual(config.matrix.admins, ["@boss:matrix.test"]);
  });
  await t.step("admins given wins", () => {
    const { config } = valid(raw({
      "matrix.admins": ["@a:matrix.test"],
      "matrix.admin": "@boss:matrix.test",
    }));
    deepStrictEqual(config.matrix.admins, ["@a:matrix.test"]);
  });
  await t.step("a legacy display name is dropped with a warning", () => {
    const { config, warnings } = valid(raw({ "matrix.admin": "Boss" }));
    deepStrictEqual(config.matrix.admins, []);
    strictEqual(warnings.length, 1);
    ok(warnings[0].startsWith('matrix.admins entry "Boss" is ignored'));
  });
});

Deno.test("merges top-level mcp_servers into llm.mcp_servers, top level winning", () => {
  const { config, warnings } = valid(raw({
    "llm.mcp_servers": { shared: "http://127.0.0.1:1/llm", only_llm: "http://127.0.0.1:2/mcp" },
    mcp_servers: { shared: "http://127.0.0.1:1/top", only_top: { command: "srv" } },
  }));
  deepStrictEqual(warnings, []);
  deepStrictEqual(config.llm.mcp_servers, {
    shared: { kind: "http", url: "http://127.0.0.1:1/top", transport: "auto" },
    only_llm: { kind: "http", url: "http://127.0.0.1:2/mcp", transport: "auto" },
    only_top: { kind: "stdio", command: "srv", args: [] },
  });
  strictEqual("mcp_servers" in config, false);
});

// ---------------------------------------------------------------------------
// Budgets and prices (decision 43).

Deno.test("llm.budget.daily_tokens: set, or the older llm.rate_limit.daily_tokens, or off", () => {
  const table: Array<[overrides: Record<string, unknown>, daily: number]> = [
    [{}, 0],
    [{ "llm.rate_limit": { daily_tokens: 500 } }, 500],
    [{ "llm.budget": { daily_tokens: 900 } }, 900],
    [{ "llm.budget": { daily_tokens: 900 }, "llm.rate_limit": { daily_tokens: 500 } }, 900],
    [{ "llm.budget": { daily_tokens: 0 }, "llm.rate_limit": { daily_tokens: 500 } }, 0],
  ];
  for (const [overrides, daily] of table) {
    const { config } = valid(raw(overrides));
    strictEqual(config.llm.budget.daily_tokens, daily, JSON.stringify(overrides));
    strictEqual(config.llm.budget.monthly_usd, 0);
  }
});

Deno.test("a daily budget under both names that differ warns that the older one is ignored", () => {
  const both = (legacy: number) =>
    valid(raw({ "llm.budget": { daily_tokens: 900 }, "llm.rate_limit": { daily_tokens: legacy } }))
      .warnings;
  deepStrictEqual(both(500), [
    "llm.rate_limit.daily_tokens (500) is ignored: llm.budget.daily_tokens (900) is set",
  ]);
  deepStrictEqual(both(900), []);
  deepStrictEqual(both(0), []);
});

Deno.test("llm.prices and llm.budget.monthly_usd are checked", () => {
  const { config } = valid(raw({
    "llm.prices": { "gpt-4*": { input: 2, output: 8 } },
    "llm.budget": { monthly_usd: 12.5 },
  }));
  deepStrictEqual(config.llm.prices, { "gpt-4*": { input: 2, output: 8 } });
  strictEqual(config.llm.budget.monthly_usd, 12.5);
  const errors = errorsOf(raw({
    "llm.prices": { "gpt-4*": { input: -1, output: 8 }, "o3": { input: 1 } },
    "llm.budget": { monthly_usd: -5, daily_tokens: 1.5 },
  }));
  deepStrictEqual(errors, [
    "llm.budget.daily_tokens: must be an integer (got number 1.5)",
    "llm.budget.monthly_usd: must be at least 0 (got number -5)",
    'llm.prices["gpt-4*"].input: must be at least 0 (got number -1)',
    "llm.prices.o3.output: is required",
  ]);
});

Deno.test("metrics and logging: defaults, level names as --log-level takes them, bad values named", () => {
  const plain = valid(raw()).config;
  deepStrictEqual([plain.metrics, plain.logging], [{}, { format: "text" }]);
  const table: [string, string][] = [["WARNING", "warning"], ["debug", "debug"], [
    "CRITICAL",
    "fatal",
  ], ["Info", "info"]];
  for (const [given, level] of table) {
    strictEqual(valid(raw({ "logging.level": given })).config.logging.level, level, given);
  }
  const set = valid(raw({ "metrics.listen": "127.0.0.1:9464", "logging.format": "json" })).config;
  deepStrictEqual([set.metrics.listen, set.logging.format], ["127.0.0.1:9464", "json"]);
  deepStrictEqual(errorsOf(raw({ "logging.level": "LOUD" })), [
    "logging.level: must be one of TRACE, DEBUG, INFO, WARNING, ERROR, CRITICAL",
  ]);
  ok(errorsOf(raw({ "logging.format": "xml" }))[0].startsWith("logging.format: "));
  deepStrictEqual(errorsOf(raw({ "metrics.listen": "9464" })), [
    'metrics.listen: must be host:port, e.g. "127.0.0.1:9464"',
  ]);
});
