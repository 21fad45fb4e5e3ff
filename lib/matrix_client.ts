/**
 * The matrix-js-sdk client of the bot's session: built on the (already
 * restored) IndexedDB, with Rust crypto when E2EE is on; every request but
 * the sync long-poll timed out; one send queue per room; the SDK's log lines
 * in our log; the sync position saved only while what it covers is safe in
 * the inbox; and what goes wrong with the sync or the session said once.
 *
 * @module
 */
import loglevel from "loglevel";
import * as sdk from "matrix-js-sdk";
import { describeHomeserverError, HOMESERVER_TIMEOUT_MS, sentence } from "./homeserver.ts";
import { getLogger } from "./log.ts";
import { fetchWithTimeout } from "./matrix_discovery.ts";
import type { Session } from "./matrix_session.ts";

const log = getLogger("matrix");
const sdkLog = getLogger("sdk");

/**
 * Timeline events per room per sync. Synapse's default (10) would skip the
 * older messages of a burst, e.g. everything sent while the bot restarted.
 */
export const SYNC_TIMELINE_LIMIT = 200;

/**
 * How often the sync position is saved (and at shutdown). It may trail: the
 * inbox holds every event received and the handled marks stop a redelivered
 * one from being answered twice, so an older position only means a few
 * events are received again. Saving at every sync would rewrite the whole
 * sync cache each time (measured: hundreds of MB of garbage per 100 messages);
 * a long interval lets the position fall far behind when the bot restarts
 * often (a crash loop), and everything is replayed from there.
 */
export const SYNC_SAVE_INTERVAL_MS = 2_000;

/**
 * Sends the SDK's log lines (it logs through `loglevel`, the same instance)
 * to our logger at debug level, so they are formatted and redacted like ours
 * and stay out of the way unless asked for.
 */
export function routeSdkLogs(debug: boolean): void {
  type Factory = (method: string) => (...args: unknown[]) => void;
  const factory: Factory = (method) => (...args) => {
    if (!debug && method !== "error" && method !== "warn") return;
    sdkLog.debug(
      args.map((a) => (a instanceof Error ? a.message : typeof a === "string" ? a : String(a)))
        .join(" "),
    );
  };
  const root = loglevel as unknown as {
    methodFactory: Factory;
    getLoggers(): Record<string, { methodFactory: Factory; rebuild(): void }>;
    rebuild(): void;
  };
  root.methodFactory = factory;
  for (const child of Object.values(root.getLoggers())) child.methodFactory = factory;
  root.rebuild();
}

/** An event id the homeserver assigned (local echoes have `~` ids). */
export function realId(id: string | undefined): string | undefined {
  return id && !id.startsWith("~") ? id : undefined;
}

/**
 * The send queue of an event: one FIFO per room for messages and events that
 * point at another (edits, redactions), so they keep their order where it
 * matters; other events go at once. The SDK's default is one queue for every
 * room: twenty replies in ten rooms went out one after another, and one
 * send that failed for good failed every message queued behind it.
 */
export function sendQueueFor(event: sdk.MatrixEvent): string | null {
  const queue = sdk.MatrixScheduler.QUEUE_MESSAGES(event);
  return queue ? `${queue}:${event.getRoomId()}` : null;
}

/**
 * The SDK's scheduler, with one fix: an event whose remote echo arrived
 * before its turn to be sent (a resend after a crash, with the transaction id
 * of an attempt that reached the homeserver) counts as sent. The SDK's own
 * process function throws on it ("not a local echo"), retries for about 30 s
 * and then fails every event queued behind it in that room.
 */
export class EchoAwareScheduler extends sdk.MatrixScheduler {
  /** A scheduler with a send queue per room ({@link sendQueueFor}). */
  constructor() {
    super(undefined, sendQueueFor);
  }

  /** Wraps the SDK's process function: an event already echoed is not sent again. */
  override setProcessFunction(
    fn: (event: sdk.MatrixEvent) => Promise<sdk.ISendEventResponse>,
  ): void {
    super.setProcessFunction((event) => {
      const id = realId(event.getId());
      if (event.status === null && id) return Promise.resolve({ event_id: id });
      return fn(event);
    });
  }
}

/**
 * When the sync position is saved: after a sync from the homeserver was
 * processed (its events are in the inbox by then), at most every
 * {@link SYNC_SAVE_INTERVAL_MS}, never while something is held back, and at
 * the stop.
 */
export class SyncPosition {
  readonly #store: sdk.IndexedDBStore;
  #held: () => boolean = () => false;
  #dirty = false;
  #lastSave = 0;

  /** The position kept in `store`. */
  constructor(store: sdk.IndexedDBStore) {
    this.#store = store;
  }

  /** No saving while `held()` says so (events received but not in the inbox yet). */
  holdWhile(held: () => boolean): void {
    this.#held = held;
  }

  /** Marks the position worth saving after each sync from the homeserver. */
  watch(client: sdk.MatrixClient): void {
    client.on(sdk.ClientEvent.Sync, (state, _previous, data) => {
      // The replay of the saved cache is not news: saving it again would pin
      // the saved position where it was.
      if ((state === "SYNCING" || state === "PREPARED") && !data?.fromCache) this.#dirty = true;
    });
  }

  /** Before a sync request: saves the position when it is due. */
  async beforeSync(): Promise<void> {
    if (this.#held()) return;
    if (!this.#dirty || Date.now() - this.#lastSave < SYNC_SAVE_INTERVAL_MS) return;
    this.#dirty = false;
    this.#lastSave = Date.now();
    await this.#store.save(true);
  }

  /** Saves now (at the stop). */
  save(): Promise<void> {
    return this.#store.save(true);
  }
}

/** Options for {@link createSessionClient}. */
export interface SessionClientOptions {
  /** The bot's session (homeserver, user, device, token). */
  session: Session;
  /** Set up Rust crypto (`matrix.e2e`). */
  e2e: boolean;
  /** 32-byte key encrypting the crypto store at rest. */
  storageKey?: Uint8Array;
  /** Replaces global fetch (tests). */
  fetch?: typeof fetch;
  /** Timeout of every request but the sync long-poll (default {@link HOMESERVER_TIMEOUT_MS}). */
  timeoutMs?: number;
  /** The SDK's crypto callbacks (the secret storage key, matrix_recovery.ts). */
  cryptoCallbacks?: sdk.ICreateClientOpts["cryptoCallbacks"];
  /** The sync store failed (the client is stopped): nothing more can be kept. */
  onStoreFailed(): void;
}

/** The client and what belongs to it. */
export interface SessionClient {
  /** The matrix-js-sdk client. */
  client: sdk.MatrixClient;
  /** Where the sync position is kept, and when it is saved. */
  sync: SyncPosition;
  /** The last network error of a request: the SDK's `ConnectionError` keeps only "fetch failed". */
  lastFetchError(): unknown;
}

const SYNC_PATH = /\/_matrix\/client\/v3\/sync\b/;

function urlOf(input: RequestInfo | URL): string {
  return typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
}

/**
 * Builds the client on the (already restored) IndexedDB and initialises
 * Rust crypto when E2EE is on.
 */
export async function createSessionClient(options: SessionClientOptions): Promise<SessionClient> {
  const syncStore = new sdk.IndexedDBStore({
    indexedDB: globalThis.indexedDB,
    dbName: "infinigpt-sync",
  });
  const sync = new SyncPosition(syncStore);
  let lastFetchError: unknown;
  // The timeout is ours, not the SDK's `localTimeoutMs`: the SDK sets its
  // own per request where it cares (60 s for crypto requests, none for
  // media), and its timeout aborts with an AbortError it does not retry.
  const baseFetch = fetchWithTimeout(
    options.fetch ?? fetch,
    options.timeoutMs ?? HOMESERVER_TIMEOUT_MS,
    (url) => SYNC_PATH.test(url),
  );
  const { session } = options;
  const client = sdk.createClient({
    baseUrl: session.homeserver,
    userId: session.user_id,
    deviceId: session.device_id,
    accessToken: session.access_token,
    store: syncStore,
    scheduler: new EchoAwareScheduler(),
    verificationMethods: ["m.sas.v1"],
    cryptoCallbacks: options.cryptoCallbacks,
    // Persist the sync position only after the events it covers are in the inbox.
    fetchFn: async (input: RequestInfo | URL, init?: RequestInit) => {
      if (SYNC_PATH.test(urlOf(input))) await sync.beforeSync();
      try {
        return await baseFetch(input, init);
      } catch (error) {
        // The cause (refused, DNS, TLS, timeout) is in this error.
        lastFetchError = error;
        throw error;
      }
    },
  });
  // The SDK wants the store attached to its client before it loads saved data.
  await syncStore.startup();
  syncStore.on("degraded", (error: unknown) => {
    log.fatal(
      `The sync store failed (${(error as Error)?.message}); stopping to avoid losing messages`,
    );
    options.onStoreFailed();
    client.stopClient();
  });
  if (options.e2e) await initCrypto(client, options.storageKey);
  return { client, sync, lastFetchError: () => lastFetchError };
}

async function initCrypto(client: sdk.MatrixClient, storageKey?: Uint8Array): Promise<void> {
  try {
    await client.initRustCrypto({ cryptoDatabasePrefix: "infinigpt", storageKey });
  } catch (error) {
    const message = (error as Error).message;
    if (/decrypt|unpickl|cipher/i.test(message)) {
      throw new Error(
        "The encryption store cannot be opened with the given store key (INFINIGPT_STORE_KEY or " +
          "matrix.store_key_file): the key is wrong, missing, or was added after the store was created. " +
          `(${message})`,
      );
    }
    throw error;
  }
}

/**
 * Says why the sync fails, once per distinct reason (the SDK retries every
 * few seconds), and when it works again; stops when the homeserver ends the
 * session.
 */
export function watchSyncHealth(
  client: sdk.MatrixClient,
  options: {
    lastFetchError(): unknown;
    stop: AbortController;
    /** Each sync's outcome: `undefined` when it worked, else why it failed (health, metrics). */
    onOutcome?(failure: string | undefined): void;
  },
): void {
  const { stop } = options;
  let failure: string | undefined;
  client.on(sdk.ClientEvent.Sync, (state, _previous, data) => {
    if ((state === "ERROR" || state === "RECONNECTING") && !stop.signal.aborted) {
      const fetchError = options.lastFetchError();
      const error = data?.error?.name === "ConnectionError" && fetchError
        ? fetchError
        : data?.error;
      const reason = error ? describeHomeserverError(error, client.baseUrl) : "no reason given";
      if (reason !== failure) {
        log.warn(`Sync failed: ${sentence(reason)} Retrying with backoff.`);
        failure = reason;
      }
      options.onOutcome?.(reason);
    }
    if (state === "SYNCING" || state === "PREPARED") options.onOutcome?.(undefined);
    if ((state === "SYNCING" || state === "PREPARED") && failure !== undefined) {
      log.info("Sync works again");
      failure = undefined;
    }
  });
  client.on(sdk.HttpApiEvent.SessionLoggedOut, () => {
    log.fatal("The homeserver ended this session (token revoked or device deleted); stopping");
    stop.abort();
  });
}

/** Starts syncing: live events up to {@link SYNC_TIMELINE_LIMIT} per room; a small initial sync. */
export async function startSyncing(client: sdk.MatrixClient, userId: string): Promise<void> {
  const filter = new sdk.Filter(userId);
  filter.setDefinition({ room: { timeline: { limit: SYNC_TIMELINE_LIMIT } } });
  // The initial sync (history, never answered) stays small.
  await client.startClient({ initialSyncLimit: 1, lazyLoadMembers: false, filter });
}

/** Resolves when the first sync (from the cache or the homeserver) has been processed. */
export function firstSync(client: sdk.MatrixClient): Promise<void> {
  return new Promise<void>((resolve) => {
    const onSync = (state: string) => {
      if (state === "PREPARED") {
        client.off(sdk.ClientEvent.Sync, onSync);
        resolve();
      }
    };
    client.on(sdk.ClientEvent.Sync, onSync);
  });
}
