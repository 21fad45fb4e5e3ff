/**
 * `config.json`: the zod schema, loading with precedence CLI > env > file >
 * defaults, and an error list that names every problem by key path.
 *
 * The shape is the original bot's (`llm`, `matrix`, `markdown`), so existing
 * files keep working; keys we added have defaults.
 *
 * @module
 */
import { describeFsError } from "./fs_errors.ts";
import { parseServerRef } from "./homeserver.ts";
import { z } from "zod";
import type { Env } from "./env.ts";
import { isRoomRef, ROOM_REF_HINT } from "./room_ref.ts";
import { isObject } from "./json.ts";
import { isMxid, MXID } from "./mxid.ts";
import type {
  Config,
  LlmConfig,
  MatrixConfig,
  McpHttpSpec,
  McpServerSpec,
  McpStdioSpec,
  ToolsConfig,
} from "./config_types.ts";

export type {
  Config,
  LlmConfig,
  MatrixConfig,
  McpHttpSpec,
  McpServerSpec,
  McpStdioSpec,
  ModelOptions,
  RateLimitConfig,
  ToolEndpoints,
  ToolsConfig,
} from "./config_types.ts";

/** Default persona of the shipped config. */
export const DEFAULT_PERSONALITY = "an AI that can assume any personality, named InfiniGPT";

/** Default prompt: prefix, suffix, brevity clause (dropped while verbose is on). */
export const DEFAULT_PROMPT: readonly string[] = [
  "assume the personality of ",
  ".  roleplay as them and never break character unless asked to.  stay in character when asked about yourself.",
  "  keep your responses relatively short.",
];

/** Models that get no `llm.options` unless `llm.omit_options` says otherwise. */
export const DEFAULT_OMIT_OPTIONS: readonly string[] = [
  "provider:google",
  "gpt-5*",
  "o1*",
  "o3*",
  "o4*",
  "grok-4*",
];

// Old configs carry booleans as 0/1 or "true"/"false" (the reference used truthiness).
const flag = z.preprocess((value) => {
  if (typeof value === "number" && (value === 0 || value === 1)) return value === 1;
  if (typeof value === "string") {
    const v = value.trim().toLowerCase();
    if (["true", "1", "yes", "on"].includes(v)) return true;
    if (["false", "0", "no", "off", ""].includes(v)) return false;
  }
  return value;
}, z.boolean());

const httpUrl = z.string().trim().refine((value) => {
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}, "must be an http:// or https:// URL");

// The homeserver's URL, or a server name found through .well-known (decision 33).
const homeserver = z.string().trim().refine(
  (value) => parseServerRef(value) !== undefined,
  "must be the homeserver's URL (https://matrix.example.org) or a server name (example.org)",
);

const mxid = z.string().regex(MXID, "must be a full Matrix user ID like @name:server");
const roomRef = z.string().refine(isRoomRef, ROOM_REF_HINT);

// `host:port` as the reference wants, or a full URL, which we also accept.
const hostPort = z.string().trim().min(1, { abort: true }).regex(
  /^\S+$/,
  "must be host:port without spaces",
);

const stringMap = z.record(z.string(), z.string());

const options = z.looseObject({
  temperature: z.number().min(0).max(2).optional(),
  top_p: z.number().gt(0).max(1).optional(),
  frequency_penalty: z.number().min(-2).max(2).optional(),
  presence_penalty: z.number().min(-2).max(2).optional(),
  repeat_penalty: z.number().min(0.5).max(2).optional(),
  max_tokens: z.int().positive().optional(),
  max_completion_tokens: z.int().positive().optional(),
  seed: z.int().optional(),
  reasoning_effort: z.enum(["none", "minimal", "low", "medium", "high", "xhigh"]).optional(),
});

const allowedTools = z.array(z.string().min(1)).optional();

const mcpStdio = z.object({
  command: z.string().trim().min(1),
  args: z.array(z.string()).default([]),
  env: stringMap.optional(),
  cwd: z.string().min(1).optional(),
  allowed_tools: allowedTools,
  timeout: z.number().positive().optional(),
});

const mcpHttp = z.object({
  url: httpUrl,
  headers: stringMap.optional(),
  transport: z.enum(["auto", "streamable-http", "http", "sse"]).default("auto"),
  allowed_tools: allowedTools,
  timeout: z.number().positive().optional(),
});

// A hand-written union: zod's own union errors ("Invalid input") do not say
// which form the user meant, so we pick the form first and report its problems.
const mcpSpec = z.unknown().transform((value, ctx): McpServerSpec => {
  if (value === null || value === false || value === "" || value === undefined) {
    return { kind: "disabled" };
  }
  const pick = <T extends z.ZodType>(schema: T, input: unknown): z.output<T> | undefined => {
    const result = schema.safeParse(input, { error: issueMessage });
    if (result.success) return result.data;
    for (const issue of withoutShadowed(result.error.issues)) {
      ctx.addIssue({ code: "custom", message: issue.message, path: issue.path as PropertyKey[] });
    }
    return undefined;
  };
  if (typeof value === "string") {
    const url = pick(httpUrl, value);
    return url ? { kind: "http", url, transport: "auto" } : { kind: "disabled" };
  }
  if (typeof value !== "object" || Array.isArray(value)) {
    ctx.addIssue({
      code: "custom",
      message: "must be a URL string, {command, args?, env?, cwd?} or {url, headers?, transport?}",
    });
    return { kind: "disabled" };
  }
  if ("command" in value) {
    const spec = pick(mcpStdio, value);
    return spec ? { kind: "stdio", ...spec } : { kind: "disabled" };
  }
  if ("url" in value) {
    const spec = pick(mcpHttp, value);
    return spec ? { kind: "http", ...spec } : { kind: "disabled" };
  }
  ctx.addIssue({ code: "custom", message: 'needs either "command" (stdio) or "url" (HTTP)' });
  return { kind: "disabled" };
});

const rateLimit = z.object({
  requests_per_minute: z.int().min(0).default(0),
  daily_tokens: z.int().min(0).default(0),
});

const llm = z.object({
  models: z.record(z.string().min(1), z.array(z.string().trim().min(1))),
  api_keys: stringMap.default({}),
  base_urls: z.record(z.string(), httpUrl).default({}),
  default_model: z.string().trim().min(1),
  personality: z.string().default(DEFAULT_PERSONALITY),
  prompt: z.array(z.string()).min(1, "needs 1 to 3 strings").max(3, "needs 1 to 3 strings")
    .default([...DEFAULT_PROMPT]),
  options: options.default({}),
  omit_options: z.array(z.string().min(1)).default([...DEFAULT_OMIT_OPTIONS]),
  history_size: z.int().min(2).max(1000).default(24),
  ollama_url: hostPort.default("localhost:11434"),
  lmstudio_url: hostPort.default("localhost:1234"),
  timeout: z.number().positive().max(3600).default(180),
  tool_timeout: z.number().positive().max(3600).default(60),
  max_tool_rounds: z.int().min(1).max(50).default(10),
  max_concurrency: z.int().min(1).max(256).default(8),
  verbose: flag.default(false),
  thinking: flag.default(true),
  rate_limit: rateLimit.default({ requests_per_minute: 0, daily_tokens: 0 }),
  mcp_servers: z.record(z.string().min(1), mcpSpec).default({}),
});

const matrix = z.object({
  server: homeserver,
  username: mxid,
  password: z.string().optional(),
  access_token: z.string().nullish(),
  channels: z.array(roomRef).default([]),
  admins: z.array(z.string()).nullish(),
  admin: z.string().nullish(),
  device_id: z.string().default(""),
  device_name: z.string().min(1).default("infinigpt"),
  store_path: z.string().trim().min(1).default("store"),
  store_key_file: z.string().min(1).nullish(),
  e2e: flag.default(true),
  allowed_rooms: z.array(roomRef).nullish(),
  allowed_users: z.array(mxid).nullish(),
  catch_up_seconds: z.int().min(0).default(600),
  verification: z.object({
    accept_from: z.enum(["anyone", "admins", "nobody"]).default("anyone"),
  }).default({ accept_from: "anyone" }),
});

const tools = z.object({
  enabled: flag.default(true),
  allow_private_urls: flag.default(false),
  images_dir: z.string().min(1).nullish(),
  fetch_max_bytes: z.int().positive().max(50_000_000).default(2_000_000),
  endpoints: z.object({
    geocoding: httpUrl.optional(),
    forecast: httpUrl.optional(),
    coinbase: httpUrl.optional(),
    openai: httpUrl.optional(),
    xai: httpUrl.optional(),
    gemini: httpUrl.optional(),
  }).default({}),
  result_max_chars: z.int().min(1000).max(10_000_000).default(100_000),
});

/** The schema of `config.json` as read from disk (before post-processing). */
export const configSchema = z.object({
  llm,
  matrix,
  markdown: flag.default(true),
  tools: tools.default({
    enabled: true,
    allow_private_urls: false,
    fetch_max_bytes: 2_000_000,
    result_max_chars: 100_000,
    endpoints: {},
  }),
  // ollamarama-matrix kept mcp_servers at the top level; it still works there.
  mcp_servers: z.record(z.string().min(1), mcpSpec).optional(),
});

type Parsed = z.output<typeof configSchema>;

// The public types (config_types.ts) are written out; the schema must
// produce exactly them. A key added on one side only fails type checking.
type Same<A, B> = [A] extends [B] ? [B] extends [A] ? true : false : false;
const _schemaMatchesTypes: [
  Same<z.output<typeof mcpStdio>, McpStdioSpec>,
  Same<z.output<typeof mcpHttp>, McpHttpSpec>,
  Same<Omit<Parsed["llm"], "mcp_servers">, Omit<LlmConfig, "mcp_servers">>,
  Same<Omit<Parsed["matrix"], "admins" | "admin">, Omit<MatrixConfig, "admins">>,
  Same<Parsed["tools"], ToolsConfig>,
  Same<Exclude<keyof Parsed, "mcp_servers">, keyof Config>,
  Same<Parsed["markdown"], Config["markdown"]>,
] = [true, true, true, true, true, true, true];

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

/** A config that cannot be used; `message` is what the operator sees. */
export class ConfigError extends Error {
  /** Every problem found, one line each (`key: what is wrong`). */
  readonly errors: readonly string[];
  /** The config file. */
  readonly path: string;
  /** The problems of the file at `path`; `notFound` when there is no such file. */
  constructor(path: string, errors: readonly string[], notFound = false) {
    super(
      notFound
        ? `Config file not found: ${path}`
        : `Configuration errors:\n${errors.map((e) => `- ${oneLine(e)}`).join("\n")}`,
    );
    this.name = "ConfigError";
    this.path = path;
    this.errors = errors.map(oneLine);
  }
}

/** A loaded config and the warnings worth showing the operator. */
export interface LoadedConfig {
  /** The validated config, environment and flags applied. */
  config: Config;
  /** What the operator should know but does not stop the bot (unknown keys, ignored admins). */
  warnings: string[];
  /** The file it was read from. */
  path: string;
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

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  if (typeof value === "string") return `string ${JSON.stringify(truncate(value, 40))}`;
  return `${typeof value} ${String(value)}`;
}

function truncate(text: string, max: number): string {
  return text.length > max ? text.slice(0, max) + "…" : text;
}

const EXPECTED: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "an integer",
  boolean: "true or false",
  object: "an object",
  array: "an array",
  record: "an object",
};

// zod's defaults ("Invalid input: expected string, received number") are
// written for developers; operators get "is required" / "must be a string".
function issueMessage(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code === "invalid_type") {
    if (issue.input === undefined) return "is required";
    const expected = EXPECTED[issue.expected as string] ?? String(issue.expected);
    return `must be ${expected} (got ${describe(issue.input)})`;
  }
  if (issue.code === "too_small" && issue.origin === "string" && issue.minimum === 1) {
    return "must not be empty";
  }
  if (issue.code === "invalid_value") {
    return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
  }
  if (issue.code === "too_small" || issue.code === "too_big") {
    const bound = issue.code === "too_small" ? issue.minimum : issue.maximum;
    const word = issue.code === "too_small"
      ? (issue.inclusive === false ? "greater than" : "at least")
      : (issue.inclusive === false ? "less than" : "at most");
    if (issue.origin === "array") return undefined;
    return `must be ${word} ${String(bound)} (got ${describe(issue.input)})`;
  }
  return undefined;
}

// zod still runs length checks on a value of the wrong type (a string given
// for an array, an array for a string); the type error alone says what is wrong.
function withoutShadowed(issues: z.core.$ZodIssue[]): z.core.$ZodIssue[] {
  const wrongType = new Set(
    issues.filter((i) => i.code === "invalid_type").map((i) => formatPath(i.path)),
  );
  return issues.filter((i) => i.code === "invalid_type" || !wrongType.has(formatPath(i.path)));
}

function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.map((p, i) => {
    if (typeof p === "number") return `[${p}]`;
    const key = String(p);
    // Keys with odd characters (even newlines) are shown quoted, on one line.
    if (!/^[\w$-]+$/.test(key)) return `[${JSON.stringify(key)}]`;
    return i === 0 ? key : `.${key}`;
  }).join("") || "(root)";
}

/** One line: control characters (newlines too) escaped as in JSON. */
function oneLine(text: string): string {
  // deno-lint-ignore no-control-regex -- control characters are what is escaped
  return text.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => JSON.stringify(c).slice(1, -1));
}

/**
 * Where the first JSON syntax error is (1-based line and column), by a small
 * scanner; `undefined` when the text parses.
 */
export function jsonErrorAt(text: string): { line: number; column: number } | undefined {
  let i = 0;
  const fail = (): never => {
    throw i;
  };
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i])) i++;
  };
  const literal = (word: string) => {
    if (text.startsWith(word, i)) i += word.length;
    else fail();
  };
  const string = () => {
    i++; // opening quote
    while (i < text.length) {
      const c = text[i];
      if (c === '"') return void i++;
      if (c < " ") fail();
      if (c === "\\") {
        i++;
        if (text[i] === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail();
          i += 5;
        } else if ('"\\/bfnrt'.includes(text[i] ?? "")) i++;
        else fail();
      } else i++;
    }
    fail();
  };
  const number = () => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!m) fail();
    i += m![0].length;
  };
  const value = (depth: number): void => {
    if (depth > 512) fail();
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      ws();
      if (text[i] === "}") return void i++;
      for (;;) {
        ws();
        if (text[i] !== '"') fail();
        string();
        ws();
        if (text[i] !== ":") fail();
        i++;
        value(depth + 1);
        ws();
        if (text[i] === ",") i++;
        else if (text[i] === "}") return void i++;
        else fail();
      }
    }
    if (c === "[") {
      i++;
      ws();
      if (text[i] === "]") return void i++;
      for (;;) {
        value(depth + 1);
        ws();
        if (text[i] === ",") i++;
        else if (text[i] === "]") return void i++;
        else fail();
      }
    }
    if (c === '"') return string();
    if (c === "t") return literal("true");
    if (c === "f") return literal("false");
    if (c === "n") return literal("null");
    if (c === "-" || (c >= "0" && c <= "9")) return number();
    fail();
  };
  try {
    value(0);
    ws();
    if (i < text.length) fail();
    return undefined;
  } catch (at) {
    if (typeof at !== "number") throw at;
    const before = text.slice(0, at);
    const line = before.split("\n").length;
    return { line, column: at - before.lastIndexOf("\n") };
  }
}

// Unknown keys are warnings, not errors, so that a typo is visible without
// refusing configs written for other versions.
function unknownKeys(schema: z.ZodType, value: unknown, path: string[], out: string[]): void {
  if (schema === mcpSpec) {
    // The hand-written union: check the keys of the form that was picked.
    if (!isObject(value)) return;
    const form = "command" in value ? mcpStdio : "url" in value ? mcpHttp : undefined;
    if (form) unknownKeys(form, value, path, out);
    return;
  }
  let node = schema;
  for (;;) {
    const def = node.def as { type: string; innerType?: z.ZodType; in?: z.ZodType };
    if (def.type === "optional" || def.type === "default" || def.type === "nullable") {
      node = def.innerType!;
    } else if (def.type === "pipe" && def.in) node = def.in;
    else break;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return;
  const def = node.def as { type: string; catchall?: z.ZodType; valueType?: z.ZodType };
  if (def.type === "record" && def.valueType) {
    for (const [key, child] of Object.entries(value)) {
      unknownKeys(def.valueType, child, [...path, key], out);
    }
    return;
  }
  if (def.type !== "object" || def.catchall) return;
  const shape = (node as z.ZodObject).shape as Record<string, z.ZodType>;
  for (const [key, child] of Object.entries(value)) {
    if (key.startsWith("_") || key.startsWith("$")) continue; // comment keys
    if (!(key in shape)) out.push([...path, key].join("."));
    else unknownKeys(shape[key], child, [...path, key], out);
  }
}

// Checks across keys, run on the raw input so they are reported together
// with type errors elsewhere (every problem at once, not the first).
function crossChecks(raw: Record<string, unknown>): string[] {
  const errors: string[] = [];
  const llm = isObject(raw.llm) ? raw.llm : undefined;
  const models = llm && isObject(llm.models) ? llm.models : undefined;
  // A list that is not an array is reported by the schema; "not in any list"
  // would only add a misleading second error for the same mistake.
  const listsValid = models && Object.values(models).every(Array.isArray);
  if (models && listsValid && typeof llm?.default_model === "string" && llm.default_model.trim()) {
    const all = Object.values(models).flatMap((list) =>
      Array.isArray(list) ? list.filter((m): m is string => typeof m === "string") : []
    );
    const wanted = llm.default_model.trim();
    if (!all.map((m) => m.trim()).includes(wanted)) {
      errors.push(
        `llm.default_model: "${wanted}" is not in any list of llm.models` +
          (all.length
            ? ` (available: ${truncate(all.join(", "), 200)})`
            : " (llm.models is empty)"),
      );
    }
  }
  const matrix = isObject(raw.matrix) ? raw.matrix : undefined;
  if (matrix && !matrix.password && !matrix.access_token) {
    errors.push("matrix.password: is required (or set matrix.access_token)");
  }
  return errors;
}

/**
 * Validates a raw config object (already merged with overrides).
 * Throws {@link ConfigError} listing every problem.
 */
export function validateConfig(raw: unknown, path = "config.json"): LoadedConfig {
  if (!isObject(raw)) {
    throw new ConfigError(path, ["(root): must be a JSON object"]);
  }
  const result = configSchema.safeParse(raw, { error: issueMessage });
  const issues = result.success ? [] : withoutShadowed(result.error.issues);
  const errors = [
    ...issues.map((i) => `${formatPath(i.path)}: ${i.message}`),
    ...crossChecks(raw as Record<string, unknown>),
  ];
  if (errors.length || !result.success) throw new ConfigError(path, [...new Set(errors)]);
  const parsed = result.data;

  const warnings: string[] = [];
  const unknown: string[] = [];
  unknownKeys(configSchema, raw, [], unknown);
  for (const key of unknown) warnings.push(`Unknown config key "${key}" is ignored`);

  const { admins: adminList, admin, ...matrixRest } = parsed.matrix;
  const entries = adminList ?? (admin ? [admin] : []);
  const admins: string[] = [];
  for (const entry of entries) {
    if (isMxid(entry)) admins.push(entry);
    else {
      warnings.push(
        `matrix.admins entry "${entry}" is ignored: admins are matched by Matrix ID ` +
          `(@name:server) only, because anyone can copy a display name`,
      );
    }
  }

  const { mcp_servers: topLevelMcp, ...rest } = parsed;
  const config: Config = {
    ...rest,
    llm: { ...parsed.llm, mcp_servers: { ...parsed.llm.mcp_servers, ...topLevelMcp } },
    matrix: { ...matrixRest, admins },
  };
  return { config, warnings, path };
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

/**
 * Parses the text of a config file. A syntax error is reported by line and
 * column only: V8's own message quotes the text around it (maybe a password).
 */
export function parseConfigText(text: string, path = "config.json"): unknown {
  const clean = text.replace(/^\uFEFF/, ""); // editors on Windows add a byte-order mark
  try {
    return JSON.parse(clean);
  } catch {
    const at = jsonErrorAt(clean);
    throw new ConfigError(path, [
      at
        ? `(file): not valid JSON at line ${at.line}, column ${at.column}`
        : "(file): not valid JSON",
    ]);
  }
}

/** Every model id in config order (provider insertion order, then list order). */
export function allModels(config: Pick<Config, "llm">): string[] {
  return Object.values(config.llm.models).flat();
}
