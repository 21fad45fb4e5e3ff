/**
 * {@link InboxStore} in `state.db`: the `inbox`, `handled_events` and
 * `verifications` tables.
 *
 * @module
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { transaction } from "../sqlite.ts";
import type { InboxEntry, InboxStore } from "./ports.ts";
import { HANDLED_KEPT_MS, replayOrder } from "./rules.ts";

/** The inbox of incoming events in `state.db`. */
export class SqliteInboxStore implements InboxStore {
  readonly #db: DatabaseSync;
  readonly #inInbox: StatementSync;
  readonly #handled: StatementSync;
  readonly #add: StatementSync;
  readonly #remove: StatementSync;
  readonly #mark: StatementSync;

  /** Keeps the inbox in `db` (a migrated `state.db`). */
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

  seen(eventId: string): boolean {
    return this.#inInbox.get(eventId) !== undefined || this.#handled.get(eventId) !== undefined;
  }

  handled(eventId: string): boolean {
    return this.#handled.get(eventId) !== undefined;
  }

  add(eventId: string, room: string, event: Record<string, unknown>, now = Date.now()): boolean {
    if (this.seen(eventId)) return false;
    this.#add.run(eventId, room, JSON.stringify(event), now);
    return true;
  }

  pending(): InboxEntry[] {
    const rows = this.#db.prepare(
      "SELECT event_id, room, event, received_at FROM inbox ORDER BY received_at, event_id",
    ).all() as Array<{ event_id: string; room: string; event: string; received_at: number }>;
    return replayOrder(rows.map((r) => ({
      eventId: r.event_id,
      room: r.room,
      event: JSON.parse(r.event) as Record<string, unknown>,
      receivedAt: r.received_at,
    })));
  }

  /** Marks an event handled and removes it from the inbox, in one transaction. */
  done(eventId: string, room: string, now = Date.now()): void {
    transaction(this.#db, () => {
      this.#remove.run(eventId);
      this.#mark.run(eventId, room, now);
    });
  }

  prune(maxAgeMs = HANDLED_KEPT_MS, now = Date.now()): void {
    this.#db.prepare("DELETE FROM handled_events WHERE handled_at < ?").run(now - maxAgeMs);
    this.#db.prepare("DELETE FROM verifications WHERE handled_at < ?").run(now - maxAgeMs);
  }

  verificationSeen(txnId: string): boolean {
    return this.#db.prepare("SELECT 1 FROM verifications WHERE txn_id = ?").get(txnId) !==
      undefined;
  }

  markVerification(txnId: string, now = Date.now()): void {
    this.#db.prepare("INSERT OR IGNORE INTO verifications (txn_id, handled_at) VALUES (?, ?)").run(
      txnId,
      now,
    );
  }
}
