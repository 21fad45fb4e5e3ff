import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { allModels, loadConfig, validateConfig } from "../lib/config.ts";
import { type Raw, raw, valid } from "./fixtures/config_raw.ts";

const EXAMPLE = fileURLToPath(new URL("../config.example.json", import.meta.url));

Deno.test("allModels lists every model in config order", () => {
  deepStrictEqual(allModels(valid(raw()).config), ["gpt-4.1-nano", "gpt-4o", "qwen3:8b"]);
});

// ---------------------------------------------------------------------------
// The shipped example.

Deno.test("the shipped config.example.json validates without warnings", async () => {
  const { config, warnings } = await loadConfig({ path: EXAMPLE, env: {} });
  deepStrictEqual(warnings, []);
  strictEqual(config.llm.default_model, "gpt-4.1-nano");
  strictEqual(config.llm.history_size, 24);
  strictEqual(config.llm.prompt.length, 3);
  deepStrictEqual(config.matrix.admins, ["@admin:example.org"]);
  ok(Object.keys(config.llm.models).length >= 9);
});

Deno.test("every key of the shipped example is one the schema knows", async () => {
  // Guards the warning check above: a key added to the example but not to the
  // schema would show up here by name.
  const text = await Deno.readTextFile(EXAMPLE);
  const example = JSON.parse(text) as Raw;
  (example.llm as Raw).histroy = 1;
  const { warnings } = validateConfig(example);
  deepStrictEqual(warnings, ['Unknown config key "llm.histroy" is ignored']);
});
