/**
 * Wires the core together for one transport: the state ports (SQLite, on
 * the store's `state.db`), the providers, the tools, the model client and the bot.
 *
 * @module
 */
import { join } from "node:path";
import { HELP } from "./assets.ts";
import { Bot } from "./bot.ts";
import type { ChatPort } from "./chat_port.ts";
import { allModels, type Config } from "./config.ts";
import { type Env, processEnv } from "./env.ts";
import { modelCatalog } from "./handlers/catalog.ts";
import type { Answerer } from "./handlers/mod.ts";
import { Llm } from "./llm.ts";
import { getLogger } from "./log.ts";
import type { McpManager } from "./mcp.ts";
import { Providers, routeProvider } from "./providers.ts";
import type { PersonalModelStore, SettingsStore, ThreadStore } from "./state/ports.ts";
import { SqlitePersonalModelStore } from "./state/sqlite_models.ts";
import { SqliteSettingsStore } from "./state/sqlite_settings.ts";
import { SqliteThreadStore } from "./state/sqlite_threads.ts";
import { SqliteUsageStore } from "./state/sqlite_usage.ts";
import type { ResponderOptions } from "./responder.ts";
import type { Store } from "./store.ts";
import { untilStopped } from "./stop.ts";
import { builtinTools } from "./tools/builtins.ts";
import type { BuiltinOptions, Endpoints, KeyName } from "./tools/options.ts";
import { mergeTools, type Tool, ToolRegistry } from "./tools/registry.ts";

const log = getLogger("app");

/** Options for {@link createBot}. */
export interface CreateBotOptions {
  /** The validated configuration. */
  config: Config;
  /** The opened store directory (state.db, images). */
  store: Store;
  /** The chat network the bot talks through. */
  port: ChatPort;
  /** Environment for API keys and MCP `${env:…}` values; the process's when absent. */
  env?: Env;
  /** fetch for providers and tools (tests, instrumentation). */
  fetch?: typeof fetch;
  /** Replaces the built-in tools (tests). */
  tools?: Tool[];
  /** Connect the configured MCP servers (default true). */
  mcp?: boolean;
  /** Show the "Thinking…" placeholder (default true). */
  placeholders?: boolean;
  /** Room IDs to answer in; all when absent. */
  allowedRooms?: ReadonlySet<string>;
  /** `-v`: start in verbose mode whatever was stored. */
  verbose?: boolean;
  /** Help text; `help.md` when absent. */
  help?: string;
  /** Log per-message processing times. */
  timings?: boolean;
  /**
   * The bot is stopping: the wait for MCP servers ends at once, they are
   * closed, and createBot rejects with `StoppedError`.
   */
  signal?: AbortSignal;
  /** Placeholder animation and typing-renewal timings (tests; defaults otherwise). */
  timing?: ResponderOptions;
}

/** The MCP servers of a running core. */
export interface McpConnections {
  /** The configured server names. */
  readonly names: string[];
  /** Closes every connection. */
  close(): Promise<void>;
}

/** A running core and its parts. */
export interface BotApp {
  /** The bot: hand it messages. */
  bot: Bot;
  /** Conversation threads. */
  history: ThreadStore;
  /** Personal models (`.mymodel`). */
  models: PersonalModelStore;
  /** Bot-wide settings. */
  settings: SettingsStore;
  /** Built-in and MCP tools, merged. */
  tools: ToolRegistry;
  /** Completions and the tool loop. */
  llm: Answerer;
  /** The MCP servers, when any are configured. */
  mcp?: McpConnections;
  /** Where images from tools are written. */
  imagesDir: string;
  /** Stops the bot (waits for answers in progress, bounded), then the MCP servers. */
  close(graceMs?: number): Promise<void>;
}

/** Builds the bot for a transport. */
export async function createBot(options: CreateBotOptions): Promise<BotApp> {
  const { config, store } = options;
  const env = options.env ?? processEnv;
  const imagesDir = config.tools.images_dir ?? join(store.dir, "images");
  const builtins = options.tools ??
    builtinTools(builtinOptions(config, env, imagesDir, options.fetch));
  const tools = new ToolRegistry([], {
    timeoutMs: config.llm.tool_timeout * 1000,
    maxResultChars: config.tools.result_max_chars,
    imagesDir,
  });
  const reported = new Set<string>();
  let mcp: McpManager | undefined;
  const merge = () => {
    const merged = mergeTools(mcp?.tools() ?? [], builtins);
    for (const loser of merged.dropped) {
      if (!reported.has(loser)) log.warn(loser);
      reported.add(loser);
    }
    tools.setTools(merged.tools);
  };
  if (options.mcp !== false && Object.keys(config.llm.mcp_servers).length) {
    // Loaded only when configured: the MCP SDK is large.
    const { McpManager } = await import("./mcp.ts");
    mcp = new McpManager(config.llm.mcp_servers, {
      env,
      connectTimeoutMs: Math.min(config.llm.tool_timeout, 10) * 1000,
      callTimeoutMs: config.llm.tool_timeout * 1000,
      onToolsChanged: () => {
        merge();
        const { mcp: m, builtin } = tools.counts();
        log.info(`Tools now: ${tools.size} (${m} MCP, ${builtin} builtin)`);
      },
    });
    try {
      await untilStopped(mcp.start(), options.signal);
    } catch (error) {
      await mcp.close();
      throw error;
    }
  }
  merge();
  const known = new Set(allModels(config));
  const settings = new SqliteSettingsStore(store.db, {
    model: config.llm.default_model,
    tools: config.tools.enabled && tools.size > 0,
    verbose: config.llm.verbose,
    thinking: config.llm.thinking,
  }, (model) => known.has(model));
  if (options.verbose) settings.set("verbose", true);
  if (settings.get("tools") && tools.size === 0) settings.set("tools", false);
  const history = new SqliteThreadStore(store.db, {
    prompt: config.llm.prompt,
    personality: config.llm.personality,
    historySize: config.llm.history_size,
    verbose: () => settings.get("verbose"),
  });
  const models = new SqlitePersonalModelStore(store.db);
  const providers = new Providers({ config, env, fetch: options.fetch });
  const llm = new Llm({ providers, maxToolRounds: config.llm.max_tool_rounds });
  const counts = tools.counts();
  log.info(
    tools.size
      ? `Tool calling ${
        settings.get("tools") ? "enabled" : "disabled"
      } with ${tools.size} tools (${counts.mcp} MCP, ${counts.builtin} builtin)`
      : "Tool calling disabled: no tools available",
  );
  log.info(`Model set to ${settings.get("model")}`);
  const bot = new Bot({
    port: options.port,
    threads: history,
    models,
    settings,
    llm,
    tools,
    catalog: modelCatalog({ models: config.llm.models, defaultModel: config.llm.default_model }),
    help: options.help ?? HELP,
    admins: config.matrix.admins,
    allowedUsers: config.matrix.allowed_users ?? undefined,
    allowedRooms: options.allowedRooms,
    requestsPerMinute: config.llm.rate_limit.requests_per_minute,
    budget: new SqliteUsageStore(store.db, config.llm.rate_limit.daily_tokens),
    placeholders: options.placeholders,
    responder: options.timing,
    timings: options.timings,
  });
  return {
    bot,
    history,
    models,
    settings,
    tools,
    llm,
    mcp,
    imagesDir,
    close: async (graceMs) => {
      await bot.stop(graceMs);
      await mcp?.close();
    },
  };
}

/** The options of the built-in tools for this config (keys env-first, decision 10). */
export function builtinOptions(
  config: Config,
  env: Env,
  imagesDir: string,
  fetchFn?: typeof fetch,
): BuiltinOptions {
  const configured = config.tools.endpoints;
  const base = config.llm.base_urls;
  const endpoints: Partial<Endpoints> = {
    // Image and search tools follow a provider's base URL (a proxy) unless told otherwise.
    ...(base.openai ? { openai: base.openai } : {}),
    ...(base.xai ? { xai: base.xai } : {}),
    ...Object.fromEntries(Object.entries(configured).filter(([, v]) => v)),
  };
  return {
    fetch: fetchFn,
    key: (name: KeyName) => {
      const route = routeProvider(name, config, env);
      return route.keySource === "missing" || route.keySource === "none needed"
        ? undefined
        : route.apiKey;
    },
    imagesDir,
    allowPrivateUrls: config.tools.allow_private_urls,
    fetchMaxBytes: config.tools.fetch_max_bytes,
    endpoints,
  };
}
