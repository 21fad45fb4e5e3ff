/**
 * What comes in from Matrix, on its way to the bot: only live events after
 * the first sync, never our own, never from before the bot's own join in the
 * room (lib/joins.ts); after a restart, what the first sync catches up on
 * (and what the inbox kept) only within `matrix.catch_up_seconds`
 * (lib/catch_up.ts); a gap a limited sync left filled first
 * (matrix_gaps.ts). Each event is written to the durable inbox the moment
 * sync delivers it, decrypted (waiting for late keys), filtered to `m.text`,
 * handed to the bot, and marked handled after the reply.
 *
 * @module
 */
import * as sdk from "matrix-js-sdk";
import { catchUpVerdict, eventAgeMs, skippedLine } from "./catch_up.ts";
import type { IncomingMessage } from "./chat_port.ts";
import { getLogger } from "./log.ts";
import { decrypted } from "./matrix_decrypt.ts";
import { GapFiller } from "./matrix_gaps.ts";
import { replyTarget, toIncoming } from "./matrix_event.ts";
import { OrderGate } from "./order_gate.ts";
import type { InboxEntry, InboxStore } from "./state/ports.ts";

const log = getLogger("matrix");

/**
 * Events a room's in-memory timeline may hold before it is dropped (the bot
 * never looks back): memory per room then stays within this many events and
 * their relations (measured: 1,000 exchanges added 8 MB when 300 were kept
 * and relations were never dropped; `bench/growth.ts`).
 */
export const TIMELINE_KEEP = 50;

/**
 * The longest a decrypted message waits for an earlier one of the same
 * sender in the room that still waits for its keys.
 */
const ORDER_WAIT_MS = 30_000;

/** Handles one message; resolves true when it may be marked handled. */
export type MessageHandler = (message: IncomingMessage) => Promise<boolean>;

/** Options for {@link MatrixIntake}. */
export interface IntakeOptions {
  /** The bot's own user ID: its events are never handled. */
  userId: string;
  /** The durable inbox. */
  inbox: InboxStore;
  /** `matrix.catch_up_seconds`: what the bot missed while down is answered only this far back. */
  catchUpSeconds: number;
  /** Where the bot's join lies (matrix_rooms.ts). */
  rooms: {
    afterJoin(roomId: string): boolean;
    wasJoined(roomId: string): boolean;
    /** True when the room is a direct chat now (decision 37). */
    isDirect?(roomId: string): boolean;
  };
  /** Aborted when the transport stops: nothing more is handed to the bot. */
  signal: AbortSignal;
  /** `matrix.decrypt_wait_seconds` (default 30). */
  decryptWaitSeconds?: number;
  /** A message stayed undecryptable for `decryptWaitSeconds` (decision 42). */
  onUndecryptable?(event: sdk.MatrixEvent, roomId: string): void;
}

/** Takes room events from sync to the bot's handler. */
export class MatrixIntake {
  readonly #client: sdk.MatrixClient;
  readonly #options: IntakeOptions;
  readonly #inflight = new Set<Promise<void>>();
  /** Messages in progress per room: a room's timeline is not trimmed under them. */
  readonly #busy = new Map<string, number>();
  readonly #gaps: GapFiller;
  readonly #order = new OrderGate({ maxWaitMs: ORDER_WAIT_MS });
  /** Resolved when the start lets the messages left from before it go (or stops). */
  readonly #leftoversGo = Promise.withResolvers<void>();
  #handler?: MessageHandler;
  /** The first sync has been processed: events from now on are live. */
  #live = false;
  /** Until the first sync from the homeserver after the start is processed. */
  #catchingUp = true;
  #inboxCaughtUp = false;
  #skipped = 0;
  #trimming = false;

  /** The intake of the bot whose client is `client`. */
  constructor(client: sdk.MatrixClient, options: IntakeOptions) {
    this.#client = client;
    this.#options = options;
    // A stop before the start let them go: they wait for the next start.
    options.signal.addEventListener("abort", () => this.#leftoversGo.resolve(), { once: true });
    this.#gaps = new GapFiller(client, {
      userId: options.userId,
      inbox: options.inbox,
      catchUpSeconds: options.catchUpSeconds,
      deliver: (eventId, roomId, event) =>
        this.#track(
          roomId,
          this.#process(eventId, roomId, event, false, { receivedAt: performance.now() }),
        ),
      track: (roomId, work) => this.#track(roomId, work),
    });
  }

  /** Gives every message from now on to `handler`. */
  handleWith(handler: MessageHandler): void {
    this.#handler = handler;
  }

  /** True once the first sync has been processed. */
  get live(): boolean {
    return this.#live;
  }

  /** True while a gap is being filled: its events are not in the inbox yet. */
  get fillingGap(): boolean {
    return this.#gaps.filling;
  }

  /** Messages being processed now. */
  get inProgress(): number {
    return this.#inflight.size;
  }

  /** A live timeline event of a room, in timeline order. */
  onTimeline(event: sdk.MatrixEvent, roomId: string): void {
    if (!this.#live) return;
    try {
      this.#accept(event, roomId);
    } catch (error) {
      log.error(`Could not queue event ${event.getId()}: ${(error as Error).message}`);
    }
  }

  /**
   * A room's live timeline was reset: after a limited sync in a room the bot
   * was in, the events before the ones it delivered are missing.
   */
  onTimelineReset(room: sdk.Room): void {
    if (!this.#live || this.#trimming || !this.#options.rooms.wasJoined(room.roomId)) return;
    const token = room.getLiveTimeline().getPaginationToken(sdk.Direction.Backward);
    if (token) this.#gaps.fill(room.roomId, token);
  }

  /**
   * A sync has been processed; `prepared` for the first one (from the cache
   * or the homeserver), after which events are live.
   */
  onSync(prepared: boolean, fromCache: boolean): void {
    if (prepared) this.#live = true;
    // The first sync from the homeserver is the catch-up (at a first start
    // it is the initial sync, which is not dispatched at all).
    if (!fromCache && this.#catchingUp) {
      this.#catchingUp = false;
      this.#reportSkipped();
    }
  }

  #accept(event: sdk.MatrixEvent, roomId: string): void {
    if (this.#options.signal.aborted) return;
    const eventId = event.getId();
    if (!eventId || eventId.startsWith("~") || event.getSender() === this.#options.userId) return;
    const type = event.getWireType();
    if (type !== "m.room.message" && type !== "m.room.encrypted") return;
    // Everything before the bot's own join is history (decision 28).
    if (!this.#options.rooms.afterJoin(roomId)) return;
    const { inbox } = this.#options;
    if (inbox.seen(eventId)) return;
    if (this.#catchingUp) {
      const age = eventAgeMs(event.event, Date.now(), Date.now());
      if (catchUpVerdict(age, this.#options.catchUpSeconds) === "skip") {
        log.debug(`Skipping ${eventId} in ${roomId}: older than the catch-up window`);
        inbox.done(eventId, roomId);
        this.#skipped++;
        return;
      }
    }
    if (!inbox.add(eventId, roomId, event.event as Record<string, unknown>)) return;
    const receivedAt = performance.now();
    // The older events of a gap go first, so each thread stays in order.
    this.#gaps.afterGap(
      roomId,
      () => this.#track(roomId, this.#process(eventId, roomId, event, false, { receivedAt })),
    );
  }

  /**
   * Inbox leftovers (from before a crash or a cancelled answer) are
   * caught-up messages too: older than the window, they are marked handled
   * unanswered. Returns the others, to hand over with {@link handleLeftovers}.
   */
  catchUpInbox(): InboxEntry[] {
    const { inbox, catchUpSeconds } = this.#options;
    const now = Date.now();
    const fresh: InboxEntry[] = [];
    for (const entry of inbox.pending()) {
      const age = eventAgeMs(entry.event, entry.receivedAt, now);
      if (catchUpVerdict(age, catchUpSeconds) === "answer") fresh.push(entry);
      else {
        log.debug(`Skipping ${entry.eventId} in ${entry.room}: older than the catch-up window`);
        inbox.done(entry.eventId, entry.room);
        this.#skipped++;
      }
    }
    this.#inboxCaughtUp = true;
    this.#reportSkipped();
    // Their places in each sender's order are taken now, before any live
    // event: the start still has work to do before they may go.
    for (const entry of fresh) {
      this.#track(
        entry.room,
        this.#process(entry.eventId, entry.room, new sdk.MatrixEvent(entry.event), true, {
          notBefore: this.#leftoversGo.promise,
        }),
      );
    }
    return fresh;
  }

  /**
   * A new store took over (the old one was lost): the first sync was an
   * initial sync, never answered, so what was said while the bot was gone
   * is fetched per room, back to the bot's own last message, its join or
   * the catch-up window.
   */
  catchUpAfterLoss(): void {
    for (const room of this.#client.getRooms()) {
      if (room.getMyMembership() === "join") this.#gaps.fill(room.roomId, null, true);
    }
  }

  /** Hands the inbox's leftovers to the bot, as retries. */
  handleLeftovers(entries: readonly InboxEntry[]): void {
    for (const entry of entries) {
      log.info(`Handling ${entry.eventId} in ${entry.room}, left from before the restart`);
    }
    this.#leftoversGo.resolve();
  }

  // One line for everything skipped at this start, once both the inbox and
  // the first sync have been looked at.
  #reportSkipped(): void {
    if (this.#catchingUp || !this.#inboxCaughtUp || !this.#skipped) return;
    log.info(skippedLine(this.#skipped, this.#options.catchUpSeconds));
    this.#skipped = 0;
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

  async #process(
    eventId: string,
    roomId: string,
    event: sdk.MatrixEvent,
    retry = false,
    options: { receivedAt?: number; notBefore?: Promise<void> } = {},
  ): Promise<void> {
    const { inbox } = this.#options;
    const { receivedAt, notBefore } = options;
    try {
      // A sender's messages reach the bot in their order of arrival, also
      // when an earlier one waited for its keys.
      const { handled } = await this.#order.pass(
        `${roomId}\u0000${event.getSender()}`,
        (notBefore ?? Promise.resolve()).then(() => this.#ready(roomId, event)),
        (facts) =>
          facts ? this.#handOver(eventId, roomId, event, { ...facts, retry, receivedAt }) : {},
      );
      if (await handled) inbox.done(eventId, roomId);
    } catch (error) {
      log.error(`Event ${eventId} in ${roomId} could not be handled: ${(error as Error).message}`);
      inbox.done(eventId, roomId);
    }
  }

  // Starts the handling of a decrypted event (synchronously up to the bot's
  // queue); `handled` resolves true when it may be marked handled.
  #handOver(
    eventId: string,
    roomId: string,
    event: sdk.MatrixEvent,
    extra: { retry: boolean; receivedAt?: number; replyToSender?: string },
  ): { handled?: Promise<boolean> } {
    const incoming = toIncoming(roomId, {
      event_id: eventId,
      sender: event.getSender(),
      type: event.getType(),
      origin_server_ts: event.getTs(),
      content: event.getContent(),
    });
    if (typeof incoming === "string") {
      log.debug(`Skipping ${eventId}: ${incoming}`);
      return { handled: Promise.resolve(true) };
    }
    if (this.#options.signal.aborted || !this.#handler) return {};
    const direct = this.#options.rooms.isDirect?.(roomId) || undefined;
    return {
      handled: this.#handler({
        ...incoming,
        ...(extra.replyToSender ? { replyToSender: extra.replyToSender } : {}),
        ...(direct ? { direct } : {}),
        retry: extra.retry || undefined,
        receivedAt: extra.receivedAt,
      }),
    };
  }

  // Resolves when `event` is readable, with the sender of the event it
  // replies to; undefined when the wait for its keys was given up.
  async #ready(
    roomId: string,
    event: sdk.MatrixEvent,
  ): Promise<{ replyToSender?: string } | undefined> {
    const readable = await decrypted(this.#client, event, {
      catchUpSeconds: this.#options.catchUpSeconds,
      decryptWaitSeconds: this.#options.decryptWaitSeconds ?? 30,
      signal: this.#options.signal,
      onUndecryptable: () => this.#options.onUndecryptable?.(event, roomId),
    });
    if (readable === "expired") {
      log.info(`Not answering ${event.getId()} in ${roomId}: its keys never came`);
      this.#options.inbox.done(event.getId()!, roomId);
    }
    if (readable !== "ok") return undefined;
    const replyTo = replyTarget(event.getContent());
    return { replyToSender: replyTo ? await this.#senderOf(roomId, replyTo) : undefined };
  }

  // The sender of an event is never encrypted: the timeline has it, or the
  // homeserver. Unknown (gone, not visible) is no sender.
  async #senderOf(roomId: string, eventId: string): Promise<string | undefined> {
    const known = this.#client.getRoom(roomId)?.findEventById(eventId)?.getSender();
    if (known) return known;
    try {
      const raw = await this.#client.fetchRoomEvent(roomId, eventId);
      return typeof raw.sender === "string" ? raw.sender : undefined;
    } catch (error) {
      log.debug(`Cannot look up ${eventId} in ${roomId}: ${(error as Error).message}`);
      return undefined;
    }
  }

  /**
   * Drops old events from the in-memory timelines of rooms where nothing is
   * in progress (pending sends and their echoes live in the timeline), and
   * the room's relations with them: the SDK keeps every event's relations
   * (an edit per answer) for the room's life, beyond any timeline reset.
   */
  trimTimelines(): void {
    for (const room of this.#client.getRooms()) {
      if (this.#busy.has(room.roomId)) continue;
      const events = room.getLiveTimeline().getEvents();
      // A local echo still being sent has a status; keep its timeline.
      if (events.length <= TIMELINE_KEEP || events.some((e) => e.status !== null)) continue;
      this.#trimming = true;
      try {
        const token = room.getLiveTimeline().getPaginationToken(sdk.Direction.Backward);
        room.resetLiveTimeline(token ?? undefined, undefined);
        // The container is shared with the room's timeline sets: emptied in place.
        relationsOf(room).clear();
      } catch (error) {
        log.debug(`Could not trim the timeline of ${room.roomId}: ${(error as Error).message}`);
      } finally {
        this.#trimming = false;
      }
    }
  }

  /** Waits for messages being processed (bounded by the bot's own stop). */
  async idle(): Promise<void> {
    while (this.#inflight.size) await Promise.allSettled([...this.#inflight]);
  }
}

/** The SDK's relations container of a room (not part of its typed API). */
export function relationsOf(room: sdk.Room): Map<string, unknown> {
  return (room.relations as unknown as { relations: Map<string, unknown> }).relations;
}
