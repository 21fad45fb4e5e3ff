/**
 * Which models see images (`llm.vision_models`, decision 34): globs over
 * model ids, and the default list naming the known vision families of every
 * built-in provider (docs/configuration.md shows it per provider).
 *
 * @module
 */
import { globMatch } from "./glob.ts";

/** The default `llm.vision_models`, per built-in provider. */
export const VISION_FAMILIES: Readonly<Record<string, readonly string[]>> = {
  openai: [
    "gpt-4o*",
    "chatgpt-4o*",
    "gpt-4.1*",
    "gpt-4-turbo*",
    "gpt-4-vision*",
    "gpt-5*",
    "o1",
    "o1-2*",
    "o3*",
    "o4*",
  ],
  xai: ["grok-4*", "grok-2-vision*", "grok-vision*"],
  google: ["gemini-*", "gemma-3*"],
  mistral: ["pixtral-*", "mistral-medium*", "mistral-small*", "magistral-medium*"],
  anthropic: ["claude-*"],
  // DeepSeek's API models (deepseek-chat, deepseek-reasoner) take text only.
  deepseek: [],
  qwen: ["qwen-vl*", "qwen*-vl*", "qvq*", "qwen*-omni*"],
  ollama: [
    "llava*",
    "bakllava*",
    "llama3.2-vision*",
    "llama4*",
    "gemma3*",
    "qwen2.5vl*",
    "qwen3-vl*",
    "minicpm-v*",
    "moondream*",
    "granite3.2-vision*",
    "mistral-small3.1*",
    "mistral-small3.2*",
  ],
  lmstudio: ["*llava*", "*-vl-*", "*-vl", "*vision*", "*gemma-3*", "*pixtral*"],
};

/** The default `llm.vision_models`: every family above, in provider order. */
export const DEFAULT_VISION_MODELS: readonly string[] = [
  ...new Set(Object.values(VISION_FAMILIES).flat()),
];

/** True when `model` matches one of the `llm.vision_models` globs. */
export function seesImages(model: string, patterns: readonly string[]): boolean {
  return patterns.some((pattern) => globMatch(pattern, model));
}

/** The model ids of `models` that see images, in their order, once each. */
export function visionModels(models: readonly string[], patterns: readonly string[]): string[] {
  return [...new Set(models)].filter((m) => seesImages(m, patterns));
}
