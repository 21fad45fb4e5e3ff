/**
 * {@link UsageStore} in `state.db`, so a restart does not reset a budget.
 *
 * @module
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { TokenCount, UsageQuery, UsageRow, UsageStore } from "./ports.ts";
import { oldestUsageDay, utcDay } from "./rules.ts";

/** Tokens per user, per model, per UTC day in `state.db`. */
export class SqliteUsageStore implements UsageStore {
  readonly #add: StatementSync;
  readonly #prune: StatementSync;
  readonly #sumAll: StatementSync;
  readonly #sumUser: StatementSync;
  /** The day of the last prune: old days are forgotten once a day, not on every count. */
  #prunedOn = "";

  /** Keeps usage in `db` (a migrated `state.db`). */
  constructor(db: DatabaseSync) {
    this.#add = db.prepare(
      `INSERT INTO token_usage (user, model, day, input, output) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (user, day, model) DO UPDATE SET
         input = input + excluded.input, output = output + excluded.output`,
    );
    this.#prune = db.prepare("DELETE FROM token_usage WHERE day < ?");
    const sum = (where: string) =>
      db.prepare(
        `SELECT user, model, SUM(input) AS input, SUM(output) AS output FROM token_usage
         WHERE day >= ? AND day <= ?${where} GROUP BY user, model ORDER BY user, model`,
      );
    this.#sumAll = sum("");
    this.#sumUser = sum(" AND user = ?");
  }

  add(user: string, model: string, tokens: TokenCount, now: number = Date.now()): void {
    const input = Math.max(0, Math.round(tokens.input));
    const output = Math.max(0, Math.round(tokens.output));
    if (input === 0 && output === 0) return;
    const day = utcDay(now);
    this.#add.run(user, model, day, input, output);
    if (this.#prunedOn !== day) {
      this.#prune.run(oldestUsageDay(now));
      this.#prunedOn = day;
    }
  }

  sum(query: UsageQuery): UsageRow[] {
    const rows = query.user === undefined
      ? this.#sumAll.all(query.from, query.to)
      : this.#sumUser.all(query.from, query.to, query.user);
    return (rows as unknown as UsageRow[]).map((r) => ({
      user: r.user,
      model: r.model,
      input: Number(r.input),
      output: Number(r.output),
    }));
  }
}
