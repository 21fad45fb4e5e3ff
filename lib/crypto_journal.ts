/**
 * Durable IndexedDB for matrix-js-sdk's Rust crypto and sync store.
 *
 * Deno has no IndexedDB; `fake-indexeddb` provides one in memory. This
 * journal makes it durable with a write-through mirror (E2EE-NOTES §3,
 * variant A): every write of a transaction is recorded as it is made
 * (lib/crypto_journal_hooks.ts) and mirrored into SQLite, `crypto.db`
 * (lib/crypto_journal_db.ts), synchronously when the transaction commits,
 * before any code that waited for the commit can run. At start the journal
 * is replayed into fake-indexeddb (lib/crypto_journal_restore.ts) before
 * the SDK opens anything.
 *
 * It depends on fake-indexeddb's prototypes (pinned version); the self-check
 * in lib/crypto_journal_check.ts compares the mirror with the live
 * databases, in the tests.
 *
 * @example
 * ```ts ignore
 * const journal = IdbJournal.open(store.path("crypto.db"));
 * await journal.restore();
 * journal.install();
 * // ... the SDK runs on globalThis.indexedDB ...
 * journal.close();
 * ```
 *
 * @module
 */
import "fake-indexeddb/auto";
import { JournalDb, type JournalMirror } from "./crypto_journal_db.ts";
import { installHooks } from "./crypto_journal_hooks.ts";
import type { Op } from "./crypto_journal_ops.ts";
import { restoreDatabases, type RestoreStats } from "./crypto_journal_restore.ts";
import { getLogger } from "./log.ts";

export type { JournalMirror } from "./crypto_journal_db.ts";
export type { RestoreStats } from "./crypto_journal_restore.ts";

const log = getLogger("crypto_journal");

/** The journal of every fake-indexeddb database, in one SQLite file. */
export class IdbJournal {
  /** The journal file. */
  readonly path: string;
  readonly #db: JournalDb;
  #installed = false;
  #closed = false;

  private constructor(db: JournalDb) {
    this.path = db.path;
    this.#db = db;
  }

  /** Opens (creating, mode 0600) the journal file. */
  static open(path: string): IdbJournal {
    return new IdbJournal(JournalDb.open(path));
  }

  /** Number of records mirrored (for logs and tests). */
  get recordCount(): number {
    return this.#db.recordCount();
  }

  /** What the journal holds, read-only (the self-check compares it with the live databases). */
  get mirror(): JournalMirror {
    return this.#db;
  }

  /**
   * Recreates every journaled database in fake-indexeddb. Call before
   * {@link install} and before anything opens a database.
   */
  async restore(): Promise<RestoreStats> {
    if (this.#installed) throw new Error("restore() must run before install()");
    return await restoreDatabases(this.#db);
  }

  /** Installs the hooks on fake-indexeddb's prototypes (once per process). */
  install(): void {
    if (this.#installed) return;
    installHooks({
      commit: (tx, ops) => this.#commit(tx, ops),
      forgetDatabase: (name) => {
        if (!this.#closed) this.#db.forgetDatabase(name);
      },
    });
    this.#installed = true;
  }

  #commit(tx: IDBTransaction, ops: Op[]): void {
    const upgrade = tx.mode === "versionchange";
    if (this.#closed || (!ops.length && !upgrade)) return;
    try {
      this.#db.write({ db: tx.db.name, version: tx.db.version, upgrade, ops });
    } catch (error) {
      // The live store and the mirror now differ; continuing would lose keys
      // at the next restart, so stop loudly.
      log.fatal(`Could not write the encryption store ${this.path}: ${(error as Error).message}`);
      throw error;
    }
  }

  /** Closes the SQLite file; later commits are not mirrored. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }
}
