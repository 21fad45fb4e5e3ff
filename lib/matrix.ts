/**
 * The Matrix transport: a matrix-js-sdk client with Rust crypto on a durable
 * store, turned into a {@link ChatPort} for the core.
 *
 * Incoming: only live events after the first sync, never our own, never from
 * before the bot's own join event in the room (joins.ts); after a restart,
 * what the first sync catches up on (and the inbox kept) only within
 * `matrix.catch_up_seconds` (catch_up.ts). Each is written to the durable
 * inbox the moment sync delivers it, decrypted (waiting for late keys),
 * filtered to `m.text`, handed to the bot, and marked handled after the reply.
 * Outgoing: Markdown body + sanitized HTML, threads kept, long replies split,
 * edits with `m.replace`, media encrypted in encrypted rooms, transaction ids
 * derived from the triggering event so a resend after a crash is dropped by
 * the homeserver.
 *
 * @module
 */
import loglevel from "loglevel";
import * as sdk from "matrix-js-sdk";
import { encryptAttachment, imageSize } from "./attachments.ts";
import { catchUpVerdict, eventAgeMs, skippedLine } from "./catch_up.ts";
import type { ChatPort, ImageOptions, IncomingMessage, OutgoingMessage } from "./chat_port.ts";
import type { Config } from "./config.ts";
import { fetchWithTimeout } from "./discovery.ts";
import { describeHomeserverError, HOMESERVER_TIMEOUT_MS, sentence } from "./homeserver.ts";
import { Inbox, type InboxEntry } from "./inbox.ts";
import { answerInvite, JoinBoundary } from "./joins.ts";
import { getLogger } from "./log.ts";
import { renderMarkdown } from "./markdown.ts";
import { isRoomId } from "./room_ref.ts";
import type { Session } from "./session.ts";
import { splitMarkdown } from "./split.ts";
import type { Store } from "./store.ts";
import type { ToolImage } from "./tools/registry.ts";
import { setupVerification } from "./verification.ts";

const log = getLogger("matrix");
const sdkLog = getLogger("sdk");

/** Largest Markdown part per event: body + HTML + encryption stay below the 64 KiB limit. */
export const MAX_PART_BYTES = 16_000;

/** An edit carries its text twice (fallback and `m.new_content`), so it gets half. */
export const EDIT_PART_BYTES = MAX_PART_BYTES / 2;

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
 * Events a room's in-memory timeline may hold before it is dropped (the bot
 * never looks back): memory per room then stays within this many events and
 * their relations (measured: 1,000 exchanges added 8 MB when 300 were kept
 * and relations were never dropped; `bench/growth.ts`).
 */
export const TIMELINE_KEEP = 50;

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
function realId(id: string | undefined): string | undefined {
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
  constructor() {
    super(undefined, sendQueueFor);
  }

  override setProcessFunction(fn: (event: sdk.MatrixEvent) => Promise<sdk.ISendEventResponse>) {
    super.setProcessFunction((event) => {
      const id = realId(event.getId());
      if (event.status === null && id) return Promise.resolve({ event_id: id });
      return fn(event);
    });
  }
}

/** A stable transaction id for a key (the event id + a suffix). */
export async function txnIdFor(key: string): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key)),
  );
  return "ig" + [...digest.slice(0, 12)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Removes a reply fallback (`> <@user:hs> ...` quoted lines, then a blank
 * line) from a body. A body that merely starts with a quote is kept.
 */
export function stripReplyFallback(body: string): string {
  if (!/^> <[@*]?[^>\n]*> /.test(body)) return body;
  const lines = body.split("\n");
  let i = 0;
  while (i < lines.length && lines[i].startsWith(">")) i++;
  if (i === 0) return body;
  if (i < lines.length && lines[i].trim() === "") i++;
  return lines.slice(i).join("\n");
}

/** What the bot needs of a decrypted room message, or why it is skipped. Pure. */
export function toIncoming(
  room: string,
  event: {
    event_id?: unknown;
    sender?: unknown;
    type?: unknown;
    origin_server_ts?: unknown;
    content?: unknown;
  },
): IncomingMessage | string {
  if (event.type !== "m.room.message") return `type ${String(event.type)}`;
  const content = event.content;
  if (!content || typeof content !== "object") return "no content";
  const c = content as Record<string, unknown>;
  if (c.msgtype !== "m.text") return `msgtype ${String(c.msgtype)}`;
  if (typeof c.body !== "string") return "body is not a string";
  if (typeof event.sender !== "string" || typeof event.event_id !== "string") {
    return "no sender or id";
  }
  const relates = c["m.relates_to"] && typeof c["m.relates_to"] === "object"
    ? c["m.relates_to"] as Record<string, unknown>
    : undefined;
  if (relates?.rel_type === "m.replace" || c["m.new_content"]) return "an edit";
  const inReplyTo = relates?.["m.in_reply_to"];
  const threadId = relates?.rel_type === "m.thread" && typeof relates.event_id === "string"
    ? relates.event_id
    : undefined;
  const mentionsRaw = (c["m.mentions"] as { user_ids?: unknown } | undefined)?.user_ids;
  const mentions = Array.isArray(mentionsRaw)
    ? mentionsRaw.filter((m) => typeof m === "string")
    : undefined;
  // A reply in a thread quotes nothing; a classic reply may carry a fallback.
  const body = inReplyTo && !threadId ? stripReplyFallback(c.body) : c.body;
  return {
    room,
    sender: event.sender,
    body,
    eventId: event.event_id,
    threadId,
    mentions,
    ts: typeof event.origin_server_ts === "number" ? event.origin_server_ts : undefined,
  };
}

/** Options for {@link MatrixTransport.create}. */
export interface MatrixTransportOptions {
  config: Config;
  store: Store;
  session: Session;
  /** 32-byte key encrypting the crypto store at rest. */
  storageKey?: Uint8Array;
  fetch?: typeof fetch;
  /** Debug logging from the SDK. */
  debug?: boolean;
  /** Timeout of every request but the sync long-poll (default {@link HOMESERVER_TIMEOUT_MS}). */
  timeoutMs?: number;
}

const SYNC_PATH = /\/_matrix\/client\/v3\/sync\b/;

/** How a room of `matrix.channels` fared at start. */
export interface JoinResult {
  room: string;
  roomId?: string;
  error?: string;
}

/** Handles one message; resolves true when it may be marked handled. */
export type MessageHandler = (message: IncomingMessage) => Promise<boolean>;

/** The Matrix client as a chat port. */
export class MatrixTransport implements ChatPort {
  readonly userId: string;
  readonly client: sdk.MatrixClient;
  readonly #options: MatrixTransportOptions;
  readonly #syncStore: sdk.IndexedDBStore;
  readonly #inbox: Inbox;
  readonly #startedAt = Date.now();
  readonly #inflight = new Set<Promise<void>>();
  /** Messages in progress per room: a room's timeline is not trimmed under them. */
  readonly #busy = new Map<string, number>();
  readonly #profiles = new Map<string, { name: string; at: number }>();
  readonly #joins = new JoinBoundary();
  /**
   * Rooms joined and not left since: this process's joins count at once,
   * before their sync arrives, so a stale invite to one is never declined.
   */
  readonly #joinedHere = new Set<string>();
  /** Room IDs of `matrix.channels` (aliases resolved). */
  readonly #channelIds = new Set<string>();
  readonly #channelAliases = new Map<string, string>();
  /** Invites answered (room + invite event), so one is answered once. */
  readonly #invitesAnswered = new Set<string>();
  /** Until the first sync from the homeserver after the start is processed. */
  #catchingUp = true;
  #inboxCaughtUp = false;
  #skipped = 0;
  /** Invites wait until the channels are joined: a channel's invite is accepted from anyone. */
  #answeringInvites = false;
  #name: string;
  #handler?: MessageHandler;
  #prepared = false;
  #stopping = false;
  #dirty = false;
  #lastSave = 0;
  #trimming = false;
  #stopVerification?: () => void;
  /** The last network error of a request, for the sync error's reason. */
  #lastFetchError?: unknown;

  private constructor(
    options: MatrixTransportOptions,
    client: sdk.MatrixClient,
    syncStore: sdk.IndexedDBStore,
  ) {
    this.#options = options;
    this.client = client;
    this.#syncStore = syncStore;
    this.userId = options.session.user_id;
    this.#name = localpart(this.userId);
    this.#inbox = new Inbox(options.store.db);
  }

  /**
   * Builds the client on the (already restored) IndexedDB and initialises
   * Rust crypto when E2EE is on.
   */
  static async create(options: MatrixTransportOptions): Promise<MatrixTransport> {
    routeSdkLogs(!!options.debug);
    const syncStore = new sdk.IndexedDBStore({
      indexedDB: globalThis.indexedDB,
      dbName: "infinigpt-sync",
    });
    // The fetch wrapper needs the transport, which needs the client.
    const ref: { transport?: MatrixTransport } = {};
    // The timeout is ours, not the SDK's `localTimeoutMs`: the SDK sets its
    // own per request where it cares (60 s for crypto requests, none for
    // media), and its timeout aborts with an AbortError it does not retry.
    const baseFetch = fetchWithTimeout(
      options.fetch ?? fetch,
      options.timeoutMs ?? HOMESERVER_TIMEOUT_MS,
      (url) => SYNC_PATH.test(url),
    );
    const client = sdk.createClient({
      baseUrl: options.session.homeserver,
      userId: options.session.user_id,
      deviceId: options.session.device_id,
      accessToken: options.session.access_token,
      store: syncStore,
      scheduler: new EchoAwareScheduler(),
      verificationMethods: ["m.sas.v1"],
      // Persist the sync position only after the events it covers are in the inbox.
      fetchFn: async (input: RequestInfo | URL, init?: RequestInit) => {
        const url = typeof input === "string"
          ? input
          : input instanceof URL
          ? input.href
          : input.url;
        if (ref.transport && SYNC_PATH.test(url)) {
          await ref.transport.#beforeSync();
        }
        try {
          return await baseFetch(input, init);
        } catch (error) {
          // The SDK's ConnectionError keeps only "fetch failed"; the cause
          // (refused, DNS, TLS, timeout) is in this error.
          if (ref.transport) ref.transport.#lastFetchError = error;
          throw error;
        }
      },
    });
    // The SDK wants the store attached to its client before it loads saved data.
    await syncStore.startup();
    const transport = new MatrixTransport(options, client, syncStore);
    ref.transport = transport;
    syncStore.on("degraded", (error: unknown) => {
      log.fatal(
        `The sync store failed (${(error as Error)?.message}); stopping to avoid losing messages`,
      );
      transport.#stopping = true;
      client.stopClient();
    });
    if (options.config.matrix.e2e) {
      try {
        await client.initRustCrypto({
          cryptoDatabasePrefix: "infinigpt",
          storageKey: options.storageKey,
        });
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
    return transport;
  }

  async #beforeSync(): Promise<void> {
    if (!this.#dirty || Date.now() - this.#lastSave < SYNC_SAVE_INTERVAL_MS) return;
    this.#dirty = false;
    this.#lastSave = Date.now();
    await this.#syncStore.save(true);
  }

  // Drops old events from the in-memory timelines of rooms where nothing is
  // in progress (pending sends and their echoes live in the timeline), and
  // the room's relations with them: the SDK keeps every event's relations
  // (an edit per answer) for the room's life, beyond any timeline reset.
  #trimTimelines(): void {
    for (const room of this.client.getRooms()) {
      if (this.#busy.has(room.roomId)) continue;
      const events = room.getLiveTimeline().getEvents();
      // A local echo still being sent has a status; keep its timeline.
      if (events.length <= TIMELINE_KEEP || events.some((e) => e.status !== null)) continue;
      this.#trimming = true;
      try {
        const token = room.getLiveTimeline().getPaginationToken(sdk.Direction.Backward);
        room.resetLiveTimeline(token ?? undefined, undefined);
        // The container is shared with the room's timeline sets: emptied in place.
        (room.relations as unknown as { relations: Map<string, unknown> }).relations.clear();
      } catch (error) {
        log.debug(`Could not trim the timeline of ${room.roomId}: ${(error as Error).message}`);
      } finally {
        this.#trimming = false;
      }
    }
  }

  /** The bot's display name (mention form, `.reset`). */
  botName(): string {
    return this.#name;
  }

  /**
   * Starts syncing, waits for the first sync, sets up cross-signing, joins
   * `matrix.channels`, answers pending invites, then hands live messages (and
   * any left in the inbox from before a crash) to `handler`.
   */
  async start(handler: MessageHandler): Promise<JoinResult[]> {
    this.#handler = handler;
    const { client } = this;
    const { config } = this.#options;
    let syncFailure: string | undefined;
    client.on(sdk.ClientEvent.Sync, (state, _previous, data) => {
      // The replay of the saved cache is not news: saving it again would pin
      // the saved position where it was.
      if ((state === "SYNCING" || state === "PREPARED") && !data?.fromCache) this.#dirty = true;
      if ((state === "ERROR" || state === "RECONNECTING") && !this.#stopping) {
        // Once per distinct reason: the SDK retries every few seconds.
        const error = data?.error?.name === "ConnectionError" && this.#lastFetchError
          ? this.#lastFetchError
          : data?.error;
        const reason = error ? describeHomeserverError(error, client.baseUrl) : "no reason given";
        if (reason !== syncFailure) {
          log.warn(`Sync failed: ${sentence(reason)} Retrying with backoff.`);
          syncFailure = reason;
        }
      }
      if ((state === "SYNCING" || state === "PREPARED") && syncFailure !== undefined) {
        log.info("Sync works again");
        syncFailure = undefined;
      }
    });
    client.on(sdk.HttpApiEvent.SessionLoggedOut, () => {
      log.fatal("The homeserver ended this session (token revoked or device deleted); stopping");
      this.#stopping = true;
    });
    client.on(sdk.RoomEvent.Timeline, (event, room, toStart, removed, data) => {
      if (toStart || removed || !data?.liveEvent || !room) return;
      // In timeline order: without thread support in the client, thread
      // replies are in the room's timeline too, in the server's order.
      if (event.getType() === "m.room.member" && event.getStateKey() === this.userId) {
        const membership = event.getContent().membership;
        this.#joins.ownMembership(room.roomId, membership);
        // Kicked or left: a new invite to the room is a real one again.
        if (membership === "leave" || membership === "ban") this.#joinedHere.delete(room.roomId);
      }
      if (!this.#prepared) return;
      try {
        this.#accept(event, room.roomId);
      } catch (error) {
        log.error(`Could not queue event ${event.getId()}: ${(error as Error).message}`);
      }
    });
    if (config.matrix.e2e) {
      this.#stopVerification = setupVerification({
        client,
        acceptFrom: config.matrix.verification.accept_from,
        admins: config.matrix.admins,
        startedAt: this.#startedAt,
        seen: (txn) => this.#inbox.verificationSeen(txn),
        markSeen: (txn) => this.#inbox.markVerification(txn),
      });
    }
    const prepared = new Promise<void>((resolve) => {
      const onSync = (state: string) => {
        if (state === "PREPARED") {
          client.off(sdk.ClientEvent.Sync, onSync);
          resolve();
        }
      };
      client.on(sdk.ClientEvent.Sync, onSync);
    });
    // Rooms joined before the current sync: a reset in a room just joined is not a gap.
    let joinedBefore = new Set<string>();
    // Runs when a sync has been processed: its events were all emitted before.
    client.on(sdk.ClientEvent.Sync, (state, _previous, data) => {
      if (state !== "PREPARED" && state !== "SYNCING") return;
      joinedBefore = new Set(
        client.getRooms().filter((r) => r.getMyMembership() === "join").map((r) => r.roomId),
      );
      this.#joins.syncEnded(joinedBefore);
      if (state === "PREPARED") this.#prepared = true;
      // The first sync from the homeserver is the catch-up (at a first start
      // it is the initial sync, which is not dispatched at all).
      if (!data?.fromCache && this.#catchingUp) {
        this.#catchingUp = false;
        this.#reportSkipped();
      }
      if (!this.#prepared) return;
      this.#trimTimelines();
      this.#answerInvites();
    });
    client.on(sdk.RoomEvent.TimelineReset, (room) => {
      if (this.#prepared && !this.#trimming && room && joinedBefore.has(room.roomId)) {
        log.warn(
          `More than ${SYNC_TIMELINE_LIMIT} messages arrived in ${room.roomId} at once; the older ones are not answered`,
        );
      }
    });
    const filter = new sdk.Filter(this.userId);
    filter.setDefinition({ room: { timeline: { limit: SYNC_TIMELINE_LIMIT } } });
    // The initial sync (history, never answered) stays small.
    await client.startClient({ initialSyncLimit: 1, lazyLoadMembers: false, filter });
    await prepared;
    // Stopped while waiting (run.ts stopped waiting too): nothing more to start.
    if (this.#stopping) return [];
    this.#prepared = true;
    // Taken now, before live events join them in the inbox.
    const leftovers = this.#catchUpInbox();
    await this.#loadOwnName();
    if (config.matrix.e2e) await this.#bootstrapCrossSigning();
    const joins = await this.#joinChannels();
    // Invites that arrived before the first sync (or while the bot was down),
    // and those held back while the channels were joined.
    this.#answeringInvites = true;
    this.#answerInvites();
    this.#inbox.prune();
    for (const entry of leftovers) {
      log.info(`Handling ${entry.eventId} in ${entry.room}, left from before the restart`);
      this.#track(
        entry.room,
        this.#process(entry.eventId, entry.room, new sdk.MatrixEvent(entry.event), true),
      );
    }
    return joins;
  }

  // Inbox leftovers (from before a crash or a cancelled answer) are caught-up
  // messages too: older than the window, they are marked handled unanswered.
  #catchUpInbox(): InboxEntry[] {
    const window = this.#options.config.matrix.catch_up_seconds;
    const now = Date.now();
    const fresh: InboxEntry[] = [];
    for (const entry of this.#inbox.pending()) {
      const age = eventAgeMs(entry.event, entry.receivedAt, now);
      if (catchUpVerdict(age, window) === "answer") fresh.push(entry);
      else {
        log.debug(`Skipping ${entry.eventId} in ${entry.room}: older than the catch-up window`);
        this.#inbox.done(entry.eventId, entry.room);
        this.#skipped++;
      }
    }
    this.#inboxCaughtUp = true;
    this.#reportSkipped();
    return fresh;
  }

  // One line for everything skipped at this start, once both the inbox and
  // the first sync have been looked at.
  #reportSkipped(): void {
    if (this.#catchingUp || !this.#inboxCaughtUp || !this.#skipped) return;
    log.info(skippedLine(this.#skipped, this.#options.config.matrix.catch_up_seconds));
    this.#skipped = 0;
  }

  async #loadOwnName(): Promise<void> {
    try {
      const profile = await this.client.getProfileInfo(this.userId);
      if (profile.displayname) this.#name = profile.displayname;
    } catch (error) {
      log.debug(`No display name for the bot: ${(error as Error).message}`);
    }
  }

  async #bootstrapCrossSigning(): Promise<void> {
    const crypto = this.client.getCrypto();
    if (!crypto) return;
    try {
      if (await crypto.isCrossSigningReady()) return;
      const { password } = this.#options.config.matrix;
      if (!password) {
        log.warn(
          "Cross-signing is not set up and no matrix.password is configured to set it up; users can verify the device but not the bot user",
        );
        return;
      }
      await crypto.bootstrapCrossSigning({
        authUploadDeviceSigningKeys: async (makeRequest) => {
          await makeRequest({
            type: "m.login.password",
            identifier: { type: "m.id.user", user: this.userId },
            password,
          } as never);
        },
      });
      log.info("Cross-signing set up; the bot's device is signed");
    } catch (error) {
      log.warn(`Could not set up cross-signing: ${(error as Error).message}`);
    }
  }

  async #joinChannels(): Promise<JoinResult[]> {
    const results: JoinResult[] = [];
    for (const room of this.#options.config.matrix.channels) {
      if (isRoomId(room)) this.#channelIds.add(room);
      try {
        const joined = await this.client.joinRoom(room);
        this.#joinedHere.add(joined.roomId);
        this.#channelIds.add(joined.roomId);
        this.#channelAliases.set(room, joined.roomId);
        log.info(
          `${this.#name} joined ${room}${joined.roomId !== room ? ` (${joined.roomId})` : ""}`,
        );
        results.push({ room, roomId: joined.roomId });
      } catch (error) {
        const reason = (error as { errcode?: string }).errcode ?? (error as Error).message;
        log.warn(`Couldn't join ${room}: ${reason}`);
        results.push({ room, error: String(reason) });
      }
    }
    return results;
  }

  // True when the room is one of `matrix.channels`; aliases not resolved yet
  // (a room created after the start) are tried again.
  async #isChannel(roomId: string): Promise<boolean> {
    if (this.#channelIds.has(roomId)) return true;
    for (const ref of this.#options.config.matrix.channels) {
      if (isRoomId(ref) || this.#channelAliases.has(ref)) continue;
      try {
        const id = (await this.client.getRoomIdForAlias(ref)).room_id;
        this.#channelAliases.set(ref, id);
        this.#channelIds.add(id);
      } catch (error) {
        log.debug(`Cannot resolve ${ref}: ${(error as Error).message}`);
      }
    }
    return this.#channelIds.has(roomId);
  }

  // Answers each invite the synced state shows once. Membership events
  // replayed by the sync that delivers a joined room (its old invite among
  // them) are not invites: only a room whose membership is still `invite`
  // after a whole sync is one.
  #answerInvites(): void {
    if (!this.#answeringInvites || this.#stopping) return;
    for (const room of this.client.getRooms()) {
      if (room.getMyMembership() !== "invite") continue;
      const invite = room.getMember(this.userId)?.events.member;
      const key = `${room.roomId} ${invite?.getId() ?? invite?.getTs() ?? ""}`;
      if (this.#invitesAnswered.has(key)) continue;
      this.#invitesAnswered.add(key);
      void this.#onInvite(room.roomId, invite?.getSender() ?? "");
    }
  }

  async #onInvite(roomId: string, inviter: string): Promise<void> {
    const { admins, allowed_users } = this.#options.config.matrix;
    try {
      const facts = {
        inviter,
        admins,
        allowedUsers: allowed_users,
        channel: await this.#isChannel(roomId),
        joined: this.#joinedHere.has(roomId),
      };
      let answer = answerInvite(facts);
      // The synced state can trail the homeserver (a join whose sync has not
      // arrived yet): it has the last word before the bot leaves a room.
      if (answer.action === "leave" && (await this.#joinedOnServer(roomId))) {
        answer = answerInvite({ ...facts, joined: true });
      }
      if (answer.action === "join") {
        await this.client.joinRoom(roomId);
        this.#joinedHere.add(roomId);
        log.info(`Accepted the invite of ${inviter} to ${roomId}: ${answer.reason}`);
      } else if (answer.action === "leave") {
        await this.client.leave(roomId);
        log.info(`Declined the invite of ${inviter} to ${roomId}: ${answer.reason}`);
      } else {
        log.debug(`Not answering the invite of ${inviter} to ${roomId}: ${answer.reason}`);
      }
    } catch (error) {
      log.warn(`Could not answer the invite to ${roomId}: ${(error as Error).message}`);
    }
  }

  async #joinedOnServer(roomId: string): Promise<boolean> {
    try {
      return (await this.client.getJoinedRooms()).joined_rooms.includes(roomId);
    } catch (error) {
      log.debug(`Cannot list the joined rooms: ${(error as Error).message}`);
      return false;
    }
  }

  #accept(event: sdk.MatrixEvent, roomId: string): void {
    if (this.#stopping) return;
    const eventId = event.getId();
    if (!eventId || eventId.startsWith("~") || event.getSender() === this.userId) return;
    const type = event.getWireType();
    if (type !== "m.room.message" && type !== "m.room.encrypted") return;
    // Everything before the bot's own join is history (decision 28).
    if (!this.#joins.afterJoin(roomId)) return;
    if (this.#inbox.seen(eventId)) return;
    if (this.#catchingUp) {
      const window = this.#options.config.matrix.catch_up_seconds;
      const age = eventAgeMs(event.event, Date.now(), Date.now());
      if (catchUpVerdict(age, window) === "skip") {
        log.debug(`Skipping ${eventId} in ${roomId}: older than the catch-up window`);
        this.#inbox.done(eventId, roomId);
        this.#skipped++;
        return;
      }
    }
    if (!this.#inbox.add(eventId, roomId, event.event as Record<string, unknown>)) return;
    this.#track(roomId, this.#process(eventId, roomId, event, false, performance.now()));
  }

  #track(room: string, work: Promise<void>): void {
    this.#inflight.add(work);
    this.#busy.set(room, (this.#busy.get(room) ?? 0) + 1);
    work.finally(() => {
      this.#inflight.delete(work);
      const left = this.#busy.get(room)! - 1;
      if (left) this.#busy.set(room, left);
      else this.#busy.delete(room);
    });
  }

  async #decrypted(event: sdk.MatrixEvent): Promise<boolean> {
    if (!event.isEncrypted()) return true;
    await this.client.decryptEventIfNeeded(event);
    if (!event.isDecryptionFailure()) return true;
    // Keys may come later (another device shares them, a backup, a slow
    // to-device message): the SDK decrypts again and emits Decrypted.
    log.info(`Waiting for the keys of ${event.getId()} from ${event.getSender()}`);
    return await new Promise<boolean>((resolve) => {
      const onDecrypted = () => {
        if (event.isDecryptionFailure()) return;
        cleanup();
        resolve(true);
      };
      const retry = setInterval(() => {
        if (this.#stopping) {
          cleanup();
          resolve(false);
          return;
        }
        // Events restored from the inbox are not in a timeline; retry them.
        this.client.decryptEventIfNeeded(event, { isRetry: true }).catch(() => {});
      }, 10_000);
      const cleanup = () => {
        clearInterval(retry);
        event.off(sdk.MatrixEventEvent.Decrypted, onDecrypted);
      };
      event.on(sdk.MatrixEventEvent.Decrypted, onDecrypted);
    });
  }

  async #process(
    eventId: string,
    roomId: string,
    event: sdk.MatrixEvent,
    retry = false,
    receivedAt?: number,
  ): Promise<void> {
    try {
      if (!(await this.#decrypted(event))) return;
      const incoming = toIncoming(roomId, {
        event_id: eventId,
        sender: event.getSender(),
        type: event.getType(),
        origin_server_ts: event.getTs(),
        content: event.getContent(),
      });
      if (typeof incoming === "string") {
        log.debug(`Skipping ${eventId}: ${incoming}`);
        this.#inbox.done(eventId, roomId);
        return;
      }
      if (this.#stopping || !this.#handler) return;
      const handled = await this.#handler({ ...incoming, retry: retry || undefined, receivedAt });
      if (handled) this.#inbox.done(eventId, roomId);
    } catch (error) {
      log.error(`Event ${eventId} in ${roomId} could not be handled: ${(error as Error).message}`);
      this.#inbox.done(eventId, roomId);
    }
  }

  // ChatPort ----------------------------------------------------------------

  #content(body: string): Record<string, unknown> {
    const content: Record<string, unknown> = { msgtype: "m.text", body };
    if (this.#options.config.markdown) {
      content.format = "org.matrix.custom.html";
      content.formatted_body = renderMarkdown(body);
    }
    return content;
  }

  #relation(message: OutgoingMessage): Record<string, unknown> | undefined {
    if (!message.threadId) return undefined;
    return {
      rel_type: "m.thread",
      event_id: message.threadId,
      is_falling_back: true,
      "m.in_reply_to": { event_id: message.replyTo ?? message.threadId },
    };
  }

  async #sendContent(
    room: string,
    content: Record<string, unknown>,
    key?: string,
  ): Promise<string> {
    const txnId = key ? await txnIdFor(key) : undefined;
    // A resend after a crash whose first attempt reached the homeserver: its
    // remote echo may already be here. Sending again would race that echo.
    const delivered = txnId ? this.#eventIdForTxn(room, txnId) : undefined;
    if (delivered) {
      log.debug(`Already sent as ${delivered} in ${room} (${key})`);
      return delivered;
    }
    // The SDK's typed overloads do not cover hand-built content; the shape is ours.
    const send = this.client.sendEvent.bind(this.client) as unknown as (
      roomId: string,
      type: string,
      content: Record<string, unknown>,
      txnId?: string,
    ) => Promise<{ event_id: string }>;
    const sending = send(room, "m.room.message", content, txnId);
    // The local echo is registered synchronously; keep it, as it takes the
    // real id when the remote echo arrives.
    const local = txnId ? this.client.getRoom(room)?.getEventForTxnId(txnId) : undefined;
    let response: { event_id: string } | undefined;
    try {
      response = await sending;
    } catch (error) {
      // The remote echo of an earlier attempt can arrive while this send is
      // being encrypted or queued; the SDK then trips over its own local echo
      // ("not a local echo") although the event exists: that is a success.
      const id = realId(local?.getId()) ?? (txnId ? this.#eventIdForTxn(room, txnId) : undefined);
      if (!id) throw error;
      log.debug(`Sent ${id} in ${room} (its echo overtook the send: ${(error as Error).message})`);
      return id;
    }
    // When sync delivers the remote echo of an earlier attempt with this
    // transaction id (a resend after a crash) while the send is still being
    // encrypted, the SDK settles the send without an id: the echo has it.
    const id = response?.event_id ?? realId(local?.getId()) ??
      (txnId ? this.#eventIdForTxn(room, txnId) : undefined);
    if (!id) throw new Error(`the homeserver returned no event id (${key ?? "no key"})`);
    log.debug(`Sent ${id} in ${room}${key ? ` for ${key}` : ""}`);
    return id;
  }

  #eventIdForTxn(room: string, txnId: string): string | undefined {
    const events = this.client.getRoom(room)?.getLiveTimeline().getEvents() ?? [];
    for (let i = events.length - 1; i >= 0; i--) {
      const e = events[i];
      if (e.getTxnId() === txnId || e.getUnsigned()?.transaction_id === txnId) {
        const id = realId(e.getId());
        if (id) return id;
      }
    }
    return undefined;
  }

  /** Sends Markdown, split into several events when too long; returns the first id. */
  async send(room: string, message: OutgoingMessage): Promise<string | undefined> {
    const parts = splitMarkdown(message.body, MAX_PART_BYTES);
    let first: string | undefined;
    for (const [i, part] of parts.entries()) {
      const content = this.#content(part);
      const relation = this.#relation(message);
      if (relation) content["m.relates_to"] = relation;
      const key = message.txnId ? (i === 0 ? message.txnId : `${message.txnId}#${i}`) : undefined;
      const id = await this.#sendContent(room, content, key);
      first ??= id;
    }
    return first;
  }

  /** Replaces a message; overflow goes into new messages after it. */
  async edit(room: string, eventId: string, message: OutgoingMessage): Promise<void> {
    const [head, ...more] = splitMarkdown(message.body, EDIT_PART_BYTES);
    const rest = more.length ? splitMarkdown(more.join("\n\n"), MAX_PART_BYTES) : [];
    const next = this.#content(head);
    const content: Record<string, unknown> = {
      msgtype: "m.text",
      body: `* ${head}`,
      ...(next.formatted_body ? { format: next.format, formatted_body: next.formatted_body } : {}),
      "m.new_content": next,
      "m.relates_to": { rel_type: "m.replace", event_id: eventId },
    };
    // A retried edit gets a fresh id: the earlier attempt's final edit may be
    // older than its placeholder frames.
    const key = message.txnId && message.retry
      ? `${message.txnId}:retry${Date.now()}`
      : message.txnId;
    await this.#sendContent(room, content, key);
    for (const [i, part] of rest.entries()) {
      await this.send(room, {
        ...message,
        body: part,
        retry: false,
        txnId: message.txnId ? `${message.txnId}#${i + 1}` : undefined,
      });
    }
  }

  async redact(room: string, eventId: string): Promise<void> {
    await this.client.redactEvent(room, eventId);
  }

  /** Uploads and posts an image: encrypted (`file`) in encrypted rooms, plain (`url`) elsewhere. */
  async sendImage(room: string, image: ToolImage, options: ImageOptions = {}): Promise<void> {
    const encrypted = (await this.client.getCrypto()?.isEncryptionEnabledInRoom(room)) ?? false;
    const size = imageSize(image.bytes);
    const info: Record<string, unknown> = { mimetype: image.mimetype, size: image.bytes.length };
    if (size) Object.assign(info, size);
    const content: Record<string, unknown> = { msgtype: "m.image", body: image.name, info };
    if (encrypted) {
      const { data, info: file } = await encryptAttachment(image.bytes);
      const upload = await this.client.uploadContent(
        new Blob([data as BlobPart], { type: "application/octet-stream" }),
        { name: "encrypted", type: "application/octet-stream", includeFilename: false },
      );
      content.file = { ...file, url: upload.content_uri };
    } else {
      const upload = await this.client.uploadContent(
        new Blob([image.bytes as BlobPart], { type: image.mimetype }),
        { name: image.name, type: image.mimetype },
      );
      content.url = upload.content_uri;
    }
    if (options.threadId) {
      content["m.relates_to"] = {
        rel_type: "m.thread",
        event_id: options.threadId,
        is_falling_back: true,
      };
    }
    await this.#sendContent(room, content, options.txnId);
  }

  async setTyping(room: string, typing: boolean): Promise<void> {
    await this.client.sendTyping(room, typing, 30_000);
  }

  /** The member's display name in this room; the global profile name; the Matrix ID. */
  async displayName(room: string, userId: string): Promise<string> {
    const member = this.client.getRoom(room)?.getMember(userId);
    const raw = member?.rawDisplayName;
    if (raw && raw !== userId) return raw;
    const cached = this.#profiles.get(userId);
    if (cached && Date.now() - cached.at < 600_000) return cached.name;
    let name = userId;
    try {
      const profile = await this.client.getProfileInfo(userId, "displayname");
      if (profile.displayname) name = profile.displayname;
    } catch {
      // No profile: the Matrix ID it is (decision 15).
    }
    this.#profiles.set(userId, { name, at: Date.now() });
    return name;
  }

  /** Memory and timeline figures for the operator (SIGUSR1). */
  stats(): string {
    const m = Deno.memoryUsage();
    const mb = (n: number) => `${(n / 1048576).toFixed(1)} MB`;
    const rooms = this.client.getRooms();
    const events = rooms.reduce((n, r) => n + r.getLiveTimeline().getEvents().length, 0);
    const related = rooms.reduce(
      (n, r) => n + (r.relations as unknown as { relations: Map<string, unknown> }).relations.size,
      0,
    );
    return `rss ${mb(m.rss)}, heap ${mb(m.heapUsed)}/${mb(m.heapTotal)}, external ${
      mb(m.external)
    }; ` +
      `${rooms.length} rooms, ${events} timeline events in memory, relations of ${related} events, ${this.#inflight.size} messages in progress`;
  }

  /** Rooms the bot is in, for `allowed_rooms` resolution. */
  resolveRooms(refs: readonly string[]): Promise<Set<string>> {
    return resolveRoomRefs(
      refs,
      async (alias) => (await this.client.getRoomIdForAlias(alias)).room_id,
    );
  }

  /** Waits for messages being processed (bounded by the bot's own stop). */
  async idle(): Promise<void> {
    while (this.#inflight.size) await Promise.allSettled([...this.#inflight]);
  }

  /** Stops syncing and saves the sync position. No logout (decision 2). */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#stopVerification?.();
    this.client.stopClient();
    try {
      await this.#syncStore.save(true);
    } catch (error) {
      log.warn(`Could not save the sync position: ${(error as Error).message}`);
    }
  }
}

/**
 * Room IDs for references: an ID (of any room version) as it is, an alias
 * through `resolveAlias`; one that cannot be resolved is left out, with a
 * warning.
 */
export async function resolveRoomRefs(
  refs: readonly string[],
  resolveAlias: (alias: string) => Promise<string>,
): Promise<Set<string>> {
  const ids = new Set<string>();
  for (const ref of refs) {
    if (isRoomId(ref)) ids.add(ref);
    else {
      try {
        ids.add(await resolveAlias(ref));
      } catch (error) {
        log.warn(`matrix.allowed_rooms: cannot resolve ${ref}: ${(error as Error).message}`);
      }
    }
  }
  return ids;
}

function localpart(userId: string): string {
  return /^@([^:]+):/.exec(userId)?.[1] ?? userId;
}
