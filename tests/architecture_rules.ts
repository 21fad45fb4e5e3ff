/**
 * The layers of `lib/`, as globs over repository paths: the one list of core
 * modules and adapters. docs/architecture.md shows it;
 * tests/architecture_test.ts checks the import graph against it.
 *
 * Globs: `*` is any run of characters within one path segment, `**` any
 * number of segments; a leading `!` takes matching files out again.
 *
 * @module
 */

/**
 * The core: the path of a message, commands, tools, the model loop and pure
 * helpers. It talks to the chat network through `ChatPort` and to state
 * through the ports in `lib/state/ports.ts`, so it runs behind Matrix, the
 * console and an in-memory port alike.
 */
export const CORE: readonly string[] = [
  "lib/bot.ts",
  "lib/pipeline/**",
  "lib/handlers/**",
  "lib/responder.ts",
  "lib/chat_port.ts",
  "lib/llm.ts",
  "lib/conversation.ts",
  "lib/state/**",
  "!lib/state/sqlite*.ts",
  "lib/tools/**",
  "!lib/tools/mcp*.ts",
  "lib/async.ts",
  "lib/queue.ts",
  "lib/order_gate.ts",
  "lib/markdown.ts",
  "lib/split.ts",
  "lib/html_entities.ts",
  "lib/image_type.ts",
  "lib/json.ts",
  "lib/mxid.ts",
  "lib/usage.ts",
  "lib/power_levels.ts",
  "lib/content.ts",
  "lib/vision.ts",
  "lib/glob.ts",
];

/**
 * Adapters, by family: each binds the core to one outside thing. The core
 * imports none of them, directly or through other modules. (`providers.ts`,
 * HTTP through the `openai` client, is not listed: the core may use it.)
 */
export const ADAPTERS: Readonly<Record<string, readonly string[]>> = {
  matrix: ["lib/matrix*.ts"],
  crypto: ["lib/crypto_journal*.ts"],
  state: ["lib/state/sqlite*.ts", "lib/store.ts", "lib/sqlite.ts"],
  mcp: ["lib/mcp*.ts", "lib/tools/mcp*.ts"],
  console: ["lib/console.ts"],
  cli: ["lib/cli*.ts", "lib/run.ts", "lib/init.ts", "lib/check_config.ts", "lib/doctor*.ts"],
  http: ["lib/metrics_server.ts"],
};

/** Packages the core may not load, directly or through other modules. */
export const FORBIDDEN_IN_CORE: readonly string[] = [
  "matrix-js-sdk",
  "@matrix-org/matrix-sdk-crypto-wasm",
  "fake-indexeddb",
  "@modelcontextprotocol/sdk",
  "node:sqlite",
];
