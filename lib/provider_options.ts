/**
 * Which of `llm.options` a request to a model gets (decisions 4 and 27):
 * models named by `llm.omit_options` get no sampling options, OpenAI's
 * reasoning models `max_completion_tokens` for `max_tokens`. Pure.
 *
 * @module
 */
import { globMatch } from "./glob.ts";
import type { Config } from "./config.ts";

/** The part of the config the options come from. */
type RoutingConfig = Pick<Config, "llm">;

/** True when `llm.omit_options` says this model gets no sampling options (decision 4). */
export function omitsOptions(
  model: string,
  provider: string,
  patterns: readonly string[],
): boolean {
  return patterns.some((pattern) =>
    pattern.startsWith("provider:")
      ? pattern.slice("provider:".length).toLowerCase() === provider.toLowerCase()
      : globMatch(pattern, model)
  );
}

/** OpenAI reasoning models take `max_completion_tokens` instead of `max_tokens`. */
export function isOpenAIReasoningModel(model: string): boolean {
  return /^(gpt-5|o1|o3|o4)/i.test(model);
}

// Reasoning models still need these: they steer effort and length, not sampling.
const ALWAYS_SENT = new Set(["reasoning_effort", "max_tokens", "max_completion_tokens"]);

/**
 * The `llm.options` to merge into a request for `model` (decisions 4 and 27).
 * Pure: the caller decides whether to send them.
 */
export function requestOptions(
  model: string,
  provider: string,
  config: RoutingConfig,
): Record<string, unknown> {
  const omit = omitsOptions(model, provider, config.llm.omit_options);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config.llm.options)) {
    if (value === undefined) continue;
    if (omit && !ALWAYS_SENT.has(key)) continue;
    out[key] = value;
  }
  if ("max_tokens" in out && provider === "openai" && isOpenAIReasoningModel(model)) {
    out.max_completion_tokens ??= out.max_tokens;
    delete out.max_tokens;
  }
  return out;
}
