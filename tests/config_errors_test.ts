import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { ConfigError, formatPath, truncate } from "../lib/config_errors.ts";

Deno.test("a ConfigError message lists one '- ' line per problem", () => {
  const error = new ConfigError("c.json", ["a: x", "b: y"]);
  strictEqual(error.message, "Configuration errors:\n- a: x\n- b: y");
  strictEqual(error.path, "c.json");
  strictEqual(new ConfigError("c.json", [], true).message, "Config file not found: c.json");
});

Deno.test("a ConfigError keeps every problem on one line, control characters escaped", () => {
  const error = new ConfigError("c.json", ['llm.models["a\nb"]: must be a string']);
  deepStrictEqual(error.errors, ['llm.models["a\\nb"]: must be a string']);
  strictEqual(error.message.split("\n").length, 2);
});

Deno.test("formatPath writes key paths as the operator types them", () => {
  strictEqual(formatPath([]), "(root)");
  strictEqual(formatPath(["llm", "models", "openai", 1]), "llm.models.openai[1]");
  strictEqual(formatPath(["matrix", "store_path"]), "matrix.store_path");
  strictEqual(formatPath(["llm", "api_keys", "my key"]), 'llm.api_keys["my key"]');
  strictEqual(formatPath([0]), "[0]");
});

Deno.test("truncate cuts long text with an ellipsis and leaves short text alone", () => {
  strictEqual(truncate("abcdef", 3), "abc…");
  strictEqual(truncate("abc", 3), "abc");
});
