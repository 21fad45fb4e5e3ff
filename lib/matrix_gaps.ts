/**
 * Filling a gap in a room's timeline (decision 29): a limited sync leaves
 * out the events before the ones it delivers (a busy room while the bot was
 * down). They are fetched with `/messages`, newest first, back to what the
 * bot received before, its own join, or the catch-up window (lib/gap.ts
 * decides), then handed over oldest first, before the live events of the
 * room that arrived meanwhile.
 *
 * @module
 */
import * as sdk from "matrix-js-sdk";
import { type RawEvent, scanGapPage } from "./gap.ts";
import { getLogger } from "./log.ts";
import type { InboxStore } from "./state/ports.ts";

const log = getLogger("matrix");

/** Pages of `/messages` fetched, at most, to fill one gap in a timeline. */
export const GAP_PAGES = 10;

/** Events per page when filling a gap. */
export const GAP_PAGE_SIZE = 100;

/** Options for {@link GapFiller}. */
export interface GapOptions {
  /** The bot's own user ID: its join ends a gap. */
  userId: string;
  /** What was received before ends a gap; what is fetched is stored here. */
  inbox: Pick<InboxStore, "seen" | "add">;
  /** `matrix.catch_up_seconds`: older events end a gap. */
  catchUpSeconds: number;
  /** Hands on a fetched event, already in the inbox. */
  deliver(eventId: string, roomId: string, event: sdk.MatrixEvent): void;
  /** Keeps track of the work in progress (the transport waits for it at the stop). */
  track(roomId: string, work: Promise<void>): void;
}

/** Fills the gaps of rooms, holding back the room's live events meanwhile. */
export class GapFiller {
  readonly #client: sdk.MatrixClient;
  readonly #options: GapOptions;
  /** Rooms whose gap is being fetched, with the live events held back meanwhile. */
  readonly #held = new Map<string, Array<() => void>>();

  /** Fills gaps through `client`. */
  constructor(client: sdk.MatrixClient, options: GapOptions) {
    this.#client = client;
    this.#options = options;
  }

  /** True while a gap is being fetched: its events are not in the inbox yet. */
  get filling(): boolean {
    return this.#held.size > 0;
  }

  /** Runs `run` now, or after the gap being filled in `roomId`, so each thread stays in order. */
  afterGap(roomId: string, run: () => void): void {
    const held = this.#held.get(roomId);
    if (held) held.push(run);
    else run();
  }

  /**
   * Fills the gap of `roomId` back from the pagination token `from` (`null`:
   * from the newest event; `afterLoss`: back to the bot's own last message
   * too, see {@link GapContext.stopAtOwnMessage}).
   */
  fill(roomId: string, from: string | null, afterLoss = false): void {
    if (this.#held.has(roomId)) return;
    const held: Array<() => void> = [];
    this.#held.set(roomId, held);
    this.#options.track(
      roomId,
      (async () => {
        const found = await this.#fetch(roomId, from, afterLoss);
        this.#held.delete(roomId);
        const { inbox, deliver } = this.#options;
        for (const raw of found.reverse()) {
          const event = new sdk.MatrixEvent({ ...raw, room_id: roomId } as Partial<sdk.IEvent>);
          const eventId = event.getId()!;
          if (!inbox.add(eventId, roomId, event.event as Record<string, unknown>)) continue;
          deliver(eventId, roomId, event);
        }
        for (const run of held) run();
      })(),
    );
  }

  /** The messages of the gap, newest first. */
  async #fetch(roomId: string, from: string | null, afterLoss: boolean): Promise<RawEvent[]> {
    const found: RawEvent[] = [];
    let stop: string | undefined;
    try {
      let token: string | null | undefined = from;
      for (let page = 0; token !== undefined && !stop && page < GAP_PAGES; page++) {
        const response = await this.#client.createMessagesRequest(
          roomId,
          token,
          GAP_PAGE_SIZE,
          sdk.Direction.Backward,
        );
        const scan = scanGapPage(response.chunk as RawEvent[], {
          botUserId: this.#options.userId,
          seen: (id) => this.#options.inbox.seen(id),
          windowSeconds: this.#options.catchUpSeconds,
          now: Date.now(),
          stopAtOwnMessage: afterLoss,
        });
        found.push(...scan.found);
        stop = scan.stop ?? (response.chunk.length ? undefined : "the start of the room");
        token = response.end;
      }
    } catch (error) {
      log.warn(`Could not fetch the messages missed in ${roomId}: ${(error as Error).message}`);
    }
    log.info(
      (afterLoss
        ? `Looked for messages sent in ${roomId} while the store was lost: ${found.length} message(s) fetched`
        : `A sync in ${roomId} left out older events: ${found.length} message(s) fetched`) +
        (stop ? ` (back to ${stop})` : ` (at most ${GAP_PAGES * GAP_PAGE_SIZE} events looked at)`),
    );
    return found;
  }
}
