import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { BUILTIN_PROVIDERS } from "../lib/providers.ts";
import { DEFAULT_VISION_MODELS, seesImages, VISION_FAMILIES, visionModels } from "../lib/vision.ts";
import { testConfig } from "./fixtures/harness.ts";

/**
 * Model ids as each provider lists them (their model pages and `/models`
 * answers, 2025–2026), with whether they take images.
 */
const PROVIDER_LISTS: Record<string, Array<[string, boolean]>> = {
  openai: [
    ["gpt-4o", true],
    ["gpt-4o-mini", true],
    ["chatgpt-4o-latest", true],
    ["gpt-4.1", true],
    ["gpt-4.1-nano", true],
    ["gpt-4-turbo", true],
    ["gpt-5", true],
    ["gpt-5-mini", true],
    ["o1", true],
    ["o3", true],
    ["o4-mini", true],
    ["o1-mini", false],
    ["o3-mini", true],
    ["gpt-3.5-turbo", false],
    ["gpt-4", false],
  ],
  xai: [["grok-4", true], ["grok-4-fast-reasoning", true], ["grok-2-vision-1212", true], [
    "grok-3",
    false,
  ], ["grok-3-mini", false]],
  google: [["gemini-2.5-pro", true], ["gemini-2.5-flash", true], ["gemini-2.0-flash-lite", true], [
    "gemma-3-27b-it",
    true,
  ]],
  mistral: [
    ["pixtral-large-latest", true],
    ["pixtral-12b-2409", true],
    ["mistral-medium-latest", true],
    ["mistral-small-latest", true],
    ["mistral-large-latest", false],
    ["codestral-latest", false],
    ["open-mistral-nemo", false],
  ],
  anthropic: [["claude-sonnet-4-5", true], ["claude-opus-4-1", true], [
    "claude-3-5-haiku-latest",
    true,
  ]],
  deepseek: [["deepseek-chat", false], ["deepseek-reasoner", false]],
  qwen: [
    ["qwen-vl-max", true],
    ["qwen2.5-vl-72b-instruct", true],
    ["qwen3-vl-plus", true],
    ["qvq-max", true],
    ["qwen-omni-turbo", true],
    ["qwen-max", false],
    ["qwen-plus", false],
    ["qwen3-coder-plus", false],
  ],
  ollama: [
    ["llava:13b", true],
    ["llama3.2-vision", true],
    ["gemma3:12b", true],
    ["qwen2.5vl:7b", true],
    ["minicpm-v", true],
    ["moondream", true],
    ["llama3.2", false],
    ["qwen3:8b", false],
    ["deepseek-r1:14b", false],
  ],
  lmstudio: [
    ["llava-v1.5-7b", true],
    ["qwen2.5-vl-7b-instruct", true],
    ["google/gemma-3-12b", true],
    ["mistralai/pixtral-12b", true],
    ["meta-llama-3.1-8b-instruct", false],
    ["qwen3-8b", false],
  ],
};

for (const [provider, list] of Object.entries(PROVIDER_LISTS)) {
  Deno.test(`the default vision_models knows the vision families of ${provider}`, () => {
    for (const [model, sees] of list) {
      strictEqual(seesImages(model, DEFAULT_VISION_MODELS), sees, model);
    }
  });
}

Deno.test("every built-in provider has a documented family list", () => {
  deepStrictEqual(Object.keys(VISION_FAMILIES), BUILTIN_PROVIDERS.map((p) => p.name));
});

Deno.test("llm.vision_models defaults to the family list and can be replaced", () => {
  deepStrictEqual(testConfig("http://127.0.0.1:1").llm.vision_models, DEFAULT_VISION_MODELS);
  const config = testConfig("http://127.0.0.1:1", { llm: { vision_models: ["my-vlm*"] } });
  deepStrictEqual(config.llm.vision_models, ["my-vlm*"]);
  strictEqual(config.llm.max_images, 4);
  strictEqual(config.llm.max_image_bytes, 10_000_000);
  strictEqual(config.llm.max_file_bytes, 200_000);
});

Deno.test("visionModels lists the configured ids that match, once, in order", () => {
  deepStrictEqual(
    visionModels(["gpt-4.1", "deepseek-chat", "claude-x", "gpt-4.1"], DEFAULT_VISION_MODELS),
    ["gpt-4.1", "claude-x"],
  );
  ok(!seesImages("gpt-4.1", []));
});
