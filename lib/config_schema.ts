/**
 * The zod schema of `config.json`, with the defaults of the shipped config.
 *
 * The shape is the original bot's (`llm`, `matrix`, `markdown`), so existing
 * files keep working; keys we added have defaults. The public types are
 * written out in `config_types.ts`; a compile-time check below keeps the two
 * the same.
 *
 * @module
 */
import { z } from "zod";
import { parseServerRef } from "./homeserver.ts";
import { isRoomRef, ROOM_REF_HINT } from "./room_ref.ts";
import { MXID } from "./mxid.ts";
import { DEFAULT_VISION_MODELS } from "./vision.ts";
import { parseLevel } from "./log.ts";
import { issueMessage, withoutShadowed } from "./config_errors.ts";
import type {
  BudgetConfig,
  Config,
  LlmConfig,
  LoggingConfig,
  MatrixConfig,
  McpHttpSpec,
  McpServerSpec,
  McpStdioSpec,
  MetricsConfig,
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

/** An MCP server started as a child process (`{command, args?, env?, cwd?}`). */
export const mcpStdio = z.object({
  command: z.string().trim().min(1),
  args: z.array(z.string()).default([]),
  env: stringMap.optional(),
  cwd: z.string().min(1).optional(),
  allowed_tools: allowedTools,
  timeout: z.number().positive().optional(),
});

/** An MCP server reached over HTTP (`{url, headers?, transport?}`). */
export const mcpHttp = z.object({
  url: httpUrl,
  headers: stringMap.optional(),
  transport: z.enum(["auto", "streamable-http", "http", "sse"]).default("auto"),
  allowed_tools: allowedTools,
  timeout: z.number().positive().optional(),
});

// A hand-written union: zod's own union errors ("Invalid input") do not say
// which form the user meant, so we pick the form first and report its problems.
/** An MCP server: a URL string, a stdio `{command}` or an HTTP `{url}` form, or off. */
export const mcpSpec = z.unknown().transform((value, ctx): McpServerSpec => {
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

// USD per million tokens (decision 43).
const price = z.object({ input: z.number().min(0), output: z.number().min(0) });

// `daily_tokens` stays unset here: `llm.rate_limit.daily_tokens` (the older
// name) fills it in config_validate.ts.
const budget = z.object({
  daily_tokens: z.int().min(0).optional(),
  monthly_usd: z.number().min(0).default(0),
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
  context_tokens: z.int().min(0).max(100_000_000).default(0),
  timezone: z.string().trim().min(1).refine(
    validTimeZone,
    "is not a known time zone (IANA name, e.g. Europe/Berlin)",
  )
    .default("UTC"),
  ollama_url: hostPort.default("localhost:11434"),
  lmstudio_url: hostPort.default("localhost:1234"),
  timeout: z.number().positive().max(3600).default(180),
  tool_timeout: z.number().positive().max(3600).default(60),
  max_tool_rounds: z.int().min(1).max(50).default(10),
  max_concurrency: z.int().min(1).max(256).default(8),
  verbose: flag.default(false),
  thinking: flag.default(true),
  stream: flag.default(true),
  stream_interval: z.number().min(0.2).max(60).default(1.5),
  placeholder_delay: z.number().min(0).max(60).default(0.6),
  rate_limit: rateLimit.default({ requests_per_minute: 0, daily_tokens: 0 }),
  budget: budget.default({ monthly_usd: 0 }),
  prices: z.record(z.string().trim().min(1), price).default({}),
  mcp_servers: z.record(z.string().min(1), mcpSpec).default({}),
  vision_models: z.array(z.string().trim().min(1)).default([...DEFAULT_VISION_MODELS]),
  max_images: z.int().min(0).max(100).default(4),
  max_image_bytes: z.int().min(1).max(100_000_000).default(10_000_000),
  max_file_bytes: z.int().min(1).max(10_000_000).default(200_000),
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
  answer: z.object({
    dm: flag.default(true),
    replies: flag.default(true),
    mentions: flag.default(true),
    threads: flag.default(true),
  }).default({ dm: true, replies: true, mentions: true, threads: true }),
  recovery_key: z.string().trim().min(1).nullish(),
  recovery_key_file: z.string().min(1).nullish(),
  recovery_reset: flag.default(false),
  decrypt_wait_seconds: z.int().min(1).max(3600).default(30),
});

/** True when `Intl` knows the IANA time zone `name` (`llm.timezone`). */
function validTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

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

// `metrics.listen` is checked as host:port here; metrics_server.ts parses it the same way.
const listen = z.string().trim().regex(
  /^(\[[0-9a-fA-F:.]+\]|[^:\s\[\]]*):\d{1,5}$/,
  'must be host:port, e.g. "127.0.0.1:9464"',
);

const metrics = z.object({
  listen: listen.nullish(),
});

const logging = z.object({
  format: z.enum(["text", "json"]).default("text"),
  // The names --log-level takes (INFO, WARNING, CRITICAL, …), in any case.
  level: z.preprocess(
    (value) => typeof value === "string" ? parseLevel(value) ?? value : value,
    z.enum(["trace", "debug", "info", "warning", "error", "fatal"], {
      error: "must be one of TRACE, DEBUG, INFO, WARNING, ERROR, CRITICAL",
    }).nullish(),
  ),
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
  metrics: metrics.default({}),
  logging: logging.default({ format: "text" }),
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
  Same<Omit<Parsed["llm"], "mcp_servers" | "budget">, Omit<LlmConfig, "mcp_servers" | "budget">>,
  Same<Parsed["llm"]["budget"], Omit<BudgetConfig, "daily_tokens"> & { daily_tokens?: number }>,
  Same<Omit<Parsed["matrix"], "admins" | "admin">, Omit<MatrixConfig, "admins">>,
  Same<Parsed["tools"], ToolsConfig>,
  Same<Exclude<keyof Parsed, "mcp_servers">, keyof Config>,
  Same<Parsed["markdown"], Config["markdown"]>,
  Same<Parsed["metrics"], MetricsConfig>,
  Same<Parsed["logging"], LoggingConfig>,
] = [true, true, true, true, true, true, true, true, true, true];
