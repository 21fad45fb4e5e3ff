/**
 * The bot's rooms (decision 28): joining `matrix.channels` (aliases
 * resolved, and tried again for a room created later), answering invites
 * through lib/joins.ts (once each, never leaving a room it is in), where the
 * bot's own join lies in each room's timeline, and resolving
 * `matrix.allowed_rooms`.
 *
 * @module
 */
import type * as sdk from "matrix-js-sdk";
import { answerInvite, isDirectChat, JoinBoundary } from "./joins.ts";
import { getLogger } from "./log.ts";
import { isRoomId } from "./room_ref.ts";

const log = getLogger("matrix");

// The SDK's `AccountDataEvents` does not name `m.direct` in every build.
const M_DIRECT = "m.direct" as keyof sdk.AccountDataEvents;

/** How a room of `matrix.channels` fared at start. */
export interface JoinResult {
  /** The room as configured (ID or alias). */
  room: string;
  /** Its ID, when joined. */
  roomId?: string;
  /** Why it could not be joined. */
  error?: string;
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

/** Options for {@link MatrixRooms}. */
export interface RoomsOptions {
  /** The bot's own user ID. */
  userId: string;
  /** `matrix.channels`: room IDs or aliases, joined at start; their invites accepted from anyone. */
  channels: readonly string[];
  /** `matrix.admins`: their invites are accepted. */
  admins: readonly string[];
  /** `matrix.allowed_users`: their invites are accepted. */
  allowedUsers?: readonly string[] | null;
  /** The bot's display name, for the log. */
  botName(): string;
  /** Aborted when the transport stops: no more invites are answered. */
  signal: AbortSignal;
}

/** Which rooms the bot is in, joins, and is invited to. */
export class MatrixRooms {
  readonly #client: sdk.MatrixClient;
  readonly #options: RoomsOptions;
  readonly #joins = new JoinBoundary();
  /** Rooms joined at the end of the sync before the current one. */
  #joinedBefore = new Set<string>();
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
  /** Direct chats joined by this process (before `m.direct` syncs back). */
  readonly #directHere = new Set<string>();
  /** Invites wait until the channels are joined: a channel's invite is accepted from anyone. */
  #answeringInvites = false;

  /** The rooms of the bot whose client is `client`. */
  constructor(client: sdk.MatrixClient, options: RoomsOptions) {
    this.#client = client;
    this.#options = options;
  }

  /** The bot's own `m.room.member` event, in timeline order. */
  ownMembership(roomId: string, membership: unknown): void {
    this.#joins.ownMembership(roomId, membership);
    // Kicked or left: a new invite to the room is a real one again.
    if (membership === "leave" || membership === "ban") this.#joinedHere.delete(roomId);
  }

  /** A sync has been processed: the rooms joined now are where the next events come after the join. */
  syncEnded(): void {
    this.#joinedBefore = new Set(
      this.#client.getRooms().filter((r) => r.getMyMembership() === "join").map((r) => r.roomId),
    );
    this.#joins.syncEnded(this.#joinedBefore);
  }

  /** True when an event arriving now in `roomId` comes after the bot's join. */
  afterJoin(roomId: string): boolean {
    return this.#joins.afterJoin(roomId);
  }

  /** True when the bot was in `roomId` before the current sync (a reset there is a gap). */
  wasJoined(roomId: string): boolean {
    return this.#joinedBefore.has(roomId);
  }

  /** Joins every room of `matrix.channels`; says how each fared. */
  async joinChannels(): Promise<JoinResult[]> {
    const results: JoinResult[] = [];
    for (const room of this.#options.channels) {
      if (isRoomId(room)) this.#channelIds.add(room);
      try {
        const joined = await this.#client.joinRoom(room);
        this.#joinedHere.add(joined.roomId);
        this.#channelIds.add(joined.roomId);
        this.#channelAliases.set(room, joined.roomId);
        log.info(
          `${this.#options.botName()} joined ${room}${
            joined.roomId !== room ? ` (${joined.roomId})` : ""
          }`,
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

  /**
   * From now on, answers invites: those that arrived before the first sync
   * (or while the bot was down), and those held back while the channels
   * were joined.
   */
  startAnsweringInvites(): void {
    this.#answeringInvites = true;
    this.answerInvites();
  }

  /**
   * Answers each invite the synced state shows once. Membership events
   * replayed by the sync that delivers a joined room (its old invite among
   * them) are not invites: only a room whose membership is still `invite`
   * after a whole sync is one.
   */
  answerInvites(): void {
    if (!this.#answeringInvites || this.#options.signal.aborted) return;
    const { userId } = this.#options;
    for (const room of this.#client.getRooms()) {
      if (room.getMyMembership() !== "invite") continue;
      const invite = room.getMember(userId)?.events.member;
      const key = `${room.roomId} ${invite?.getId() ?? invite?.getTs() ?? ""}`;
      if (this.#invitesAnswered.has(key)) continue;
      this.#invitesAnswered.add(key);
      const direct = invite?.getContent().is_direct === true;
      void this.#onInvite(room.roomId, invite?.getSender() ?? "", direct);
    }
  }

  async #onInvite(roomId: string, inviter: string, direct = false): Promise<void> {
    const { admins, allowedUsers } = this.#options;
    try {
      const facts = {
        inviter,
        admins,
        allowedUsers,
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
        await this.#client.joinRoom(roomId);
        this.#joinedHere.add(roomId);
        log.info(`Accepted the invite of ${inviter} to ${roomId}: ${answer.reason}`);
        if (direct) await this.#markDirect(roomId, inviter);
      } else if (answer.action === "leave") {
        await this.#client.leave(roomId);
        log.info(`Declined the invite of ${inviter} to ${roomId}: ${answer.reason}`);
      } else {
        log.debug(`Not answering the invite of ${inviter} to ${roomId}: ${answer.reason}`);
      }
    } catch (error) {
      log.warn(`Could not answer the invite to ${roomId}: ${(error as Error).message}`);
    }
  }

  // True when the room is one of `matrix.channels`; aliases not resolved yet
  // (a room created after the start) are tried again.
  async #isChannel(roomId: string): Promise<boolean> {
    if (this.#channelIds.has(roomId)) return true;
    for (const ref of this.#options.channels) {
      if (isRoomId(ref) || this.#channelAliases.has(ref)) continue;
      try {
        const id = (await this.#client.getRoomIdForAlias(ref)).room_id;
        this.#channelAliases.set(ref, id);
        this.#channelIds.add(id);
      } catch (error) {
        log.debug(`Cannot resolve ${ref}: ${(error as Error).message}`);
      }
    }
    return this.#channelIds.has(roomId);
  }

  async #joinedOnServer(roomId: string): Promise<boolean> {
    try {
      return (await this.#client.getJoinedRooms()).joined_rooms.includes(roomId);
    } catch (error) {
      log.debug(`Cannot list the joined rooms: ${(error as Error).message}`);
      return false;
    }
  }

  /**
   * True when `roomId` is a direct chat now (decision 37): marked direct
   * (the bot's invite said `is_direct`, kept in its `m.direct` account data
   * as clients do) and the bot and one user are its joined members, counted
   * from the room's state.
   */
  isDirect(roomId: string): boolean {
    const room = this.#client.getRoom(roomId);
    if (!room) return false;
    // Most rooms are not marked: their members are never counted.
    if (!this.#markedDirect(room)) return false;
    const joined = room.getJoinedMembers().map((m) => m.userId);
    return isDirectChat({ marked: true, joined, botUserId: this.#options.userId });
  }

  #markedDirect(room: sdk.Room): boolean {
    if (this.#directHere.has(room.roomId)) return true;
    const own = room.getMember(this.#options.userId)?.events.member;
    // The join that accepted a direct invite keeps the invite in `prev_content`.
    const prev = own?.getPrevContent() as { is_direct?: unknown } | undefined;
    if (own?.getContent().is_direct === true || prev?.is_direct === true) return true;
    const lists = this.#client.getAccountData(M_DIRECT)
      ?.getContent() as Record<string, unknown> | undefined;
    return Object.values(lists ?? {}).some((ids) =>
      Array.isArray(ids) && ids.includes(room.roomId)
    );
  }

  // Kept in `m.direct` (as Element does when it accepts a direct invite), so
  // the room is still known as direct after a restart.
  async #markDirect(roomId: string, inviter: string): Promise<void> {
    this.#directHere.add(roomId);
    try {
      const event = this.#client.getAccountData(M_DIRECT);
      const lists = { ...(event?.getContent() as Record<string, string[]> | undefined) };
      const rooms = Array.isArray(lists[inviter]) ? lists[inviter] : [];
      if (rooms.includes(roomId)) return;
      lists[inviter] = [...rooms, roomId];
      await this.#client.setAccountData(
        M_DIRECT,
        lists as never,
      );
    } catch (error) {
      log.warn(`Could not mark ${roomId} as a direct chat: ${(error as Error).message}`);
    }
  }

  /** Room IDs for `matrix.allowed_rooms` (aliases resolved now). */
  resolveRooms(refs: readonly string[]): Promise<Set<string>> {
    return resolveRoomRefs(
      refs,
      async (alias) => (await this.#client.getRoomIdForAlias(alias)).room_id,
    );
  }
}
