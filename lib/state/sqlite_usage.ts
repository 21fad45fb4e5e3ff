/**
 * {@link UsageStore} in `state.db`, so a restart does not reset a budget.
 *
 * @module
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { UsageStore } from "./ports.ts";
import { oldestUsageDay, utcDay } from "./rules.ts";

/** Tokens used per user per UTC day in `state.db`, against a daily budget. */
export class SqliteUsageStore implements UsageStore {
  readonly #daily: number;
  readonly #get: StatementSync;
  readonly #add: StatementSync;
  readonly #prune: StatementSync;

  /** `daily` 0 disables the budget (usage is still counted). */
  constructor(db: DatabaseSync, daily: number) {
    this.#daily = daily;
    this.#get = db.prepare("SELECT tokens FROM usage WHERE user = ? AND day = ?");
    this.#add = db.prepare(
      `INSERT INTO usage (user, day, tokens) VALUES (?, ?, ?)
       ON CONFLICT (user, day) DO UPDATE SET tokens = tokens + excluded.tokens`,
    );
    this.#prune = db.prepare("DELETE FROM usage WHERE day < ?");
  }

  get daily(): number {
    return this.#daily;
  }

  used(user: string, now: number = Date.now()): number {
    return (this.#get.get(user, utcDay(now)) as { tokens: number } | undefined)?.tokens ?? 0;
  }

  exhausted(user: string, now: number = Date.now()): boolean {
    return this.#daily > 0 && this.used(user, now) >= this.#daily;
  }

  add(user: string, tokens: number, now: number = Date.now()): void {
    if (tokens <= 0) return;
    this.#add.run(user, utcDay(now), Math.round(tokens));
    this.#prune.run(oldestUsageDay(now));
  }
}
