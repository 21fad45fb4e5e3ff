/**
 * The encryption journal's SQLite file (`crypto.db`): its schema, opening it
 * checked, writing one committed IndexedDB transaction, and reading it back.
 *
 * One file holds every fake-indexeddb database: `dbs` (name, version),
 * `stores` (key path, autoIncrement, the key generator's next key),
 * `indexes`, and `records` (key as {@link encodeKey} text, value as
 * `encodeValue` bytes). The format is what existing stores hold, so
 * it only ever grows by columns added in place.
 *
 * @module
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { encodeKey } from "./crypto_journal_codec.ts";
import type { Op, OpKind, OpOf } from "./crypto_journal_ops.ts";
import { openChecked, SqliteOpenError, transaction } from "./sqlite.ts";

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS dbs (name TEXT PRIMARY KEY, version INTEGER NOT NULL) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS stores (
    db TEXT NOT NULL, name TEXT NOT NULL, key_path TEXT, auto_increment INTEGER NOT NULL,
    next_key INTEGER, PRIMARY KEY (db, name)) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS indexes (
    db TEXT NOT NULL, store TEXT NOT NULL, name TEXT NOT NULL, key_path TEXT NOT NULL,
    is_unique INTEGER NOT NULL, multi_entry INTEGER NOT NULL,
    PRIMARY KEY (db, store, name)) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS records (
    db TEXT NOT NULL, store TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL,
    PRIMARY KEY (db, store, key)) WITHOUT ROWID;`;

/** Every statement, prepared once when the file opens. */
const SQL = {
  version:
    "INSERT INTO dbs (name, version) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET version = excluded.version",
  put: "INSERT OR REPLACE INTO records (db, store, key, value) VALUES (?, ?, ?, ?)",
  nextKey: "UPDATE stores SET next_key = max(coalesce(next_key, 1), ?) WHERE db = ? AND name = ?",
  del: "DELETE FROM records WHERE db = ? AND store = ? AND key = ?",
  clear: "DELETE FROM records WHERE db = ? AND store = ?",
  createStore:
    "INSERT OR REPLACE INTO stores (db, name, key_path, auto_increment) VALUES (?, ?, ?, ?)",
  deleteStore: "DELETE FROM stores WHERE db = ? AND name = ?",
  deleteStoreIndexes: "DELETE FROM indexes WHERE db = ? AND store = ?",
  renameStore: "UPDATE stores SET name = ? WHERE db = ? AND name = ?",
  renameStoreIndexes: "UPDATE indexes SET store = ? WHERE db = ? AND store = ?",
  renameStoreRecords: "UPDATE records SET store = ? WHERE db = ? AND store = ?",
  createIndex:
    "INSERT OR REPLACE INTO indexes (db, store, name, key_path, is_unique, multi_entry) VALUES (?, ?, ?, ?, ?, ?)",
  deleteIndex: "DELETE FROM indexes WHERE db = ? AND store = ? AND name = ?",
  forgetRecords: "DELETE FROM records WHERE db = ?",
  forgetIndexes: "DELETE FROM indexes WHERE db = ?",
  forgetStores: "DELETE FROM stores WHERE db = ?",
  forgetDb: "DELETE FROM dbs WHERE name = ?",
  databases: "SELECT name, version FROM dbs",
  stores: "SELECT name, key_path, auto_increment, next_key FROM stores WHERE db = ?",
  indexes: "SELECT store, name, key_path, is_unique, multi_entry FROM indexes WHERE db = ?",
  records: "SELECT key, value FROM records WHERE db = ? AND store = ?",
  count: "SELECT count(*) AS n FROM records",
} as const;

type Statements = { [K in keyof typeof SQL]: StatementSync };

/** A journaled database. */
export interface JournaledDatabase {
  /** The database's name. */
  name: string;
  /** Its version after the last journaled upgrade. */
  version: number;
}

/** A journaled object store of one database. */
export interface JournaledStore {
  /** The store's name. */
  name: string;
  /** The store's key path; `undefined` for out-of-line keys. */
  keyPath: string | string[] | undefined;
  /** Whether the store generates keys. */
  autoIncrement: boolean;
  /** The key generator's next key, when the journal has seen one. */
  nextKey: number | null;
}

/** A journaled index of one database. */
export interface JournaledIndex {
  /** The store the index belongs to. */
  store: string;
  /** The index's name. */
  name: string;
  /** The index's key path. */
  keyPath: string | string[];
  /** Whether the index rejects duplicate keys. */
  unique: boolean;
  /** Whether an array value gives one index entry per element. */
  multiEntry: boolean;
}

/** A journaled record, as stored. */
export interface JournaledRecord {
  /** The key as {@link encodeKey} text. */
  key: string;
  /** The value as `encodeValue` bytes (lib/crypto_journal_codec.ts). */
  value: Uint8Array;
}

/** What the journal holds, read-only: restore replays it, the self-check compares it. */
export interface JournalMirror {
  /** Every journaled database. */
  databases(): JournaledDatabase[];
  /** The object stores of database `db`. */
  stores(db: string): JournaledStore[];
  /** The indexes of database `db`, of all its stores. */
  indexes(db: string): JournaledIndex[];
  /** The records of one object store. */
  records(db: string, store: string): JournaledRecord[];
  /** How many records the journal holds in all (for logs). */
  recordCount(): number;
}

/** One committed IndexedDB transaction, for {@link JournalDb.write}. */
export interface CommittedTransaction {
  /** The database's name. */
  db: string;
  /** The database's version after the transaction. */
  version: number;
  /** A `versionchange` transaction: it records the version even without ops. */
  upgrade: boolean;
  /** Its writes, in the order they were made. */
  ops: readonly Op[];
}

/** The journal file: open checked, write committed transactions, read back. */
export class JournalDb implements JournalMirror {
  /** The file's path (for messages). */
  readonly path: string;
  readonly #db: DatabaseSync;
  readonly #sql: Statements;

  private constructor(path: string, db: DatabaseSync) {
    this.path = path;
    this.#db = db;
    this.#sql = Object.fromEntries(
      Object.entries(SQL).map(([name, sql]) => [name, db.prepare(sql)]),
    ) as Statements;
  }

  /**
   * Opens (creating, mode 0600: it holds the device's keys) the journal
   * file. A file that is not a sound journal is an error naming the file;
   * it is left as it was, so it can be restored from a backup.
   */
  static open(path: string): JournalDb {
    let db: DatabaseSync;
    try {
      db = openChecked(path, { mode: 0o600, setup: createSchema });
    } catch (error) {
      if (!(error instanceof SqliteOpenError)) throw error;
      throw new Error(`The encryption store ${path} is unusable (${error.message})`, {
        cause: error.cause,
      });
    }
    return new JournalDb(path, db);
  }

  /**
   * Mirrors one committed IndexedDB transaction in one SQLite transaction,
   * synchronously: when this returns, the writes are on disk (WAL).
   */
  write(commit: CommittedTransaction): void {
    const s = this.#sql;
    transaction(this.#db, () => {
      if (commit.upgrade || commit.ops.length) s.version.run(commit.db, commit.version);
      for (const op of commit.ops) {
        (WRITERS[op.kind] as (s: Statements, db: string, op: Op) => void)(s, commit.db, op);
      }
    });
  }

  /** Forgets a deleted database: its records, indexes, stores and version. */
  forgetDatabase(name: string): void {
    const s = this.#sql;
    for (const table of [s.forgetRecords, s.forgetIndexes, s.forgetStores]) table.run(name);
    s.forgetDb.run(name);
  }

  /** Every journaled database. */
  databases(): JournaledDatabase[] {
    return this.#sql.databases.all() as unknown as JournaledDatabase[];
  }

  /** The object stores of database `db`. */
  stores(db: string): JournaledStore[] {
    const rows = this.#sql.stores.all(db) as Array<
      { name: string; key_path: string | null; auto_increment: number; next_key: number | null }
    >;
    return rows.map((r) => ({
      name: r.name,
      keyPath: r.key_path === null ? undefined : JSON.parse(r.key_path),
      autoIncrement: r.auto_increment === 1,
      nextKey: r.next_key,
    }));
  }

  /** The indexes of database `db`, of all its stores. */
  indexes(db: string): JournaledIndex[] {
    const rows = this.#sql.indexes.all(db) as Array<
      { store: string; name: string; key_path: string; is_unique: number; multi_entry: number }
    >;
    return rows.map((r) => ({
      store: r.store,
      name: r.name,
      keyPath: JSON.parse(r.key_path),
      unique: r.is_unique === 1,
      multiEntry: r.multi_entry === 1,
    }));
  }

  /** The records of one object store. */
  records(db: string, store: string): JournaledRecord[] {
    return this.#sql.records.all(db, store) as unknown as JournaledRecord[];
  }

  /** How many records the journal holds in all. */
  recordCount(): number {
    return (this.#sql.count.get() as { n: number }).n;
  }

  /** Closes the file. */
  close(): void {
    this.#db.close();
  }
}

function createSchema(db: DatabaseSync): void {
  db.exec(SCHEMA);
  // Journals written before the key generator was journaled lack next_key.
  const columns = db.prepare("PRAGMA table_info(stores)").all() as Array<{ name: string }>;
  if (!columns.some((c) => c.name === "next_key")) {
    db.exec("ALTER TABLE stores ADD COLUMN next_key INTEGER");
  }
}

/** How each kind of op changes the file. */
const WRITERS: { [K in OpKind]: (s: Statements, db: string, op: OpOf<K>) => void } = {
  put(s, db, op) {
    // A put whose request failed (its error handled, so the transaction
    // still commits) has no key and wrote nothing.
    if (op.key !== undefined) s.put.run(db, op.store, encodeKey(op.key), op.value);
    if (op.nextKey !== undefined) s.nextKey.run(op.nextKey, db, op.store);
  },
  delete(s, db, op) {
    for (const key of op.keys ?? []) s.del.run(db, op.store, encodeKey(key));
  },
  clear(s, db, op) {
    s.clear.run(db, op.store);
  },
  createStore(s, db, op) {
    const keyPath = op.keyPath === null || op.keyPath === undefined
      ? null
      : JSON.stringify(op.keyPath);
    s.createStore.run(db, op.store, keyPath, op.autoIncrement ? 1 : 0);
  },
  deleteStore(s, db, op) {
    s.deleteStore.run(db, op.store);
    s.deleteStoreIndexes.run(db, op.store);
    s.clear.run(db, op.store);
  },
  renameStore(s, db, op) {
    s.renameStore.run(op.to, db, op.store);
    s.renameStoreIndexes.run(op.to, db, op.store);
    s.renameStoreRecords.run(op.to, db, op.store);
  },
  createIndex(s, db, op) {
    const flags = [op.unique ? 1 : 0, op.multiEntry ? 1 : 0] as const;
    s.createIndex.run(db, op.store, op.index, JSON.stringify(op.keyPath), ...flags);
  },
  deleteIndex(s, db, op) {
    s.deleteIndex.run(db, op.store, op.index);
  },
};
