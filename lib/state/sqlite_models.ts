/**
 * {@link PersonalModelStore} in `state.db`.
 *
 * @module
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { PersonalModelStore } from "./ports.ts";

/** Per-user, per-room model choices (`.mymodel`) in `state.db`. */
export class SqlitePersonalModelStore implements PersonalModelStore {
  readonly #db: DatabaseSync;
  readonly #get: StatementSync;
  readonly #put: StatementSync;
  readonly #del: StatementSync;

  /** Keeps personal models in `db` (a migrated `state.db`). */
  constructor(db: DatabaseSync) {
    this.#db = db;
    this.#get = db.prepare("SELECT model FROM personal_models WHERE room = ? AND user = ?");
    this.#put = db.prepare(
      `INSERT INTO personal_models (room, user, model) VALUES (?, ?, ?)
       ON CONFLICT (room, user) DO UPDATE SET model = excluded.model`,
    );
    this.#del = db.prepare("DELETE FROM personal_models WHERE room = ? AND user = ?");
  }

  get(room: string, user: string): string | undefined {
    return (this.#get.get(room, user) as { model: string } | undefined)?.model;
  }

  set(room: string, user: string, model: string): void {
    this.#put.run(room, user, model);
  }

  clear(room: string, user: string): boolean {
    return Number(this.#del.run(room, user).changes) > 0;
  }

  clearAll(): void {
    this.#db.exec("DELETE FROM personal_models");
  }
}
