/**
 * Joining rooms (decision 28): which events come after the bot's own join,
 * and how an invite is answered. Pure; the Matrix adapter feeds it.
 *
 * @module
 */

/**
 * Where the bot's join lies in each room's live timeline. Only events after
 * the bot's own join are candidates. The boundary is the join event itself,
 * seen in timeline order, or the room being joined at the end of the
 * previous sync — never the room's member state at the moment an event is
 * processed: a sync that delivers a room just joined replays the messages
 * from before the join (and the invite) while that state can still say
 * `invite`, or already say `join`, depending on the server.
 */
export class JoinBoundary {
  #joined = new Set<string>();

  /** The rooms joined at the end of a sync, as that sync left them. */
  syncEnded(joined: Iterable<string>): void {
    this.#joined = new Set(joined);
  }

  /** The bot's own `m.room.member` event, as it appears in a live timeline. */
  ownMembership(room: string, membership: unknown): void {
    if (membership === "join") this.#joined.add(room);
    else this.#joined.delete(room);
  }

  /** True when an event arriving now in `room` comes after the bot's join. */
  afterJoin(room: string): boolean {
    return this.#joined.has(room);
  }
}

/** What to do with an invite. */
export type InviteAction = "join" | "leave" | "none";

/** The facts an invite is answered on. */
export interface InviteFacts {
  inviter: string;
  admins: readonly string[];
  /** `matrix.allowed_users`, when set. */
  allowedUsers?: readonly string[] | null;
  /** The room is listed in `matrix.channels` (by ID, or by an alias that resolves to it). */
  channel: boolean;
  /** The bot has joined the room already (at this start, or the homeserver says so). */
  joined: boolean;
}

/** How an invite is answered, and why (for the log). */
export function answerInvite(facts: InviteFacts): { action: InviteAction; reason: string } {
  // Declining is leaving: a stale invite to a room the bot is in must not make it leave.
  if (facts.joined) return { action: "none", reason: "the bot has joined it already" };
  if (facts.channel) return { action: "join", reason: "the room is in matrix.channels" };
  if (facts.admins.includes(facts.inviter)) return { action: "join", reason: "an admin invited" };
  if (facts.allowedUsers?.includes(facts.inviter)) {
    return { action: "join", reason: "an allowed user invited" };
  }
  return {
    action: "leave",
    reason: `only admins${facts.allowedUsers ? " and allowed users" : ""} may invite the bot`,
  };
}

/** The facts of {@link isDirectChat}. */
export interface DirectFacts {
  /** The room was marked direct: the bot's invite said `is_direct`, or `m.direct` lists it. */
  marked: boolean;
  /** The joined members, from the room's state. */
  joined: readonly string[];
  /** The bot's user ID. */
  botUserId: string;
}

/**
 * A direct chat (decision 37): marked direct, and its joined members are the
 * bot and one user. A room that grows beyond two members stops being one.
 */
export function isDirectChat(facts: DirectFacts): boolean {
  return facts.marked && facts.joined.length === 2 && facts.joined.includes(facts.botUserId);
}
