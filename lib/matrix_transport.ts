/**
 * The Matrix transport: the bot's {@link ChatPort} on Matrix, composed of
 * one part per job and wiring the client's events to them:
 *
 * - `matrix_client.ts`: the matrix-js-sdk client, Rust crypto, request
 *   timeouts, the send queue, saving the sync position, sync health;
 * - `matrix_intake.ts` (+ `matrix_gaps.ts`): timeline → join boundary →
 *   catch-up → inbox → decrypt → message → the bot's handler;
 * - `matrix_outbox.ts`: send, edit, redact, images, typing;
 * - `matrix_rooms.ts`: channels, joins, invites, `allowed_rooms`;
 * - `matrix_identity.ts`: own name, others' names, cross-signing,
 *   verification.
 *
 * @module
 */
import * as sdk from "matrix-js-sdk";
import type { ChatPort, ImageOptions, OutgoingMessage } from "./chat_port.ts";
import type { Attachment, MediaRef } from "./content.ts";
import type { SyncStatus } from "./bot_metrics.ts";
import { getLogger } from "./log.ts";
import {
  createSessionClient,
  firstSync,
  routeSdkLogs,
  type SessionClient,
  startSyncing,
  type SyncPosition,
  watchSyncHealth,
} from "./matrix_client.ts";
import { MatrixIdentity } from "./matrix_identity.ts";
import { MatrixIntake, type MessageHandler, relationsOf } from "./matrix_intake.ts";
import { MatrixMedia } from "./matrix_media.ts";
import { EDIT_PART_BYTES, MatrixOutbox } from "./matrix_outbox.ts";
import { type JoinResult, MatrixRooms } from "./matrix_rooms.ts";
import { planRecovery, SecretStorageKeyHolder } from "./matrix_recovery.ts";
import { UndecryptableNotices } from "./matrix_undecryptable.ts";
import type { Session } from "./matrix_session.ts";
import type { RecoveryKey } from "./recovery_key.ts";
import type { AcceptFrom } from "./matrix_verification.ts";
import type { InboxStore } from "./state/ports.ts";
import type { ToolImage } from "./tools/registry.ts";

const log = getLogger("matrix");

/** Options for {@link MatrixTransport.create}: the session, the inbox, and the `matrix` settings used. */
export interface MatrixTransportOptions {
  /** The bot's session (lib/matrix_session.ts). */
  session: Session;
  /** The durable inbox of incoming events. */
  inbox: InboxStore;
  /** `matrix.e2e`: Rust crypto, cross-signing, verification. */
  e2e: boolean;
  /** `markdown`: send HTML rendered from the Markdown too. */
  markdown: boolean;
  /** `matrix.channels`: rooms joined at start. */
  channels: readonly string[];
  /** `matrix.admins`. */
  admins: readonly string[];
  /** `matrix.allowed_users`. */
  allowedUsers?: readonly string[] | null;
  /** `matrix.catch_up_seconds`. */
  catchUpSeconds: number;
  /** `matrix.decrypt_wait_seconds` (default 30). */
  decryptWaitSeconds?: number;
  /** `matrix.verification.accept_from`. */
  acceptVerificationFrom: AcceptFrom;
  /** `matrix.password`, to set up cross-signing. */
  password?: string;
  /** 32-byte key encrypting the crypto store at rest. */
  storageKey?: Uint8Array;
  /** Replaces global fetch (tests). */
  fetch?: typeof fetch;
  /** Debug logging from the SDK. */
  debug?: boolean;
  /** Timeout of every request but the sync long-poll (default `HOMESERVER_TIMEOUT_MS`). */
  timeoutMs?: number;
  /** Secret storage and key backup (decision 41); none: not touched. */
  recovery?: {
    /** The recovery key, when configured or left in the store. */
    key?: RecoveryKey;
    /** `matrix.recovery_reset`. */
    reset: boolean;
    /** `<store>/recovery-key.txt`. */
    keyFile: string;
    /** The crypto store was empty at this start. */
    freshStore: boolean;
  };
}

/** The Matrix client as a chat port. */
export class MatrixTransport implements ChatPort {
  /** The bot's own user ID. */
  readonly userId: string;
  /** The matrix-js-sdk client. */
  readonly client: sdk.MatrixClient;
  readonly #options: MatrixTransportOptions;
  readonly #startedAt: number;
  /** Aborted at the stop, or when the sync store or the session fails. */
  readonly #stop: AbortController;
  readonly #sync: SyncPosition;
  readonly #lastFetchError: () => unknown;
  #syncStatus: SyncStatus = {};
  readonly #identity: MatrixIdentity;
  readonly #rooms: MatrixRooms;
  readonly #intake: MatrixIntake;
  readonly #outbox: MatrixOutbox;
  readonly #media: MatrixMedia;
  #stopVerification?: () => void;
  readonly #keyHolder: SecretStorageKeyHolder;

  private constructor(
    options: MatrixTransportOptions,
    made: SessionClient,
    stop: AbortController,
    startedAt: number,
    keyHolder: SecretStorageKeyHolder,
  ) {
    this.#keyHolder = keyHolder;
    const { client } = made;
    const userId = options.session.user_id;
    this.#options = options;
    this.client = client;
    this.userId = userId;
    this.#startedAt = startedAt;
    this.#stop = stop;
    this.#sync = made.sync;
    this.#lastFetchError = made.lastFetchError;
    const { signal } = stop;
    this.#identity = new MatrixIdentity(client, userId);
    const notices = new UndecryptableNotices(client, {
      send: (room, message) => this.#outbox.send(room, message),
      displayName: (room, user) => this.#identity.displayName(room, user),
    });
    this.#rooms = new MatrixRooms(client, {
      userId,
      channels: options.channels,
      admins: options.admins,
      allowedUsers: options.allowedUsers,
      botName: () => this.#identity.name(),
      signal,
    });
    this.#intake = new MatrixIntake(client, {
      userId,
      inbox: options.inbox,
      catchUpSeconds: options.catchUpSeconds,
      rooms: this.#rooms,
      signal,
      decryptWaitSeconds: options.decryptWaitSeconds,
      onUndecryptable: (event, room) => notices.handle(event, room),
    });
    this.#outbox = new MatrixOutbox(client, { markdown: options.markdown });
    this.#media = new MatrixMedia(client);
    // A gap being filled is not in the inbox yet: a crash now must find it again.
    this.#sync.holdWhile(() => this.#intake.fillingGap);
  }

  /**
   * Builds the client on the (already restored) IndexedDB and initialises
   * Rust crypto when E2EE is on.
   */
  static async create(options: MatrixTransportOptions): Promise<MatrixTransport> {
    const startedAt = Date.now();
    routeSdkLogs(!!options.debug);
    const stop = new AbortController();
    const keyHolder = new SecretStorageKeyHolder();
    const made = await createSessionClient({
      cryptoCallbacks: keyHolder.callbacks(),
      session: options.session,
      e2e: options.e2e,
      storageKey: options.storageKey,
      fetch: options.fetch,
      timeoutMs: options.timeoutMs,
      onStoreFailed: () => stop.abort(),
    });
    return new MatrixTransport(options, made, stop, startedAt, keyHolder);
  }

  /** The bot's display name (mention form, `.reset`). */
  botName(): string {
    return this.#identity.name();
  }

  /**
   * Starts syncing, waits for the first sync, sets up cross-signing, joins
   * `matrix.channels`, answers pending invites, then hands live messages (and
   * any left in the inbox from before a crash) to `handler`.
   */
  async start(handler: MessageHandler): Promise<JoinResult[]> {
    const { client } = this;
    const { e2e, inbox } = this.#options;
    this.#intake.handleWith(handler);
    this.#listen();
    if (e2e) {
      this.#stopVerification = this.#identity.answerVerifications({
        acceptFrom: this.#options.acceptVerificationFrom,
        admins: this.#options.admins,
        startedAt: this.#startedAt,
        inbox,
      });
    }
    const prepared = firstSync(client);
    await startSyncing(client, this.userId);
    await prepared;
    // Stopped while waiting (run.ts stopped waiting too): nothing more to start.
    if (this.#stop.signal.aborted) return [];
    // Taken now, before live events join them in the inbox.
    const leftovers = this.#intake.catchUpInbox();
    await this.#identity.loadOwnName();
    const later = e2e ? await this.#setUpKeys() : undefined;
    const joins = await this.#rooms.joinChannels();
    this.#rooms.startAnsweringInvites();
    inbox.prune();
    this.#intake.handleLeftovers(leftovers);
    // After the leftovers, and not waited for: the bot is ready meanwhile.
    void later?.();
    return joins;
  }

  /**
   * Cross-signing, and with `recovery` secret storage and the key backup
   * first (a wrong recovery key stops here, before anything is changed).
   * Resolves with the work that may follow the start (a plain restart's).
   */
  async #setUpKeys(): Promise<(() => Promise<void>) | undefined> {
    const { password, recovery } = this.#options;
    const ensureCrossSigning = (o?: { replace?: boolean }) =>
      this.#identity.bootstrapCrossSigning(password, o);
    if (!recovery) {
      await ensureCrossSigning();
      return undefined;
    }
    const planned = await planRecovery(this.client, {
      ...recovery,
      holder: this.#keyHolder,
      ensureCrossSigning,
    });
    if (!planned) return undefined;
    const apply = async () => {
      try {
        if (await planned.apply()) this.#intake.catchUpAfterLoss();
      } catch (error) {
        // The homeserver failing now must not stop the bot: it answers
        // without a backup and tries again at the next start.
        log.warn(`Could not set up secret storage and the key backup: ${(error as Error).message}`);
      }
    };
    if (!planned.blocking) return apply;
    await apply();
    return undefined;
  }

  /** Wires the client's events to the parts. */
  #listen(): void {
    const { client, userId } = this;
    this.#sync.watch(client);
    watchSyncHealth(client, {
      lastFetchError: this.#lastFetchError,
      stop: this.#stop,
      onOutcome: (failure) => {
        this.#syncStatus = failure === undefined
          ? { lastSyncAt: Date.now() }
          : { ...this.#syncStatus, lastError: failure };
      },
    });
    client.on(sdk.RoomEvent.Timeline, (event, room, toStart, removed, data) => {
      if (toStart || removed || !data?.liveEvent || !room) return;
      // In timeline order: without thread support in the client, thread
      // replies are in the room's timeline too, in the server's order.
      if (event.getType() === "m.room.member" && event.getStateKey() === userId) {
        this.#rooms.ownMembership(room.roomId, event.getContent().membership);
      }
      this.#intake.onTimeline(event, room.roomId);
    });
    // Runs when a sync has been processed: its events were all emitted before.
    client.on(sdk.ClientEvent.Sync, (state, _previous, data) => {
      if (state !== "PREPARED" && state !== "SYNCING") return;
      this.#rooms.syncEnded();
      this.#intake.onSync(state === "PREPARED", !!data?.fromCache);
      if (!this.#intake.live) return;
      this.#intake.trimTimelines();
      this.#rooms.answerInvites();
    });
    client.on(sdk.RoomEvent.TimelineReset, (room) => {
      if (room) this.#intake.onTimelineReset(room);
    });
  }

  /** An edit carries its text twice; streamed replies continue in new messages beyond this. */
  readonly editLimitBytes: number = EDIT_PART_BYTES;

  /** Sends Markdown, split into several events when too long; returns the first id. */
  send(room: string, message: OutgoingMessage): Promise<string | undefined> {
    return this.#outbox.send(room, message);
  }

  /** Replaces a message; overflow goes into new messages after it. */
  edit(room: string, eventId: string, message: OutgoingMessage): Promise<void> {
    return this.#outbox.edit(room, eventId, message);
  }

  /** Removes a message. */
  redact(room: string, eventId: string): Promise<void> {
    return this.#outbox.redact(room, eventId);
  }

  /** Uploads and posts an image: encrypted in encrypted rooms, plain elsewhere. */
  sendImage(room: string, image: ToolImage, options?: ImageOptions): Promise<void> {
    return this.#outbox.sendImage(room, image, options);
  }

  /** Shows or clears the typing notice. */
  setTyping(room: string, typing: boolean): Promise<void> {
    return this.#outbox.setTyping(room, typing);
  }

  /** The member's display name in this room; the global profile name; the Matrix ID. */
  displayName(room: string, userId: string): Promise<string> {
    return this.#identity.displayName(room, userId);
  }

  /** The user's power level in the room, from its state (`.room` moderators). */
  powerLevel(room: string, userId: string): Promise<number> {
    return this.#identity.powerLevel(room, userId);
  }

  /** The image or file of an event (the target of a reply), if it is one. */
  attachmentOf(room: string, eventId: string): Promise<Attachment | undefined> {
    return this.#media.attachmentOf(room, eventId);
  }

  /** An attachment's bytes, through authenticated media, decrypted and hash-checked. */
  download(ref: MediaRef, maxBytes: number): Promise<Uint8Array> {
    return this.#media.download(ref, maxBytes);
  }

  /** Rooms the bot is in, for `allowed_rooms` resolution. */
  resolveRooms(refs: readonly string[]): Promise<Set<string>> {
    return this.#rooms.resolveRooms(refs);
  }

  /** When the last sync worked, and why the one after it failed (`/healthz`, metrics). */
  syncStatus(): SyncStatus {
    return { ...this.#syncStatus };
  }

  /** Memory and timeline figures for the operator (SIGUSR1). */
  stats(): string {
    const m = Deno.memoryUsage();
    const mb = (n: number) => `${(n / 1048576).toFixed(1)} MB`;
    const rooms = this.client.getRooms();
    const events = rooms.reduce((n, r) => n + r.getLiveTimeline().getEvents().length, 0);
    const related = rooms.reduce((n, r) => n + relationsOf(r).size, 0);
    return `rss ${mb(m.rss)}, heap ${mb(m.heapUsed)}/${mb(m.heapTotal)}, external ${
      mb(m.external)
    }; ` +
      `${rooms.length} rooms, ${events} timeline events in memory, relations of ${related} events, ${this.#intake.inProgress} messages in progress`;
  }

  /** Waits for messages being processed (bounded by the bot's own stop). */
  idle(): Promise<void> {
    return this.#intake.idle();
  }

  /** Stops syncing and saves the sync position. No logout (decision 2). */
  async stop(): Promise<void> {
    this.#stop.abort();
    this.#stopVerification?.();
    this.client.stopClient();
    try {
      await this.#sync.save();
    } catch (error) {
      log.warn(`Could not save the sync position: ${(error as Error).message}`);
    }
  }
}
