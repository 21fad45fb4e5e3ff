/**
 * The built-in tools: their definitions from `schema.json` joined with their
 * implementations. A definition without an implementation is not offered.
 *
 * @module
 */
import schema from "../../schema.json" with { type: "json" };
import type { ToolDefinition } from "../providers.ts";
import { calculateExpression } from "./calculator.ts";
import { cryptoPrices } from "./crypto_prices.ts";
import { fetchUrl } from "./fetch_url.ts";
import { geminiImage, grokImage, openaiImage } from "./images.ts";
import type { BuiltinImplementation, BuiltinOptions } from "./options.ts";
import type { Tool } from "./registry.ts";
import { openaiSearch } from "./search.ts";
import { textStats } from "./text_stats.ts";
import { getTime } from "./time.ts";
import { getWeather } from "./weather.ts";

export type { BuiltinImplementation, BuiltinOptions } from "./options.ts";

const IMPLEMENTATIONS: Record<string, BuiltinImplementation> = {
  calculate_expression: { run: (args) => Promise.resolve(calculateExpression(args.expression)) },
  get_weather: getWeather,
  get_time: getTime,
  text_stats: textStats,
  fetch_url: fetchUrl,
  crypto_prices: cryptoPrices,
  openai_image: openaiImage,
  grok_image: grokImage,
  gemini_image: geminiImage,
  openai_search: openaiSearch,
};

/** The definitions in `schema.json`. */
export const BUILTIN_DEFINITIONS = schema as unknown as ToolDefinition[];

/** The built-in tools with implementations, bound to `options`. */
export function builtinTools(options: BuiltinOptions = {}): Tool[] {
  return BUILTIN_DEFINITIONS.flatMap((definition) => {
    const impl = IMPLEMENTATIONS[definition.function.name];
    if (!impl) return [];
    return [{
      definition,
      source: "builtin" as const,
      validate: true,
      timeoutMs: impl.timeoutMs,
      call: (args, call) => impl.run(args, call, options),
    }];
  });
}
