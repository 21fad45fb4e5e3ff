/**
 * Loading `config.json` with precedence CLI > env > file > defaults: which
 * file, reading it, and laying `INFINIGPT_*` variables and command-line flags
 * over it before validation.
 *
 * @module
 */
import { describeFsError } from "./fs_errors.ts";
import type { Env } from "./env.ts";
import { isObject } from "./json.ts";
import { ConfigError } from "./config_errors.ts";
import { parseConfigText } from "./config_json.ts";
import { type LoadedConfig, validateConfig } from "./config_validate.ts";

/** Values from command-line flags; they win over env and file. */
export interface ConfigOverrides {
  /** `--e2e` / `--no-e2e`: `matrix.e2e`. */
  e2e?: boolean;
  /** `--model`: `llm.default_model`. */
  model?: string;
  /** `--store-path`: `matrix.store_path`. */
  storePath?: string;
  /** `--ollama-url`: `llm.ollama_url`. */
  ollamaUrl?: string;
  /** `--lmstudio-url`: `llm.lmstudio_url`. */
  lmstudioUrl?: string;
  /** `--verbose`: `llm.verbose`. */
  verbose?: boolean;
}

const ENV_OVERRIDES: ReadonlyArray<[string, string[], "string" | "flag"]> = [
  ["INFINIGPT_MODEL", ["llm", "default_model"], "string"],
  ["INFINIGPT_OLLAMA_URL", ["llm", "ollama_url"], "string"],
  ["INFINIGPT_LMSTUDIO_URL", ["llm", "lmstudio_url"], "string"],
  ["INFINIGPT_VERBOSE", ["llm", "verbose"], "flag"],
  ["INFINIGPT_STORE_PATH", ["matrix", "store_path"], "string"],
  ["INFINIGPT_MATRIX_SERVER", ["matrix", "server"], "string"],
  ["INFINIGPT_MATRIX_USERNAME", ["matrix", "username"], "string"],
  ["INFINIGPT_MATRIX_PASSWORD", ["matrix", "password"], "string"],
  ["INFINIGPT_MATRIX_ACCESS_TOKEN", ["matrix", "access_token"], "string"],
  ["INFINIGPT_E2E", ["matrix", "e2e"], "flag"],
  ["INFINIGPT_RECOVERY_KEY", ["matrix", "recovery_key"], "string"],
];

function setPath(root: Record<string, unknown>, path: string[], value: unknown): void {
  let node = root;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (next === undefined) node[key] = {};
    else if (typeof next !== "object" || next === null || Array.isArray(next)) return;
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]] = value;
}

/** Applies env overrides, then CLI overrides, to a raw parsed file (mutates it). */
export function applyOverrides(
  raw: Record<string, unknown>,
  env: Env,
  cli: ConfigOverrides = {},
): void {
  for (const [name, path] of ENV_OVERRIDES) {
    const value = env[name];
    if (value !== undefined && value !== "") setPath(raw, path, value);
  }
  const fromCli: Array<[unknown, string[]]> = [
    [cli.model, ["llm", "default_model"]],
    [cli.ollamaUrl, ["llm", "ollama_url"]],
    [cli.lmstudioUrl, ["llm", "lmstudio_url"]],
    [cli.verbose, ["llm", "verbose"]],
    [cli.storePath, ["matrix", "store_path"]],
    [cli.e2e, ["matrix", "e2e"]],
  ];
  for (const [value, path] of fromCli) if (value !== undefined) setPath(raw, path, value);
}

/** Options for {@link loadConfig}. */
export interface LoadOptions {
  /** Path given with `--config`; falls back to `INFINIGPT_CONFIG`, then `config.json`. */
  path?: string;
  /** The environment (`INFINIGPT_*` overrides, `INFINIGPT_CONFIG`). */
  env: Env;
  /** Command-line flags; they win over the environment and the file. */
  overrides?: ConfigOverrides;
}

/** Resolves which config file to read. */
export function configPath(options: Pick<LoadOptions, "path" | "env">): string {
  return options.path ?? options.env.INFINIGPT_CONFIG ?? "config.json";
}

/**
 * Reads, merges and validates the config. Throws {@link ConfigError} for a
 * missing file, invalid JSON or invalid values.
 */
export async function loadConfig(options: LoadOptions): Promise<LoadedConfig> {
  const path = configPath(options);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw new ConfigError(path, [], true);
    throw new ConfigError(path, [`(file): cannot read ${path}: ${describeFsError(error, path)}`]);
  }
  const raw = parseConfigText(text, path);
  if (isObject(raw)) {
    applyOverrides(raw, options.env, options.overrides);
  }
  return validateConfig(raw, path);
}
