/**
 * The command line: flags, subcommands and exit codes. `main.ts` only calls
 * {@link runCli}; tests call it too.
 *
 * Exit codes: 0 ok, 1 runtime failure, 2 bad config, usage or locked store.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { createBot } from "./app.ts";
import { placeholderErrors, providerWarnings, summarizeConfig } from "./check_config.ts";
import {
  type Config,
  ConfigError,
  type ConfigOverrides,
  loadConfig,
  type LoadedConfig,
} from "./config.ts";
import { ConsolePort, runConsoleLoop } from "./console.ts";
import { configSecrets } from "./config_secrets.ts";
import { type CliIo, processIo } from "./cli_io.ts";
import { isMxid } from "./mxid.ts";
import { getLogger, type LogLevel, parseLevel, registerSecret, setupLogging } from "./log.ts";
import { Store, StoreError } from "./store.ts";
import { VERSION } from "./version.ts";
import { onStopSignals } from "./stop.ts";
import { join } from "node:path";

/** The usage text of `--help`. */
export const USAGE = `InfiniGPT ${VERSION}: a Matrix chat bot for many LLM providers

Usage: infinigpt [command] [options]

Commands:
  run             start the Matrix bot (the default)
  console         chat with the bot in this terminal (same commands, same store)
  check-config    validate the config, print a summary without secrets
  doctor          check the config online: homeserver, account, store, providers,
                  MCP servers (one ✓/✗ line each; exit 1 when one fails)
  init            write a starter config.json and create the store directory
                  (--force replaces an existing config.json)
  version         print the version

Options:
  -c, --config PATH        config file (default: $INFINIGPT_CONFIG or ./config.json)
  -L, --log-level LEVEL    DEBUG, INFO, WARNING, ERROR or CRITICAL (default INFO)
  -m, --model ID           start with this global model
  -s, --store-path DIR     store directory (matrix.store_path)
  -E, --e2e                force end-to-end encryption on
  -N, --no-e2e             force end-to-end encryption off (wins over --e2e)
  -u, --ollama-url H:P     Ollama server (llm.ollama_url)
      --lmstudio-url H:P   LM Studio server (llm.lmstudio_url)
  -v, --verbose            start in verbose mode (no brevity clause)
  -S, --server-models      accepted for compatibility; no effect
      --check-config       same as the check-config command
      --version            same as the version command
  -h, --help               this text

Console options:
      --user @NAME:SERVER  who you are in the console (default @you:console)
      --admin              make that user an admin
      --bot-name NAME      the bot's name in the console (default InfiniGPT)

Exit codes: 0 ok, 1 failure while running, 2 bad config, bad usage or store in use.`;

const COMMANDS = new Set(["run", "console", "check-config", "doctor", "init", "version"]);

type Flags = ReturnType<typeof parse>["values"];

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: "string", short: "c" },
      "log-level": { type: "string", short: "L" },
      e2e: { type: "boolean", short: "E" },
      "no-e2e": { type: "boolean", short: "N" },
      model: { type: "string", short: "m" },
      "store-path": { type: "string", short: "s" },
      "ollama-url": { type: "string", short: "u" },
      "lmstudio-url": { type: "string" },
      "server-models": { type: "boolean", short: "S" },
      verbose: { type: "boolean", short: "v" },
      help: { type: "boolean", short: "h" },
      "check-config": { type: "boolean" },
      version: { type: "boolean" },
      user: { type: "string" },
      admin: { type: "boolean" },
      "bot-name": { type: "string" },
      force: { type: "boolean" },
    },
  });
}

function overridesOf(flags: Flags): ConfigOverrides {
  return {
    model: flags.model,
    storePath: flags["store-path"],
    ollamaUrl: flags["ollama-url"],
    lmstudioUrl: flags["lmstudio-url"],
    verbose: flags.verbose ? true : undefined,
    e2e: flags["no-e2e"] ? false : flags.e2e ? true : undefined,
  };
}

async function load(flags: Flags, io: CliIo): Promise<LoadedConfig> {
  const loaded = await loadConfig({
    path: flags.config,
    env: io.env,
    overrides: overridesOf(flags),
  });
  for (const secret of configSecrets(loaded.config, io.env)) registerSecret(secret);
  return loaded;
}

/** Runs the CLI; resolves with the exit code. */
export async function runCli(args: string[], io: CliIo = processIo): Promise<number> {
  const invocation = parseInvocation(args, io);
  if (typeof invocation === "number") return invocation;
  const { flags, command } = invocation;
  if (command === "version") {
    io.stdout(`infinigpt ${VERSION}\n`);
    return 0;
  }
  const level = startLogging(flags, io);
  if (!level) return 2;
  if (command === "init") {
    const { runInit } = await import("./init.ts");
    return runInit({ path: flags.config ?? "config.json", force: !!flags.force, io });
  }
  const loaded = await loadOrReport(flags, io);
  if (typeof loaded === "number") return loaded;
  const logLevel = applyLoggingConfig(loaded.config, flags, io) ?? level;
  const warnings = [...loaded.warnings, ...providerWarnings(loaded.config, io.env)];
  if (command === "check-config") return printCheck(loaded, warnings, io);
  if (command === "doctor") return await runDoctorCommand(loaded, flags, io);
  announce(loaded, warnings, flags);
  if (command === "console") return await runConsoleCommand(loaded, flags, io);
  return await runMatrixCommand({ loaded, flags, io, level: logLevel });
}

/** The flags and the command, or the exit code when there is nothing to run (help, bad usage). */
function parseInvocation(args: string[], io: CliIo): { flags: Flags; command: string } | number {
  let flags: Flags;
  let positionals: string[];
  try {
    ({ values: flags, positionals } = parse(args));
  } catch (error) {
    io.stderr(`${(error as Error).message}\nRun 'infinigpt --help' for usage.\n`);
    return 2;
  }
  if (flags.help) {
    io.stdout(USAGE + "\n");
    return 0;
  }
  const command = flags.version
    ? "version"
    : flags["check-config"]
    ? "check-config"
    : positionals[0] ?? "run";
  if (!COMMANDS.has(command) || positionals.length > 1) {
    io.stderr(`Unknown command: ${positionals.join(" ")}\nRun 'infinigpt --help' for usage.\n`);
    return 2;
  }
  return { flags, command };
}

/**
 * Logs to stderr at the level of `--log-level` or `INFINIGPT_LOG_LEVEL`
 * (INFO by default); `undefined` after reporting an unknown level.
 */
function startLogging(flags: Flags, io: CliIo): LogLevel | undefined {
  const wanted = flags["log-level"] ?? io.env.INFINIGPT_LOG_LEVEL;
  const level = parseLevel(wanted);
  if (wanted && !level) {
    io.stderr(`Unknown log level: ${wanted}\n`);
    return undefined;
  }
  setupLogging({ level: level ?? "info", output: { write: (line) => io.stderr(line + "\n") } });
  return level ?? "info";
}

/**
 * `logging.format` and `logging.level` from the config; a level given by
 * `--log-level` or `INFINIGPT_LOG_LEVEL` wins. The level now in force.
 */
function applyLoggingConfig(config: Config, flags: Flags, io: CliIo): LogLevel | undefined {
  const { format, level } = config.logging;
  const explicit = parseLevel(flags["log-level"] ?? io.env.INFINIGPT_LOG_LEVEL);
  if (format === "text" && (!level || explicit)) return undefined;
  const chosen = explicit ?? level ?? "info";
  setupLogging({ level: chosen, format, output: { write: (line) => io.stderr(line + "\n") } });
  return chosen;
}

/** The loaded config, or exit code 2 after printing why it cannot be used. */
async function loadOrReport(flags: Flags, io: CliIo): Promise<LoadedConfig | number> {
  try {
    return await load(flags, io);
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr(error.message + "\n");
      return 2;
    }
    throw error;
  }
}

/**
 * `check-config`: the summary without secrets, then the warnings; the
 * starter config's placeholders still in it are errors (exit 2).
 */
function printCheck(loaded: LoadedConfig, warnings: string[], io: CliIo): number {
  const placeholders = placeholderErrors(loaded.config);
  if (placeholders.length) {
    io.stderr(`Configuration errors:\n${placeholders.join("\n")}\n`);
    return 2;
  }
  io.stdout(summarizeConfig(loaded.config, io.env, loaded.path) + "\n");
  if (warnings.length) io.stdout(`Warnings:\n${warnings.map((w) => `- ${w}`).join("\n")}\n`);
  return 0;
}

/** `doctor`: the online checks; only errors are logged unless a level was asked for. */
async function runDoctorCommand(loaded: LoadedConfig, flags: Flags, io: CliIo): Promise<number> {
  if (!flags["log-level"] && !io.env.INFINIGPT_LOG_LEVEL) {
    setupLogging({ level: "error", output: { write: (line) => io.stderr(line + "\n") } });
  }
  const { runDoctor } = await import("./doctor_checks.ts");
  return await runDoctor({ config: loaded.config, env: io.env, path: loaded.path, io });
}

/** Logs the warnings and what was loaded, before the bot starts. */
function announce(loaded: LoadedConfig, warnings: string[], flags: Flags): void {
  const log = getLogger("cli");
  for (const warning of warnings) log.warn(warning);
  if (flags["server-models"]) {
    log.info("--server-models has no effect; models come from llm.models");
  }
  const { models, default_model } = loaded.config.llm;
  const providers = Object.entries(models).filter(([, m]) => m.length).map(([p]) => p);
  log.info(`Loaded config. Providers: ${providers.join(", ")}; Default model: ${default_model}`);
}

/** `run`: the Matrix bot, loaded on demand (it brings the Matrix SDK). */
async function runMatrixCommand(
  { loaded, flags, io, level }: { loaded: LoadedConfig; flags: Flags; io: CliIo; level: LogLevel },
): Promise<number> {
  // A stop signal while the Matrix code loads (seconds on a slow machine)
  // stops the bot like any other (decision 33) instead of killing it.
  const early = new AbortController();
  const removeEarly = onStopSignals(() => early.abort());
  try {
    const { runMatrix } = await import("./run.ts");
    return await runMatrix({
      loaded,
      io,
      verbose: !!flags.verbose,
      debug: level === "debug" || level === "trace",
      signal: early.signal,
    });
  } finally {
    removeEarly();
  }
}

async function runConsoleCommand(loaded: LoadedConfig, flags: Flags, io: CliIo): Promise<number> {
  const config = loaded.config;
  const userId = flags.user ?? "@you:console";
  if (!isMxid(userId)) {
    io.stderr(`--user must be a Matrix ID like @name:server, got "${userId}"\n`);
    return 2;
  }
  if (flags.admin && !config.matrix.admins.includes(userId)) config.matrix.admins.push(userId);
  let store: Store;
  try {
    store = Store.open(config.matrix.store_path);
  } catch (error) {
    if (error instanceof StoreError) {
      io.stderr(error.message + "\n");
      return error.exitCode;
    }
    throw error;
  }
  try {
    const port = new ConsolePort({
      userId,
      botName: flags["bot-name"] ?? "InfiniGPT",
      output: { write: io.stdout },
      imagesDir: config.tools.images_dir ?? join(config.matrix.store_path, "images"),
    });
    const app = await createBot({
      config,
      store,
      port,
      env: io.env,
      placeholders: false,
      verbose: !!flags.verbose,
    });
    if (io.isTerminal) {
      io.stdout(
        `InfiniGPT console. You are ${userId}${flags.admin ? " (admin)" : ""}. ` +
          `Type .help for commands, Ctrl-D to quit.\n`,
      );
    }
    await runConsoleLoop({
      input: io.stdin,
      output: { write: io.stdout },
      userId,
      prompt: io.isTerminal,
      handle: async (msg) => void await app.bot.handle(msg),
    });
    await app.close();
    return 0;
  } finally {
    store.close();
  }
}
