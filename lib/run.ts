/**
 * `infinigpt run`: the Matrix bot, from start to a clean stop.
 *
 * Start: lock the store, restore the encryption journal, reuse or create the
 * session, build the client, connect MCP servers, sync, join rooms, then
 * answer. Stop (SIGINT/SIGTERM, decision 2): take no new work, let answers in
 * progress finish (at most 10 s), save the sync position, close MCP servers
 * and the store, exit 0. The session is never logged out.
 *
 * @module
 */
import { type BotApp, createBot } from "./app.ts";
import type { CliIo } from "./cli_io.ts";
import type { Config, LoadedConfig } from "./config.ts";
import type { Env } from "./env.ts";
import { IdbJournal } from "./crypto_journal.ts";
import { getLogger, registerSecret } from "./log.ts";
import { MatrixTransport } from "./matrix_transport.ts";
import { metrics } from "./bot_metrics.ts";
import { type MetricsServer, serveMetrics } from "./metrics_server.ts";
import type { JoinResult } from "./matrix_rooms.ts";
import { ensureSession, type Session, SessionError } from "./matrix_session.ts";
import { SqliteInboxStore } from "./state/sqlite_inbox.ts";
import { Store, StoreError } from "./store.ts";
import { loadStoreKey, StoreKeyError } from "./store_key.ts";
import {
  loadRecoveryKey,
  maskRecoveryKey,
  RECOVERY_KEY_FILE,
  RecoveryKeyError,
} from "./recovery_key.ts";
import { onStopSignals, untilStopped } from "./stop.ts";

const log = getLogger("run");

/** Options for {@link runMatrix}. */
export interface RunOptions {
  loaded: LoadedConfig;
  io: CliIo;
  verbose: boolean;
  /** Debug logging (SDK logs too). */
  debug?: boolean;
  /** Stops the bot (tests); SIGINT/SIGTERM do the same. */
  signal?: AbortSignal;
  /** Called once the bot is ready (tests, benchmarks). */
  onReady?: (info: { ms: number }) => void;
}

/** A second stop signal sooner than this is the same stop delivered twice. */
const DUPLICATE_SIGNAL_MS = 1000;

/**
 * The stop of this run: aborted by `signal` (tests) or the first SIGINT/
 * SIGTERM; a second signal a moment later exits at once.
 */
function stopOnSignals(signal?: AbortSignal): { stop: AbortController; removeSignals(): void } {
  const stop = new AbortController();
  if (signal?.aborted) stop.abort();
  signal?.addEventListener("abort", () => stop.abort(), { once: true });
  let firstSignalAt = 0;
  // `signal` may be aborted by the same signal just before this handler
  // runs (cli.ts listens from before run.ts is loaded): only a signal this
  // handler saw before counts as the first.
  const removeSignals = onStopSignals(() => {
    if (firstSignalAt) {
      // The same stop often arrives twice at once: Ctrl-C or systemd signal
      // the whole group, and the `deno task` runner forwards it too.
      if (performance.now() - firstSignalAt < DUPLICATE_SIGNAL_MS) return;
      log.warn("Second signal: exiting now");
      Deno.exit(1);
    }
    firstSignalAt = performance.now() || 1;
    log.info("Stopping (signal received)");
    stop.abort();
  });
  return { stop, removeSignals };
}

/** What has been started so far: the stop ends it in reverse. */
interface Running {
  store: Store;
  metricsServer?: MetricsServer;
  journal?: IdbJournal;
  transport?: MatrixTransport;
  closeApp?: () => Promise<void>;
}

/** What the ready line tells. */
interface Started {
  session: Session;
  app: BotApp;
  joins: JoinResult[];
}

/** Runs the Matrix bot until it is told to stop; resolves with the exit code. */
export async function runMatrix(options: RunOptions): Promise<number> {
  const started = performance.now();
  const { config } = options.loaded;
  const { stop, removeSignals } = stopOnSignals(options.signal);
  if (stop.signal.aborted) {
    log.info("Stopped before starting");
    removeSignals();
    return 0;
  }
  let store: Store;
  try {
    store = Store.open(config.matrix.store_path);
  } catch (error) {
    removeSignals();
    if (error instanceof StoreError) {
      options.io.stderr(error.message + "\n");
      return error.exitCode;
    }
    throw error;
  }
  const running: Running = { store };
  try {
    const ready = await start(running, options, stop.signal);
    if (!ready) return 0;
    const ms = Math.round(performance.now() - started);
    logReady(ready, config.matrix.e2e, ms);
    options.onReady?.({ ms });
    await untilStop(stop.signal, running.transport!);
    return 0;
  } catch (error) {
    return failed(error, stop.signal, options.io);
  } finally {
    // Signals stay handled while answers drain: a second one ends the wait
    // on purpose, instead of killing the process with the default action.
    await shutdown(running, options.io.env);
    removeSignals();
    log.info("Stopped");
  }
}

/** The key of the encryption store at rest, when E2EE is on (a warning when there is none). */
async function storeKey(config: Config, env: Env, store: Store): Promise<Uint8Array | undefined> {
  const storageKey = config.matrix.e2e
    ? await loadStoreKey(env.INFINIGPT_STORE_KEY, config.matrix.store_key_file)
    : undefined;
  if (config.matrix.e2e && !storageKey) {
    log.warn(
      `No store key: the encryption keys in ${
        store.path("crypto.db")
      } are not encrypted at rest. ` +
        "Set INFINIGPT_STORE_KEY or matrix.store_key_file (32 bytes, e.g. openssl rand -hex 32) before the first start.",
    );
  }
  if (env.INFINIGPT_STORE_KEY) registerSecret(env.INFINIGPT_STORE_KEY);
  return storageKey;
}

/**
 * Starts everything, in order, recording each part in `running`; resolves
 * `undefined` when the stop came first. Every wait ends the moment a stop
 * signal comes (decision 33); {@link shutdown} then stops what is running.
 */
async function start(
  running: Running,
  options: RunOptions,
  signal: AbortSignal,
): Promise<Started | undefined> {
  const { config } = options.loaded;
  const { store } = running;
  const { env } = options.io;
  if (config.metrics.listen) {
    // Up before the session and the first sync, so /healthz says why it is not healthy yet.
    running.metricsServer = serveMetrics(config.metrics.listen);
  }
  const storageKey = await storeKey(config, env, store);
  const journal = running.journal = IdbJournal.open(store.path("crypto.db"));
  const restored = await journal.restore();
  journal.install();
  log.debug(
    `Encryption store restored: ${restored.databases} databases, ${restored.records} records`,
  );
  const recovery = config.matrix.e2e
    ? await recoverySettings(config, env, store, restored.databases === 0)
    : undefined;
  const session = await ensureSession({ config, store, signal });
  if (signal.aborted) return undefined;
  const transport = running.transport = await MatrixTransport.create({
    ...transportSettings(config),
    session,
    inbox: new SqliteInboxStore(store.db),
    storageKey,
    recovery,
    debug: options.debug,
  });
  metrics.watchSync(() => transport.syncStatus());
  const allowedRooms = config.matrix.allowed_rooms
    ? await untilStopped(transport.resolveRooms(config.matrix.allowed_rooms), signal)
    : undefined;
  const app = await createBot({
    config,
    store,
    port: transport,
    env,
    verbose: options.verbose,
    allowedRooms,
    timings: env.INFINIGPT_TIMINGS === "1",
    signal,
  });
  running.closeApp = () => app.close(10_000);
  metrics.watchMcp(() => app.mcp?.status() ?? []);
  if (signal.aborted) return undefined;
  // The first sync may never come (homeserver gone, a sync that keeps
  // failing): the wait for it, and the joins after it, end with the stop.
  const joins = await untilStopped(transport.start((message) => app.bot.handle(message)), signal);
  return { session, app, joins };
}

/** The recovery key (masked in the log from now on) and what the transport needs with it. */
async function recoverySettings(config: Config, env: Env, store: Store, freshStore: boolean) {
  const keyFile = store.path(RECOVERY_KEY_FILE);
  const key = await loadRecoveryKey({
    env: env.INFINIGPT_RECOVERY_KEY,
    config: config.matrix.recovery_key,
    file: config.matrix.recovery_key_file,
    storeFile: keyFile,
  });
  if (key) maskRecoveryKey(key.bytes);
  return { key, reset: config.matrix.recovery_reset, keyFile, freshStore };
}

/** The `matrix` settings the transport uses. */
function transportSettings(config: Config) {
  const m = config.matrix;
  return {
    e2e: m.e2e,
    markdown: config.markdown,
    channels: m.channels,
    admins: m.admins,
    allowedUsers: m.allowed_users,
    catchUpSeconds: m.catch_up_seconds,
    decryptWaitSeconds: m.decrypt_wait_seconds,
    acceptVerificationFrom: m.verification.accept_from,
    password: m.password,
  };
}

function logReady({ session, app, joins }: Started, e2e: boolean, ms: number): void {
  const rooms = joins.map((j) => (j.error ? `${j.room} (failed: ${j.error})` : j.room)).join(
    ", ",
  );
  const { mcp, builtin } = app.tools.counts();
  log.info(
    `Ready in ${ms} ms: ${session.user_id} (device ${session.device_id}), E2EE ${
      e2e ? "on" : "off"
    }, model ${
      app.settings.get("model")
    }, ${app.tools.size} tools (${mcp} MCP, ${builtin} builtin)` +
      `, tools ${app.settings.get("tools") ? "on" : "off"}, rooms joined: ${
        rooms || "(none configured)"
      }`,
  );
}

/** Waits for the stop; SIGUSR1 logs the transport's figures meanwhile. */
async function untilStop(signal: AbortSignal, transport: MatrixTransport): Promise<void> {
  const onStats = () => log.info(`Stats: ${transport.stats()}`);
  try {
    Deno.addSignalListener("SIGUSR1", onStats);
    signal.addEventListener("abort", () => Deno.removeSignalListener("SIGUSR1", onStats));
  } catch {
    // No SIGUSR1 on Windows.
  }
  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

/** The exit code for a start that failed, told to the operator in one line. */
function failed(error: unknown, signal: AbortSignal, io: CliIo): number {
  if (signal.aborted && !(error instanceof SessionError)) return 0;
  if (error instanceof RecoveryKeyError) {
    io.stderr(error.message + "\n");
    log.error(error.message);
    return error.exitCode;
  }
  if (error instanceof SessionError || error instanceof StoreKeyError) {
    io.stderr(error.message + "\n");
    log.error(error.message);
    return 1;
  }
  // One clear line for the operator; the stack only at debug level.
  log.error(`Could not start: ${(error as Error).message}`);
  log.debug(`Could not start: ${(error as Error).stack ?? error}`);
  io.stderr(`Could not start: ${(error as Error).message}\n`);
  return 1;
}

/** Stops what was started, in reverse: answers in progress, the transport, the journal, the store. */
async function shutdown(running: Running, env: Env): Promise<void> {
  const { journal } = running;
  await running.closeApp?.().catch((e) => log.warn(`Stopping the bot: ${(e as Error).message}`));
  await running.transport?.stop();
  if (journal && env.INFINIGPT_JOURNAL_CHECK === "1") {
    // The tests' proof that the SQLite mirror equals the live IndexedDB.
    // Loaded only when asked; the literal specifier keeps it in the
    // compiled binary, which the binary e2e test checks the same way.
    await import("./crypto_journal_check.ts")
      .then((check) => check.logJournalCheck(journal))
      .catch((e) => log.error(`Journal self-check: could not run: ${(e as Error).message}`));
  }
  journal?.close();
  running.store.close();
  metrics.watchSync(undefined);
  metrics.watchMcp(undefined);
  await running.metricsServer?.close();
}
