/**
 * InfiniGPT as a library: build the bot behind any {@link ChatPort}, load
 * and validate configs, and the types the pieces exchange.
 *
 * @example
 * ```ts
 * import { createBot, loadConfig, Store } from "./mod.ts";
 * const { config } = await loadConfig({ path: "config.json", env: {} });
 * const store = Store.open(config.matrix.store_path);
 * const app = await createBot({ config, store, port: myPort });
 * await app.bot.handle({ room: "!r:hs", sender: "@a:hs", body: ".ai hello" });
 * ```
 *
 * @module
 */
export { type BotApp, createBot, type CreateBotOptions, type McpConnections } from "./lib/app.ts";
export { Bot, type BotOptions } from "./lib/bot.ts";
export type { AnswerSwitches } from "./lib/pipeline/unprefixed.ts";
export type { ChatPort, ImageOptions, IncomingMessage, OutgoingMessage } from "./lib/chat_port.ts";
export { MediaError } from "./lib/chat_port.ts";
export type {
  Attachment,
  Content,
  ContentPart,
  ImageRefPart,
  ImageUrlPart,
  MediaEncryption,
  MediaRef,
  TextPart,
} from "./lib/content.ts";
export {
  ConfigError,
  type ConfigOverrides,
  loadConfig,
  type LoadedConfig,
  type LoadOptions,
  validateConfig,
} from "./lib/config.ts";
export type {
  BudgetConfig,
  Config,
  LlmConfig,
  LoggingConfig,
  MatrixConfig,
  McpHttpSpec,
  McpServerSpec,
  McpStdioSpec,
  MetricsConfig,
  ModelOptions,
  PriceConfig,
  RateLimitConfig,
  ToolEndpoints,
  ToolsConfig,
} from "./lib/config_types.ts";
export type { Env } from "./lib/env.ts";
export { COMMANDS, route } from "./lib/handlers/mod.ts";
export type {
  AddressForm,
  Answerer,
  Command,
  Context,
  HandlerLog,
  Invalid,
  LocalServer,
  MediaSettings,
  ModelCatalog,
  Routed,
  RouteInput,
  Services,
} from "./lib/handlers/mod.ts";
export type { ResponderOptions } from "./lib/responder.ts";
export type {
  InboxEntry,
  InboxStore,
  PersonalModelStore,
  RoomSettings,
  RoomSettingsStore,
  SettingsStore,
  SettingValues,
  ThreadStore,
  TokenCount,
  UsageQuery,
  UsageRow,
  UsageStore,
} from "./lib/state/ports.ts";
export {
  type BudgetLimits,
  type BudgetRefusal,
  type ModelPrice,
  type UsageEvent,
  UsageLedger,
  type UsageLedgerOptions,
  type UsageObserver,
} from "./lib/usage.ts";
export { type Message, systemPrompt, trimThread } from "./lib/conversation.ts";
export {
  type Answer,
  type AnswerRequest,
  failureReason,
  type Stripped,
  stripReasoning,
  type Usage,
} from "./lib/llm.ts";
export { renderMarkdown, sanitizeHtml } from "./lib/markdown.ts";
export type { ToolDefinition } from "./lib/providers.ts";
export { Store, StoreError } from "./lib/store.ts";
export {
  type RegistryOptions,
  type Tool,
  type ToolCallOptions,
  type ToolCallResult,
  type ToolImage,
  ToolOutput,
  ToolRegistry,
} from "./lib/tools/registry.ts";
export { VERSION } from "./lib/version.ts";
