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
import { createBot } from "./app.ts";
import type { CliIo } from "./cli.ts";
import type { LoadedConfig } from "./config.ts";
import { IdbJournal } from "./crypto_journal.ts";
import { getLogger, registerSecret } from "./log.ts";
import { MatrixTransport } from "./matrix.ts";
import { ensureSession, SessionError } from "./session.ts";
import { Store, StoreError } from "./store.ts";
import { loadStoreKey, StoreKeyError } from "./store_key.ts";
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

/** Runs the Matrix bot until it is told to stop; resolves with the exit code. */
export async function runMatrix(options: RunOptions): Promise<number> {
  const started = performance.now();
  const { config } = options.loaded;
  const stop = new AbortController();
  if (options.signal?.aborted) stop.abort();
  options.signal?.addEventListener("abort", () => stop.abort(), { once: true });
  let firstSignalAt = 0;
  // `options.signal` may be aborted by the same signal just before this
  // handler runs (cli.ts listens from before run.ts is loaded): only a
  // signal this handler saw before counts as the first.
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

  let journal: IdbJournal | undefined;
  let transport: MatrixTransport | undefined;
  let closeApp: (() => Promise<void>) | undefined;
  try {
    const storageKey = config.matrix.e2e
      ? await loadStoreKey(options.io.env.INFINIGPT_STORE_KEY, config.matrix.store_key_file)
      : undefined;
    if (config.matrix.e2e && !storageKey) {
      log.warn(
        `No store key: the encryption keys in ${
          store.path("crypto.db")
        } are not encrypted at rest. ` +
          "Set INFINIGPT_STORE_KEY or matrix.store_key_file (32 bytes, e.g. openssl rand -hex 32) before the first start.",
      );
    }
    if (options.io.env.INFINIGPT_STORE_KEY) registerSecret(options.io.env.INFINIGPT_STORE_KEY);
    journal = IdbJournal.open(store.path("crypto.db"));
    const restored = await journal.restore();
    journal.install();
    log.debug(
      `Encryption store restored: ${restored.databases} databases, ${restored.records} records`,
    );

    // Every wait below ends the moment a stop signal comes (decision 33);
    // the finally block then stops what is still running.
    const session = await ensureSession({ config, store, signal: stop.signal });
    if (stop.signal.aborted) return 0;
    transport = await MatrixTransport.create({
      config,
      store,
      session,
      storageKey,
      debug: options.debug,
    });
    const allowedRooms = config.matrix.allowed_rooms
      ? await untilStopped(transport.resolveRooms(config.matrix.allowed_rooms), stop.signal)
      : undefined;
    const app = await createBot({
      config,
      store,
      port: transport,
      env: options.io.env,
      verbose: options.verbose,
      allowedRooms,
      timings: options.io.env.INFINIGPT_TIMINGS === "1",
      signal: stop.signal,
    });
    closeApp = () => app.close(10_000);
    if (stop.signal.aborted) return 0;
    // The first sync may never come (homeserver gone, a sync that keeps
    // failing): the wait for it, and the joins after it, end with the stop.
    const joins = await untilStopped(
      transport.start((message) => app.bot.handle(message)),
      stop.signal,
    );
    const ms = Math.round(performance.now() - started);
    const rooms = joins.map((j) => (j.error ? `${j.room} (failed: ${j.error})` : j.room)).join(
      ", ",
    );
    const { mcp, builtin } = app.tools.counts();
    log.info(
      `Ready in ${ms} ms: ${session.user_id} (device ${session.device_id}), E2EE ${
        config.matrix.e2e ? "on" : "off"
      }, model ${
        app.settings.get("model")
      }, ${app.tools.size} tools (${mcp} MCP, ${builtin} builtin)` +
        `, tools ${app.settings.get("tools") ? "on" : "off"}, rooms joined: ${
          rooms || "(none configured)"
        }`,
    );
    options.onReady?.({ ms });
    const onStats = () => log.info(`Stats: ${transport!.stats()}`);
    try {
      Deno.addSignalListener("SIGUSR1", onStats);
      stop.signal.addEventListener("abort", () => Deno.removeSignalListener("SIGUSR1", onStats));
    } catch {
      // No SIGUSR1 on Windows.
    }
    await new Promise<void>((resolve) => {
      if (stop.signal.aborted) resolve();
      stop.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    return 0;
  } catch (error) {
    if (stop.signal.aborted && !(error instanceof SessionError)) return 0;
    if (error instanceof SessionError || error instanceof StoreKeyError) {
      options.io.stderr(error.message + "\n");
      log.error(error.message);
      return 1;
    }
    // One clear line for the operator; the stack only at debug level.
    log.error(`Could not start: ${(error as Error).message}`);
    log.debug(`Could not start: ${(error as Error).stack ?? error}`);
    options.io.stderr(`Could not start: ${(error as Error).message}\n`);
    return 1;
  } finally {
    // Signals stay handled while answers drain: a second one ends the wait
    // on purpose, instead of killing the process with the default action.
    await closeApp?.().catch((e) => log.warn(`Stopping the bot: ${(e as Error).message}`));
    await transport?.stop();
    if (journal && options.io.env.INFINIGPT_JOURNAL_CHECK === "1") {
      // The tests' proof that the SQLite mirror equals the live IndexedDB.
      // Loaded only when asked; the literal specifier keeps it in the
      // compiled binary, which the binary e2e test checks the same way.
      const checked = journal;
      await import("./crypto_journal_check.ts")
        .then((check) => check.logJournalCheck(checked))
        .catch((e) => log.error(`Journal self-check: could not run: ${(e as Error).message}`));
    }
    journal?.close();
    store.close();
    removeSignals();
    log.info("Stopped");
  }
}
