/**
 * The least Deno permissions the bot needs for a given config: network,
 * reading and writing only the config, store, images and key paths, only the
 * environment variables it reads, and running programs only when stdio MCP
 * servers are configured. `scripts/launch.ts` (behind `deno task start`)
 * starts the bot with them; the end-to-end tests run under the same flags.
 *
 * @module
 */
import { dirname, isAbsolute, join, resolve } from "node:path";
import type { Config } from "./config.ts";
import { ENV_VARS } from "./env.ts";
import { BUILTIN_PROVIDERS, envKeyNames } from "./providers.ts";

/**
 * Variables the MCP SDK passes to stdio servers (its default environment),
 * on Unix and Windows, plus those its process helpers read to find the
 * command (OSTYPE, PATHEXT).
 */
export const MCP_CHILD_ENV = [
  "HOME",
  "LOGNAME",
  "OSTYPE",
  "PATH",
  "PATHEXT",
  "SHELL",
  "TERM",
  "USER",
  // Deno's node:child_process reads it when spawning.
  "NODE_V8_COVERAGE",
  // Windows
  "APPDATA",
  "HOMEDRIVE",
  "HOMEPATH",
  "LOCALAPPDATA",
  "PROCESSOR_ARCHITECTURE",
  "PROGRAMFILES",
  "SYSTEMDRIVE",
  "SYSTEMROOT",
  "TEMP",
  "USERNAME",
  "USERPROFILE",
] as const;

/**
 * V8 settings for a long-running bot with a small heap: a 1 MB young
 * generation instead of up to 16 MB (measured: about 12 MB less RSS idle),
 * and a heap that grows less eagerly (measured: 191 → 162 MB RSS after 400
 * exchanges, V8 heap 72 → 42 MB, ~5% more CPU; `bench/memory_variants.ts`).
 */
export const V8_FLAGS = ["--max-semi-space-size=1", "--optimize-for-size"] as const;

/**
 * Environment for the bot process (glibc malloc tuning; each variable set
 * only when the operator has not set it). Fewer arenas: Deno's many threads
 * otherwise each keep a growing arena (measured: 20–30 MB more RSS after 100
 * exchanges).
 */
export const BOT_ENV: Readonly<Record<string, string>> = {
  MALLOC_ARENA_MAX: "2",
  // Blocks from 128 KB up are mapped and unmapped on their own, and free
  // memory above 128 KB goes back to the system: glibc otherwise keeps what
  // a burst of HTTP bodies and crypto buffers needed (measured: 162 → 143 MB
  // RSS after 400 exchanges, same CPU; `bench/memory_variants.ts`).
  MALLOC_MMAP_THRESHOLD_: "131072",
  MALLOC_TRIM_THRESHOLD_: "131072",
};

/** Inputs of {@link permissionFlags}. */
export interface PermissionInputs {
  /** A validated config, or `undefined` when it could not be loaded. */
  config?: Config;
  /** The config file path. */
  configPath: string;
  /** The directory holding main.ts and the files it ships (help.md, schema.json, …). */
  appDir: string;
  /** Base for relative paths (the working directory). */
  cwd: string;
  /** The terminal console: `/image` and `/file` read files below the working directory. */
  console?: boolean;
}

function absolute(path: string, cwd: string): string {
  return isAbsolute(path) ? path : resolve(cwd, path);
}

function envNames(text: string): string[] {
  return [...text.matchAll(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1]);
}

/**
 * The wildcard addresses, as `--deny-net` takes them. Listening on one of
 * them opens a port on every interface; connecting to one is never what a
 * config means unless it names it.
 */
export const WILDCARD_HOSTS = ["0.0.0.0", "[::]"] as const;

/** The host of a URL, or of `host:port` (IPv6 in brackets); `undefined` when there is none. */
function hostOf(value: string): string | undefined {
  try {
    // `localhost:11434` parses as a URL of scheme `localhost:` without a host.
    const host = new URL(value).hostname;
    if (host) return host;
  } catch {
    // Not a URL: host:port.
  }
  return /^(\[[^\]]+\]|[^:\/\s]+)(:\d+)?$/.exec(value.trim())?.[1];
}

/** The addresses the config names: listen address, homeserver, providers, endpoints, MCP URLs. */
function configuredHosts(config: Config): Set<string> {
  const values = [
    config.matrix.server,
    config.llm.ollama_url,
    config.llm.lmstudio_url,
    ...Object.values(config.llm.base_urls),
    ...Object.values(config.tools.endpoints).filter((v): v is string => !!v),
    ...Object.values(config.llm.mcp_servers).flatMap((s) => s.kind === "http" ? [s.url] : []),
    ...(config.metrics.listen ? [config.metrics.listen.replace(/^:/, "0.0.0.0:")] : []),
  ];
  const hosts = new Set<string>();
  for (const value of values) {
    const host = hostOf(value);
    if (host) hosts.add(host === "::" ? "[::]" : host);
  }
  return hosts;
}

/**
 * `--deny-net` for the wildcard addresses the config does not name: no
 * code in the bot can then listen on every interface unless
 * `metrics.listen` says so (Deno's net permission covers connecting and
 * listening alike, so this is the part of listening a flag can take away).
 */
export function denyNetFlags(config: Config | undefined): string[] {
  const named = config ? configuredHosts(config) : new Set<string>();
  const denied = WILDCARD_HOSTS.filter((host) => !named.has(host));
  return denied.length ? [`--deny-net=${denied.join(",")}`] : [];
}

/**
 * The permission flags for `deno run`, sorted and without duplicates.
 * `--allow-net` is not narrowed: the bot talks to the homeserver, every
 * configured provider, tool APIs and, through `fetch_url`, any public host;
 * only the wildcard addresses are denied unless the config names them
 * ({@link denyNetFlags}).
 */
export function permissionFlags(inputs: PermissionInputs): string[] {
  const { config, cwd } = inputs;
  const configPath = absolute(inputs.configPath, cwd);
  const read = new Set<string>([configPath, inputs.appDir]);
  if (inputs.console) read.add(cwd);
  const write = new Set<string>();
  const env = new Set<string>(ENV_VARS);
  const run = new Set<string>();
  if (config) {
    const store = absolute(config.matrix.store_path, cwd);
    const images = absolute(
      config.tools.images_dir ?? join(config.matrix.store_path, "images"),
      cwd,
    );
    for (const path of [store, images]) {
      read.add(path);
      write.add(path);
    }
    if (config.matrix.store_key_file) read.add(absolute(config.matrix.store_key_file, cwd));
    if (config.matrix.recovery_key_file) {
      read.add(absolute(config.matrix.recovery_key_file, cwd));
    }
    for (const provider of Object.keys(config.llm.models)) {
      if (!BUILTIN_PROVIDERS.some((p) => p.name === provider)) {
        for (const name of envKeyNames(provider)) env.add(name);
      }
    }
    for (const spec of Object.values(config.llm.mcp_servers)) {
      if (spec.kind === "disabled") continue;
      const values = spec.kind === "stdio"
        ? Object.values(spec.env ?? {})
        : Object.values(spec.headers ?? {});
      for (const value of values) envNames(value).forEach((n) => env.add(n));
      if (spec.kind === "stdio") {
        run.add(spec.command);
        MCP_CHILD_ENV.forEach((n) => env.add(n));
        if (spec.cwd) read.add(absolute(spec.cwd, cwd));
      }
    }
  } else {
    // Enough to report what is wrong with the config.
    read.add(dirname(configPath));
  }
  const list = (set: Set<string>) => [...set].sort().join(",");
  const flags = [
    "--conditions=matrix-org:wasm-esm",
    `--v8-flags=${V8_FLAGS.join(",")}`,
    "--allow-net",
    ...denyNetFlags(config),
    `--allow-read=${list(read)}`,
    ...(write.size ? [`--allow-write=${list(write)}`] : []),
    `--allow-env=${list(env)}`,
    ...(run.size ? [`--allow-run=${list(run)}`] : []),
  ];
  return flags;
}

/** The `deno run` arguments that start `main.ts` with {@link permissionFlags}. */
export function botRunArgs(inputs: PermissionInputs, args: readonly string[]): string[] {
  return ["run", ...permissionFlags(inputs), join(inputs.appDir, "main.ts"), ...args];
}

/**
 * Programs a release binary may start: the usual launchers of stdio MCP
 * servers. A compiled binary's permissions are fixed when it is built, so
 * they cannot follow the config; `deno task start` can and does.
 */
export const BINARY_RUN = [
  "bunx",
  "deno",
  "docker",
  "node",
  "npx",
  "python",
  "python3",
  "uv",
  "uvx",
] as const;

/**
 * Data files embedded into release binaries (`deno compile --include`). The
 * program imports them (JSON and text imports), which embeds them already;
 * listing them keeps the build's file list explicit and checked
 * (scripts/compile_check.ts).
 */
export const COMPILE_INCLUDES = ["help.md", "schema.json", "config.example.json"] as const;

/**
 * The permissions baked into release binaries. Paths are relative and
 * resolved when the binary starts, so it reads and writes only inside its
 * working directory: run it from the directory that holds `config.json`,
 * the store and the images. Environment: every `INFINIGPT_*` variable (also
 * usable for `${env:…}` in MCP specs and `INFINIGPT_<PROVIDER>_API_KEY`),
 * the built-in providers' key variables, and what stdio MCP servers inherit.
 */
export function binaryPermissionFlags(): string[] {
  const env = new Set<string>(["INFINIGPT_*", ...MCP_CHILD_ENV]);
  for (const name of ENV_VARS) if (!name.startsWith("INFINIGPT_")) env.add(name);
  for (const provider of BUILTIN_PROVIDERS) provider.envKeys.forEach((n) => env.add(n));
  return [
    "--conditions=matrix-org:wasm-esm",
    `--v8-flags=${V8_FLAGS.join(",")}`,
    "--allow-net",
    "--allow-read=.",
    "--allow-write=.",
    `--allow-env=${[...env].sort().join(",")}`,
    `--allow-run=${BINARY_RUN.join(",")}`,
  ];
}

/**
 * `deno run` arguments that start `main.ts` under a release binary's
 * permissions. Only the app directory is added to the readable paths: a
 * binary's own files are embedded, which Deno always lets it read; from
 * source they lie on disk.
 */
export function binaryProfileRunArgs(appDir: string, args: readonly string[]): string[] {
  const flags = binaryPermissionFlags().map((flag) =>
    flag === "--allow-read=." ? `--allow-read=.,${appDir}` : flag
  );
  return ["run", ...flags, join(appDir, "main.ts"), ...args];
}
