/**
 * Wires the core together for one transport: the state ports (SQLite, on
 * the store's `state.db`), the providers, the tools, the model client and the bot.
 *
 * @module
 */
import { join } from "node:path";
import { HELP } from "./assets.ts";
import { Bot, type BotOptions } from "./bot.ts";
import type { ChatPort } from "./chat_port.ts";
import { allModels, type Config } from "./config.ts";
import type { MediaSettings } from "./handlers/context.ts";
import { type Env, processEnv } from "./env.ts";
import { modelCatalog } from "./handlers/catalog.ts";
import type { Answerer } from "./handlers/mod.ts";
import { Llm } from "./llm.ts";
import { getLogger } from "./log.ts";
import type { McpManager } from "./mcp.ts";
import { Providers, routeProvider } from "./providers.ts";
import type {
  PersonalModelStore,
  RoomSettingsStore,
  SettingsStore,
  ThreadStore,
} from "./state/ports.ts";
import { SqlitePersonalModelStore } from "./state/sqlite_models.ts";
import { SqliteRoomSettingsStore } from "./state/sqlite_room_settings.ts";
import { SqliteSettingsStore } from "./state/sqlite_settings.ts";
import { SqliteThreadStore } from "./state/sqlite_threads.ts";
import { SqliteUsageStore } from "./state/sqlite_usage.ts";
import type { ResponderOptions } from "./responder.ts";
import type { Store } from "./store.ts";
import { untilStopped } from "./stop.ts";
import { builtinTools } from "./tools/builtins.ts";
import type { BuiltinOptions, Endpoints, KeyName } from "./tools/options.ts";
import { mergeTools, type Tool, ToolRegistry } from "./tools/registry.ts";
import { UsageLedger, type UsageObserver } from "./usage.ts";

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
  /** Told about counted tokens and budget refusals (metrics). */
  usageObserver?: UsageObserver;
}

/** The MCP servers of a running core. */
export interface McpConnections {
  /** The configured server names. */
  readonly names: string[];
  /** Each server and whether it is connected now. */
  status(): { name: string; up: boolean }[];
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
  /** Settings per room. */
  rooms: RoomSettingsStore;
  /** Tokens per user and model, costs and budgets. */
  usage: UsageLedger;
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

/**
 * Builds the bot for a transport, in dependency order: the store (given),
 * the tools (MCP servers connected), the state ports, the model client, the
 * bot. The tools come before the state because the `.tools` setting's
 * default depends on whether there are any, and so that a stop while the
 * MCP servers connect leaves the state untouched.
 */
export async function createBot(options: CreateBotOptions): Promise<BotApp> {
  const { config, store, port } = options;
  const env = options.env ?? processEnv;
  const imagesDir = config.tools.images_dir ?? join(store.dir, "images");
  const { tools, mcp } = await openTools(config, {
    env,
    imagesDir,
    fetch: options.fetch,
    builtins: options.tools,
    mcp: options.mcp !== false,
    signal: options.signal,
  });
  const state = openState(store, config.llm, {
    tools: config.tools.enabled && tools.size > 0,
    toolCount: tools.size,
    verbose: options.verbose,
    usageObserver: options.usageObserver,
  });
  const providers = new Providers({ config: { llm: config.llm }, env, fetch: options.fetch });
  const llm = new Llm({ providers, maxToolRounds: config.llm.max_tool_rounds });
  logReady(tools, state.settings);
  const bot = new Bot({
    port,
    ...state,
    llm,
    tools,
    catalog: modelCatalog({ models: config.llm.models, defaultModel: config.llm.default_model }),
    help: options.help ?? HELP,
    media: mediaSettings(config.llm),
    admins: config.matrix.admins,
    allowedUsers: config.matrix.allowed_users ?? undefined,
    allowedRooms: options.allowedRooms,
    requestsPerMinute: config.llm.rate_limit.requests_per_minute,
    placeholders: options.placeholders,
    responder: options.timing,
    timings: options.timings,
    answer: config.matrix.answer,
    timeZone: config.llm.timezone,
  });
  const { threads: history, models, settings, rooms, usage } = state;
  return {
    bot,
    history,
    models,
    settings,
    rooms,
    usage,
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

/** Images and files in (decision 34), from `llm`. */
function mediaSettings(
  llm: Pick<Config["llm"], "vision_models" | "max_images" | "max_image_bytes" | "max_file_bytes">,
): MediaSettings {
  return {
    visionModels: llm.vision_models,
    maxImages: llm.max_images,
    maxImageBytes: llm.max_image_bytes,
    maxFileBytes: llm.max_file_bytes,
  };
}

/** How {@link openTools} finds keys, endpoints and MCP servers. */
interface ToolsSetup {
  env: Env;
  imagesDir: string;
  fetch?: typeof fetch;
  /** Replaces the built-in tools (tests). */
  builtins?: Tool[];
  /** Connect the configured MCP servers. */
  mcp: boolean;
  signal?: AbortSignal;
}

/**
 * The tool registry: the built-in tools, and the MCP servers' tools merged in
 * as the servers come and go. Resolves once every server answered or gave up.
 */
async function openTools(
  config: Pick<Config, "llm" | "tools">,
  setup: ToolsSetup,
): Promise<{ tools: ToolRegistry; mcp?: McpManager }> {
  const { imagesDir } = setup;
  const builtins = setup.builtins ??
    builtinTools(builtinOptions(config, setup.env, imagesDir, setup.fetch));
  const tools = new ToolRegistry([], {
    timeoutMs: config.llm.tool_timeout * 1000,
    maxResultChars: config.tools.result_max_chars,
    imagesDir,
  });
  const merge = toolMerger(tools, builtins);
  const mcp = setup.mcp && Object.keys(config.llm.mcp_servers).length
    ? await connectMcp(config.llm, {
      env: setup.env,
      signal: setup.signal,
      onToolsChanged: (mcpTools) => {
        merge(mcpTools);
        const { mcp: m, builtin } = tools.counts();
        log.info(`Tools now: ${tools.size} (${m} MCP, ${builtin} builtin)`);
      },
    })
    : undefined;
  merge(mcp?.tools() ?? []);
  return { tools, mcp };
}

/** Sets `tools` to the MCP tools and the built-ins; a dropped name is warned about once. */
function toolMerger(tools: ToolRegistry, builtins: readonly Tool[]): (mcpTools: Tool[]) => void {
  const reported = new Set<string>();
  return (mcpTools) => {
    const merged = mergeTools(mcpTools, builtins);
    for (const loser of merged.dropped) {
      if (!reported.has(loser)) log.warn(loser);
      reported.add(loser);
    }
    tools.setTools(merged.tools);
  };
}

/**
 * Starts the configured MCP servers; a stop (`signal`) ends the wait at once
 * and closes them, rejecting with `StoppedError`.
 */
async function connectMcp(
  llm: Pick<Config["llm"], "mcp_servers" | "tool_timeout">,
  { env, signal, onToolsChanged }: {
    env: Env;
    signal?: AbortSignal;
    onToolsChanged: (mcpTools: Tool[]) => void;
  },
): Promise<McpManager> {
  // Loaded only when configured: the MCP SDK is large.
  const { McpManager } = await import("./mcp.ts");
  const mcp: McpManager = new McpManager(llm.mcp_servers, {
    env,
    connectTimeoutMs: Math.min(llm.tool_timeout, 10) * 1000,
    callTimeoutMs: llm.tool_timeout * 1000,
    onToolsChanged: () => onToolsChanged(mcp.tools()),
  });
  try {
    await untilStopped(mcp.start(), signal);
  } catch (error) {
    await mcp.close();
    throw error;
  }
  return mcp;
}

/** The state ports the bot uses, as named in {@link BotOptions}. */
type StatePorts = Pick<BotOptions, "threads" | "models" | "settings"> & {
  rooms: RoomSettingsStore;
  usage: UsageLedger;
};

/**
 * The state ports on the store's `state.db`, with the config's defaults.
 * `-v` turns verbose mode on whatever was stored; with no tools, tool
 * calling is stored as off.
 */
function openState(
  store: Store,
  llm: Pick<
    Config["llm"],
    | "models"
    | "default_model"
    | "verbose"
    | "thinking"
    | "prompt"
    | "personality"
    | "history_size"
    | "context_tokens"
    | "rate_limit"
    | "budget"
    | "prices"
  >,
  start: { tools: boolean; toolCount: number; verbose?: boolean; usageObserver?: UsageObserver },
): StatePorts {
  const known = new Set(allModels({ llm }));
  const settings = new SqliteSettingsStore(store.db, {
    model: llm.default_model,
    tools: start.tools,
    verbose: llm.verbose,
    thinking: llm.thinking,
  }, (model) => known.has(model));
  if (start.verbose) settings.set("verbose", true);
  if (settings.get("tools") && start.toolCount === 0) settings.set("tools", false);
  const rooms = new SqliteRoomSettingsStore(store.db);
  const threads = new SqliteThreadStore(store.db, {
    prompt: llm.prompt,
    personality: llm.personality,
    historySize: llm.history_size,
    contextTokens: llm.context_tokens,
    verbose: () => settings.get("verbose"),
    roomPersona: (room) => rooms.get(room).persona,
  });
  const models = new SqlitePersonalModelStore(store.db);
  const usage = new UsageLedger({
    store: new SqliteUsageStore(store.db),
    limits: {
      dailyTokens: llm.budget.daily_tokens,
      monthlyUsd: llm.budget.monthly_usd,
      prices: llm.prices,
    },
    observer: start.usageObserver,
  });
  return { threads, models, settings, rooms, usage };
}

/** Logs whether tool calling is on, with how many tools, and the global model. */
function logReady(tools: ToolRegistry, settings: SettingsStore): void {
  const counts = tools.counts();
  log.info(
    tools.size
      ? `Tool calling ${
        settings.get("tools") ? "enabled" : "disabled"
      } with ${tools.size} tools (${counts.mcp} MCP, ${counts.builtin} builtin)`
      : "Tool calling disabled: no tools available",
  );
  log.info(`Model set to ${settings.get("model")}`);
}

/** The options of the built-in tools for this config (keys env-first, decision 10). */
export function builtinOptions(
  config: Pick<Config, "llm" | "tools">,
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
