/**
 * Wires the core together for one transport: state from the store, the
 * providers, the tools, the model client and the bot.
 *
 * @module
 */
import { readHelp } from "./assets.ts";
import { Bot, type BotOptions } from "./bot.ts";
import type { ChatPort } from "./chat_port.ts";
import { allModels, type Config } from "./config.ts";
import { type Env, processEnv } from "./env.ts";
import { History, PersonalModels, Settings } from "./history.ts";
import { Llm } from "./llm.ts";
import { getLogger } from "./log.ts";
import { Providers } from "./providers.ts";
import { TokenBudget } from "./rate_limit.ts";
import type { Store } from "./store.ts";
import { builtinTools } from "./tools/builtins.ts";
import { type Tool, ToolRegistry } from "./tools/registry.ts";

const log = getLogger("app");

/** Options for {@link createBot}. */
export interface CreateBotOptions {
  config: Config;
  store: Store;
  port: ChatPort;
  env?: Env;
  /** fetch for providers and tools (tests, instrumentation). */
  fetch?: typeof fetch;
  /** Replaces the built-in tools (tests). */
  tools?: Tool[];
  /** Show the "Thinking…" placeholder (default true). */
  placeholders?: boolean;
  /** Room IDs to answer in; all when absent. */
  allowedRooms?: ReadonlySet<string>;
  /** `-v`: start in verbose mode whatever was stored. */
  verbose?: boolean;
  /** Help text; `help.md` when absent. */
  help?: string;
  /** Placeholder animation and typing-renewal timings (tests; defaults otherwise). */
  timing?: Pick<BotOptions, "animationMs" | "maxAnimationEdits" | "typingRenewMs">;
}

/** A running core and its parts. */
export interface BotApp {
  bot: Bot;
  history: History;
  models: PersonalModels;
  settings: Settings;
  tools: ToolRegistry;
  providers: Providers;
  llm: Llm;
  /** Stops the bot (waits for answers in progress, bounded). */
  close(graceMs?: number): Promise<void>;
}

/** Builds the bot for a transport. */
export async function createBot(options: CreateBotOptions): Promise<BotApp> {
  const { config, store } = options;
  const env = options.env ?? processEnv;
  const tools = new ToolRegistry(options.tools ?? builtinTools({ fetch: options.fetch }), {
    timeoutMs: config.llm.tool_timeout * 1000,
    maxResultChars: config.tools.result_max_chars,
  });
  const known = new Set(allModels(config));
  const settings = new Settings(store.db, {
    model: config.llm.default_model,
    tools: config.tools.enabled && tools.size > 0,
    verbose: config.llm.verbose,
    thinking: config.llm.thinking,
  }, (model) => known.has(model));
  if (options.verbose) settings.set("verbose", true);
  if (settings.get("tools") && tools.size === 0) settings.set("tools", false);
  const history = new History(store.db, {
    prompt: config.llm.prompt,
    personality: config.llm.personality,
    historySize: config.llm.history_size,
    verbose: () => settings.get("verbose"),
  });
  const models = new PersonalModels(store.db);
  const providers = new Providers({ config, env, fetch: options.fetch });
  const llm = new Llm({ providers, maxToolRounds: config.llm.max_tool_rounds });
  const { mcp, builtin } = tools.counts();
  log.info(
    tools.size
      ? `Tool calling ${
        settings.get("tools") ? "enabled" : "disabled"
      } with ${tools.size} tools (${mcp} MCP, ${builtin} builtin)`
      : "Tool calling disabled: no tools available",
  );
  log.info(`Model set to ${settings.get("model")}`);
  const bot = new Bot({
    config,
    port: options.port,
    history,
    models,
    settings,
    llm,
    tools,
    help: options.help ?? await readHelp(),
    placeholders: options.placeholders,
    allowedRooms: options.allowedRooms,
    budget: new TokenBudget(store.db, config.llm.rate_limit.daily_tokens),
    ...options.timing,
  });
  return {
    bot,
    history,
    models,
    settings,
    tools,
    providers,
    llm,
    close: (graceMs) => bot.stop(graceMs),
  };
}
