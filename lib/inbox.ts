/**
 * The durable inbox of incoming Matrix events. An event is written here the
 * moment sync delivers it (before the next sync can move past it) and
 * removed, with a "handled" mark, after its reply was sent. After a crash,
 * what is still here is handled again; what is marked is never handled
 * twice. Verification requests handled are remembered here too.
 *
 * @module
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";

/** An event waiting to be handled. */
export interface InboxEntry {
  eventId: string;
  room: string;
  /** The event as received (possibly encrypted). */
  event: Record<string, unknown>;
  receivedAt: number;
}

/** The inbox in `state.db`. */
export class Inbox {
  readonly #db: DatabaseSync;
  readonly #inInbox: StatementSync;
  readonly #handled: StatementSync;
  readonly #add: StatementSync;
  readonly #remove: StatementSync;
  readonly #mark: StatementSync;

  constructor(db: DatabaseSync) {
    this.#db = db;
    this.#inInbox = db.prepare("SELECT 1 FROM inbox WHERE event_id = ?");
    this.#handled = db.prepare("SELECT 1 FROM handled_events WHERE event_id = ?");
    this.#add = db.prepare(
      "INSERT OR IGNORE INTO inbox (event_id, room, event, received_at) VALUES (?, ?, ?, ?)",
    );
    this.#remove = db.prepare("DELETE FROM inbox WHERE event_id = ?");
    this.#mark = db.prepare(
      "INSERT OR REPLACE INTO handled_events (event_id, room, handled_at) VALUES (?, ?, ?)",
    );
  }

  /** True when the event is waiting or was handled. */
  seen(eventId: string): boolean {
    return this.#inInbox.get(eventId) !== undefined || this.#handled.get(eventId) !== undefined;
  }

  /** True when the event was handled. */
  handled(eventId: string): boolean {
    return this.#handled.get(eventId) !== undefined;
  }

  /** Stores an event; false when it was already seen. */
  add(eventId: string, room: string, event: Record<string, unknown>, now = Date.now()): boolean {
    if (this.seen(eventId)) return false;
    this.#add.run(eventId, room, JSON.stringify(event), now);
    return true;
  }

  /** Events still waiting, in the order the server received them. */
  pending(): InboxEntry[] {
    const rows = this.#db.prepare(
      "SELECT event_id, room, event, received_at FROM inbox ORDER BY received_at, event_id",
    ).all() as Array<{ event_id: string; room: string; event: string; received_at: number }>;
    const entries = rows.map((r) => ({
      eventId: r.event_id,
      room: r.room,
      event: JSON.parse(r.event) as Record<string, unknown>,
      receivedAt: r.received_at,
    }));
    // One sync delivers many events at the same moment: replay them in the
    // server's order, or a user's later message would be answered first.
    const ts = (e: InboxEntry) =>
      typeof e.event.origin_server_ts === "number" ? e.event.origin_server_ts : e.receivedAt;
    return entries.sort((a, b) => ts(a) - ts(b) || a.receivedAt - b.receivedAt);
  }

  /** Marks an event handled and removes it from the inbox, in one transaction. */
  done(eventId: string, room: string, now = Date.now()): void {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      this.#remove.run(eventId);
      this.#mark.run(eventId, room, now);
      this.#db.exec("COMMIT");
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  /** Forgets handled marks older than `maxAgeMs` (sync never goes back that far). */
  prune(maxAgeMs = 14 * 86_400_000, now = Date.now()): void {
    this.#db.prepare("DELETE FROM handled_events WHERE handled_at < ?").run(now - maxAgeMs);
    this.#db.prepare("DELETE FROM verifications WHERE handled_at < ?").run(now - maxAgeMs);
  }

  /** True when this verification request was already answered. */
  verificationSeen(txnId: string): boolean {
    return this.#db.prepare("SELECT 1 FROM verifications WHERE txn_id = ?").get(txnId) !==
      undefined;
  }

  /** Remembers an answered verification request. */
  markVerification(txnId: string, now = Date.now()): void {
    this.#db.prepare("INSERT OR IGNORE INTO verifications (txn_id, handled_at) VALUES (?, ?)").run(
      txnId,
      now,
    );
  }
}
