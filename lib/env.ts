/**
 * Environment access. Every variable the bot reads is listed here, so the
 * `--allow-env` list of the start and compile tasks can be checked against it.
 *
 * @module
 */

/** Variables read by the bot itself (config overrides, keys, logging). */
export const ENV_VARS = [
  "INFINIGPT_CONFIG",
  "INFINIGPT_LOG_LEVEL",
  "INFINIGPT_MODEL",
  "INFINIGPT_STORE_PATH",
  "INFINIGPT_MATRIX_SERVER",
  "INFINIGPT_MATRIX_USERNAME",
  "INFINIGPT_MATRIX_PASSWORD",
  "INFINIGPT_MATRIX_ACCESS_TOKEN",
  "INFINIGPT_OLLAMA_URL",
  "INFINIGPT_LMSTUDIO_URL",
  "INFINIGPT_E2E",
  "INFINIGPT_VERBOSE",
  "INFINIGPT_STORE_KEY",
  "INFINIGPT_RECOVERY_KEY",
  "INFINIGPT_JOURNAL_CHECK",
  "INFINIGPT_TIMINGS",
  "OPENAI_API_KEY",
  "XAI_API_KEY",
  "GOOGLE_API_KEY",
  "GEMINI_API_KEY",
  "MISTRAL_API_KEY",
  "ANTHROPIC_API_KEY",
  "DEEPSEEK_API_KEY",
  "QWEN_API_KEY",
  "DASHSCOPE_API_KEY",
  "NO_COLOR",
] as const;

/** A source of environment variables; tests pass a plain object. */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads a variable from the process environment. Returns `undefined` when it
 * is unset, empty, or not readable under the granted `--allow-env` list
 * (names built at run time, such as `OPENROUTER_API_KEY`, may not be granted).
 */
export function readEnv(name: string): string | undefined {
  try {
    const value = Deno.env.get(name);
    return value === "" ? undefined : value;
  } catch {
    return undefined;
  }
}

/** The process environment as an {@link Env}, read lazily per name. */
export const processEnv: Env = new Proxy({}, {
  get: (_target, name) => typeof name === "string" ? readEnv(name) : undefined,
  has: (_target, name) => typeof name === "string" && readEnv(name) !== undefined,
});
