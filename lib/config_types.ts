/**
 * The shape of a validated configuration, written out (not inferred from the
 * zod schema in `config_schema.ts`) so that it is a readable, documented public
 * type. `config_schema.ts` checks at compile time that the schema produces exactly
 * this shape. Every key is explained in docs/configuration.md.
 *
 * @module
 */

/** The validated configuration the bot runs with. */
export interface Config {
  /** Models, providers, prompts, limits and MCP servers. */
  llm: LlmConfig;
  /** The Matrix account, rooms, admins and the store. */
  matrix: MatrixConfig;
  /** Send replies with rendered HTML (`false`: the plain Markdown text only). */
  markdown: boolean;
  /** The built-in tools. */
  tools: ToolsConfig;
  /** The health and metrics endpoint. */
  metrics: MetricsConfig;
  /** How the log is written. */
  logging: LoggingConfig;
}

/** `metrics`: the HTTP endpoint for monitoring (decision 45). */
export interface MetricsConfig {
  /** `host:port` to serve `/healthz` and `/metrics` on; off when absent. */
  listen?: string | null;
}

/** `logging`: the log's format and level. */
export interface LoggingConfig {
  /** `text` (one line per record) or `json` (one JSON object per line). */
  format: "text" | "json";
  /** The lowest level logged; `--log-level` and `INFINIGPT_LOG_LEVEL` win. */
  level?: "trace" | "debug" | "info" | "warning" | "error" | "fatal" | null;
}

/** `llm`: which models exist, how they are asked, and the limits. */
export interface LlmConfig {
  /** Provider → the model ids it serves. */
  models: Record<string, string[]>;
  /** Provider → API key (the environment wins). */
  api_keys: Record<string, string>;
  /** Provider → base URL, overriding or adding an OpenAI-compatible endpoint. */
  base_urls: Record<string, string>;
  /** The global model at first start and after `.model reset`. */
  default_model: string;
  /** The default persona in system prompts. */
  personality: string;
  /** `[prefix, suffix, brevity clause]`, 1 to 3 strings. */
  prompt: string[];
  /** Merged into every chat-completion request. */
  options: ModelOptions;
  /** Model globs (or `provider:<name>`) that get no sampling options. */
  omit_options: string[];
  /** Messages per conversation sent to the model. */
  history_size: number;
  /** Estimated tokens a request may carry; whole exchanges are trimmed to fit (0: off). */
  context_tokens: number;
  /** The time zone of the prompt variables `{date}`, `{time}`, `{weekday}` (IANA name). */
  timezone: string;
  /** The Ollama server, `host:port` or a URL. */
  ollama_url: string;
  /** The LM Studio server, `host:port` or a URL. */
  lmstudio_url: string;
  /** Seconds one chat-completion request may take. */
  timeout: number;
  /** Seconds one tool call may take. */
  tool_timeout: number;
  /** Rounds of tool calls per answer. */
  max_tool_rounds: number;
  /** Provider requests in flight at once. */
  max_concurrency: number;
  /** Verbose mode (no brevity clause) at first start. */
  verbose: boolean;
  /** The "Thinking…" placeholder at first start. */
  thinking: boolean;
  /** Stream answers into the reply as they are written (decision 35). */
  stream: boolean;
  /** Seconds between two edits of a streamed reply, at least. */
  stream_interval: number;
  /** Seconds without anything to show before the "Thinking…" placeholder is sent. */
  placeholder_delay: number;
  /** Per-user limits on model use (0: off). */
  rate_limit: RateLimitConfig;
  /** Per-user budgets (0: off). */
  budget: BudgetConfig;
  /** Model glob → USD per million tokens, for costs and the monthly budget. */
  prices: Record<string, PriceConfig>;
  /** MCP tool servers by name. */
  mcp_servers: Record<string, McpServerSpec>;
  /** Globs of the models that get images (decision 34). */
  vision_models: string[];
  /** Images per request, the most recent of the thread. */
  max_images: number;
  /** Largest image accepted, in bytes. */
  max_image_bytes: number;
  /** Largest text file accepted, in bytes. */
  max_file_bytes: number;
}

/** `llm.options`: checked when given; other keys are passed through untouched. */
export interface ModelOptions {
  /** 0 to 2. */
  temperature?: number;
  /** Above 0, up to 1. */
  top_p?: number;
  /** -2 to 2. */
  frequency_penalty?: number;
  /** -2 to 2. */
  presence_penalty?: number;
  /** 0.5 to 2 (local servers). */
  repeat_penalty?: number;
  /** A positive integer. */
  max_tokens?: number;
  /** A positive integer. */
  max_completion_tokens?: number;
  /** An integer. */
  seed?: number;
  /** How hard a reasoning model thinks. */
  reasoning_effort?: "none" | "minimal" | "low" | "medium" | "high" | "xhigh";
  /** Provider-specific options. */
  [key: string]: unknown;
}

/** `llm.rate_limit`. */
export interface RateLimitConfig {
  /** Model requests per user per minute; 0: no limit. */
  requests_per_minute: number;
  /** Tokens per user per UTC day; 0: no limit. The older name of `llm.budget.daily_tokens`. */
  daily_tokens: number;
}

/** `llm.budget`. */
export interface BudgetConfig {
  /** Tokens (in and out) per user per UTC day; 0: no limit. `llm.rate_limit.daily_tokens` when unset. */
  daily_tokens: number;
  /** USD per user per UTC month, by `llm.prices`; 0: no limit. */
  monthly_usd: number;
}

/** One entry of `llm.prices`. */
export interface PriceConfig {
  /** USD per million input (prompt) tokens. */
  input: number;
  /** USD per million output (completion) tokens. */
  output: number;
}

/** One entry of `llm.mcp_servers`, after normalising the accepted forms. */
export type McpServerSpec =
  | ({ kind: "stdio" } & McpStdioSpec)
  | ({ kind: "http" } & McpHttpSpec)
  | { kind: "disabled" };

/** An MCP server the bot starts as a child process. */
export interface McpStdioSpec {
  /** The program. */
  command: string;
  /** Its arguments. */
  args: string[];
  /** Environment variables added for it (`${env:NAME}` expanded). */
  env?: Record<string, string>;
  /** Its working directory. */
  cwd?: string;
  /** Only these of its tools are offered to the model. */
  allowed_tools?: string[];
  /** Seconds one call may take (`llm.tool_timeout` otherwise). */
  timeout?: number;
}

/** An MCP server reached over HTTP (Streamable HTTP or SSE). */
export interface McpHttpSpec {
  /** Its endpoint. */
  url: string;
  /** Headers sent with every request (`${env:NAME}` expanded). */
  headers?: Record<string, string>;
  /** Which HTTP transport; `auto` tries Streamable HTTP, then SSE. */
  transport: "auto" | "streamable-http" | "http" | "sse";
  /** Only these of its tools are offered to the model. */
  allowed_tools?: string[];
  /** Seconds one call may take (`llm.tool_timeout` otherwise). */
  timeout?: number;
}

/** `matrix`: the account, the rooms, who may do what, and the store. */
export interface MatrixConfig {
  /** The homeserver's URL or server name. */
  server: string;
  /** The bot account, `@name:server`. */
  username: string;
  /** For the first login and cross-signing setup. */
  password?: string;
  /** For homeservers that refuse password login. */
  access_token?: string | null;
  /** Rooms joined at start (aliases or IDs). */
  channels: string[];
  /** Matrix IDs that may use admin commands. */
  admins: string[];
  /** The device for the first login; empty: the server picks one. */
  device_id: string;
  /** The display name of the bot's device. */
  device_name: string;
  /** The store directory. */
  store_path: string;
  /** A file with the key that encrypts the crypto state at rest. */
  store_key_file?: string | null;
  /** End-to-end encryption support. */
  e2e: boolean;
  /** When set, the only rooms the bot answers in. */
  allowed_rooms?: string[] | null;
  /** When set, the only users (besides admins) the bot answers. */
  allowed_users?: string[] | null;
  /** After a restart, messages younger than this many seconds are answered. */
  catch_up_seconds: number;
  /** Emoji verification. */
  verification: {
    /** Whose verification requests the bot accepts. */
    accept_from: "anyone" | "admins" | "nobody";
  };
  /** Which ways of talking without a prefix are answered (decision 37). */
  answer: {
    /** Every text message in a direct chat. */
    dm: boolean;
    /** A reply to one of the bot's messages. */
    replies: boolean;
    /** A message that mentions the bot anywhere. */
    mentions: boolean;
    /** Any message in a thread the bot has answered in. */
    threads: boolean;
  };
  /** The account's recovery key, as Element shows it (`INFINIGPT_RECOVERY_KEY` wins). */
  recovery_key?: string | null;
  /** A file with the recovery key. */
  recovery_key_file?: string | null;
  /** Replace the account's secret storage when the key does not open it (decision 41). */
  recovery_reset: boolean;
  /** How long a message may stay undecryptable before the bot asks for its keys and says so. */
  decrypt_wait_seconds: number;
}

/** `tools`: the built-in tools. */
export interface ToolsConfig {
  /** Tool calling at first start. */
  enabled: boolean;
  /** Let `fetch_url` reach loopback, private and link-local addresses. */
  allow_private_urls: boolean;
  /** Where image tools write (`<store>/images` otherwise). */
  images_dir?: string | null;
  /** Download cap of `fetch_url`, in bytes. */
  fetch_max_bytes: number;
  /** Other base URLs for the tools' remote APIs. */
  endpoints: ToolEndpoints;
  /** The longest tool result handed to the model. */
  result_max_chars: number;
}

/** `tools.endpoints`: base URLs replacing the tools' public APIs. */
export interface ToolEndpoints {
  /** Weather: the geocoding API. */
  geocoding?: string;
  /** Weather: the forecast API. */
  forecast?: string;
  /** Crypto prices: the Coinbase API. */
  coinbase?: string;
  /** OpenAI image generation and search. */
  openai?: string;
  /** xAI image generation. */
  xai?: string;
  /** Gemini image generation. */
  gemini?: string;
}
