import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { modelCatalog } from "../../lib/handlers/catalog.ts";

const catalog = modelCatalog({
  models: {
    openai: ["gpt-4.1-nano", "shared"],
    ollama: ["qwen3:8b", "both"],
    lmstudio: ["qwen/qwen3-8b", "both"],
    google: ["shared"],
  },
  defaultModel: "gpt-4.1-nano",
});

Deno.test("catalog lists every model in config order, repeats kept", () => {
  deepStrictEqual(catalog.models, [
    "gpt-4.1-nano",
    "shared",
    "qwen3:8b",
    "both",
    "qwen/qwen3-8b",
    "both",
    "shared",
  ]);
  strictEqual(catalog.defaultModel, "gpt-4.1-nano");
});

const cases: Array<[model: string, has: boolean, local: string | undefined]> = [
  ["gpt-4.1-nano", true, undefined],
  ["qwen3:8b", true, "ollama"],
  ["qwen/qwen3-8b", true, "lmstudio"],
  ["both", true, "ollama"],
  ["shared", true, undefined],
  ["GPT-4.1-NANO", false, undefined],
  ["nope", false, undefined],
];

for (const [model, has, local] of cases) {
  Deno.test(`catalog: ${model} is ${has ? "" : "not "}configured, local server ${local}`, () => {
    strictEqual(catalog.has(model), has);
    strictEqual(catalog.localServer(model), local);
  });
}
