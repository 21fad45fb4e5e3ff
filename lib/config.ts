/**
 * `config.json`: the module the rest of the program imports. It gathers the
 * config family — the schema (`config_schema.ts`), the written-out types
 * (`config_types.ts`), loading with precedence CLI > env > file > defaults
 * (`config_load.ts`), validation (`config_validate.ts`), the JSON text
 * (`config_json.ts`) and the error list that names every problem by key path
 * (`config_errors.ts`) — and answers questions about a validated config.
 *
 * @module
 */
import type { LlmConfig } from "./config_types.ts";

export type * from "./config_types.ts";
export {
  configSchema,
  DEFAULT_OMIT_OPTIONS,
  DEFAULT_PERSONALITY,
  DEFAULT_PROMPT,
} from "./config_schema.ts";
export { ConfigError } from "./config_errors.ts";
export { jsonErrorAt, parseConfigText } from "./config_json.ts";
export { type LoadedConfig, validateConfig } from "./config_validate.ts";
export {
  applyOverrides,
  type ConfigOverrides,
  configPath,
  loadConfig,
  type LoadOptions,
} from "./config_load.ts";

/** Every model id in config order (provider insertion order, then list order). */
export function allModels(config: { llm: Pick<LlmConfig, "models"> }): string[] {
  return Object.values(config.llm.models).flat();
}
