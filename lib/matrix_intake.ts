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
import { type Decrypted, decryptWaiting } from "./matrix_undecryptable.ts";
import type { IncomingMessage } from "./chat_port.ts";
import { getLogger } from "./log.ts";
import { GapFiller } from "./matrix_gaps.ts";
import type { InboxEntry, InboxStore } from "./state/ports.ts";

const log = getLogger("matrix");

/** Events kept in memory per room; older ones are dropped (the bot never looks back). */
export const TIMELINE_KEEP = 300;

/** Handles one message; resolves true when it may be marked handled. */
export type MessageHandler = (message: IncomingMessage) => Promise<boolean>;

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
  readonly #gaps: GapFiller;
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
    this.#gaps = new GapFiller(client, {
      userId: options.userId,
      inbox: options.inbox,
      catchUpSeconds: options.catchUpSeconds,
      deliver: (eventId, roomId, event) =>
        this.#track(this.#process(eventId, roomId, event, false, performance.now())),
      track: (work) => this.#track(work),
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
      () => this.#track(this.#process(eventId, roomId, event, false, receivedAt)),
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
      this.#track(this.#process(entry.eventId, entry.room, new sdk.MatrixEvent(entry.event), true));
    }
  }

  // One line for everything skipped at this start, once both the inbox and
  // the first sync have been looked at.
  #reportSkipped(): void {
    if (this.#catchingUp || !this.#inboxCaughtUp || !this.#skipped) return;
    log.info(skippedLine(this.#skipped, this.#options.catchUpSeconds));
    this.#skipped = 0;
  }

  #track(work: Promise<void>): void {
    this.#inflight.add(work);
    work.finally(() => this.#inflight.delete(work));
  }

  #decrypted(event: sdk.MatrixEvent, roomId: string): Promise<Decrypted> {
    return decryptWaiting(this.#client, event, {
      catchUpSeconds: this.#options.catchUpSeconds,
      decryptWaitSeconds: this.#options.decryptWaitSeconds ?? 30,
      signal: this.#options.signal,
      onUndecryptable: () => this.#options.onUndecryptable?.(event, roomId),
    });
  }

  async #process(
    eventId: string,
    roomId: string,
    event: sdk.MatrixEvent,
    retry = false,
    receivedAt?: number,
  ): Promise<void> {
    const { inbox } = this.#options;
    try {
      const decrypted = await this.#decrypted(event, roomId);
      if (decrypted === "stopped") return;
      if (decrypted === "expired") {
        log.info(`Not answering ${eventId} in ${roomId}: its keys never came`);
        inbox.done(eventId, roomId);
        return;
      }
      const incoming = toIncoming(roomId, {
        event_id: eventId,
        sender: event.getSender(),
        type: event.getType(),
        origin_server_ts: event.getTs(),
        content: event.getContent(),
      });
      if (typeof incoming === "string") {
        log.debug(`Skipping ${eventId}: ${incoming}`);
        inbox.done(eventId, roomId);
        return;
      }
      if (this.#options.signal.aborted || !this.#handler) return;
      const handled = await this.#handler({ ...incoming, retry: retry || undefined, receivedAt });
      if (handled) inbox.done(eventId, roomId);
    } catch (error) {
      log.error(`Event ${eventId} in ${roomId} could not be handled: ${(error as Error).message}`);
      inbox.done(eventId, roomId);
    }
  }

  /**
   * Drops old events from rooms' in-memory timelines, when nothing is in
   * progress (pending sends and their echoes live in the timeline).
   */
  trimTimelines(): void {
    if (this.#inflight.size) return;
    for (const room of this.#client.getRooms()) {
      const events = room.getLiveTimeline().getEvents();
      // A local echo still being sent has a status; keep its timeline.
      if (events.length <= TIMELINE_KEEP || events.some((e) => e.status !== null)) continue;
      this.#trimming = true;
      try {
        const token = room.getLiveTimeline().getPaginationToken(sdk.Direction.Backward);
        room.resetLiveTimeline(token ?? undefined, undefined);
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
