/**
 * Durable IndexedDB for matrix-js-sdk's Rust crypto and sync store.
 *
 * Deno has no IndexedDB; `fake-indexeddb` provides one in memory. This module
 * makes it durable with a write-through journal (E2EE-NOTES §3, variant A):
 * every write of a transaction is recorded as it is made and mirrored into
 * SQLite (`crypto.db`) synchronously when the transaction commits, before
 * any code that waited for the commit can run. At start the journal is
 * replayed into fake-indexeddb before the SDK opens anything.
 *
 * It depends on fake-indexeddb's prototypes (pinned version); `verify()`
 * compares the mirror with the live databases and runs in the tests.
 *
 * @module
 */
import "fake-indexeddb/auto";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { isDeepStrictEqual } from "node:util";
import { deserialize, serialize } from "node:v8";
import { decodeBase64, encodeBase64 } from "./base64.ts";
import { getLogger } from "./log.ts";

const log = getLogger("crypto_store");

/** A valid IndexedDB key. */
type Key = IDBValidKey;

/**
 * A canonical text form of an IndexedDB key. Equal keys always give equal
 * text (V8's serializer does not promise that for strings), so the text can
 * be a SQLite primary key.
 */
export function encodeKey(key: Key): string {
  if (typeof key === "number") return `n:${Object.is(key, -0) ? 0 : key}`;
  // JSON escapes lone surrogates, which SQLite text would otherwise mangle.
  if (typeof key === "string") return `s:${JSON.stringify(key)}`;
  if (key instanceof Date) return `d:${key.getTime()}`;
  if (Array.isArray(key)) return `a:${JSON.stringify(key.map((k) => encodeKey(k as Key)))}`;
  if (key instanceof ArrayBuffer) return `b:${encodeBase64(new Uint8Array(key))}`;
  if (ArrayBuffer.isView(key)) {
    return `b:${encodeBase64(new Uint8Array(key.buffer, key.byteOffset, key.byteLength))}`;
  }
  throw new TypeError(`not an IndexedDB key: ${String(key)}`);
}

/** The key an {@link encodeKey} text stands for (binary keys come back as ArrayBuffer). */
export function decodeKey(text: string): Key {
  const tag = text.slice(0, 2);
  const rest = text.slice(2);
  switch (tag) {
    case "n:":
      return Number(rest);
    case "s:":
      return JSON.parse(rest) as string;
    case "d:":
      return new Date(Number(rest));
    case "a:":
      return (JSON.parse(rest) as string[]).map(decodeKey);
    case "b:": {
      const bytes = decodeBase64(rest);
      return bytes.buffer.slice(
        bytes.byteOffset,
        bytes.byteOffset + bytes.byteLength,
      ) as ArrayBuffer;
    }
  }
  throw new TypeError(`bad encoded key: ${text.slice(0, 20)}`);
}

type Op =
  | { kind: "put"; store: string; key?: Key; value: Uint8Array; nextKey?: number }
  | { kind: "delete"; store: string; keys?: Key[] }
  | { kind: "clear"; store: string }
  | { kind: "createStore"; store: string; keyPath: unknown; autoIncrement: boolean }
  | { kind: "deleteStore"; store: string }
  | { kind: "renameStore"; store: string; to: string }
  | {
    kind: "createIndex";
    store: string;
    index: string;
    keyPath: unknown;
    unique: boolean;
    multiEntry: boolean;
  }
  | { kind: "deleteIndex"; store: string; index: string };

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

/** A copy of `value` with `key` set at the dotted `keyPath`. */
function withKey(value: unknown, keyPath: string, key: Key): unknown {
  if (!value || typeof value !== "object") return value;
  const copy = structuredClone(value) as Record<string, unknown>;
  const parts = keyPath.split(".");
  let node = copy;
  for (const part of parts.slice(0, -1)) {
    if (!node[part] || typeof node[part] !== "object") node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]] = key;
  return copy;
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.addEventListener("success", () => resolve(req.result));
    req.addEventListener("error", () => reject(req.error));
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.addEventListener("complete", () => resolve());
    tx.addEventListener("abort", () => reject(tx.error ?? new Error("transaction aborted")));
    tx.addEventListener("error", () => reject(tx.error));
  });
}

/** What {@link IdbJournal.restore} brought back. */
export interface RestoreStats {
  databases: number;
  records: number;
}

/** The journal of every fake-indexeddb database, in one SQLite file. */
export class IdbJournal {
  readonly path: string;
  readonly #db: DatabaseSync;
  readonly #pending = new WeakMap<IDBTransaction, Op[]>();
  /** The running upgrade transaction of each database being upgraded. */
  readonly #upgrades = new WeakMap<IDBDatabase, IDBTransaction>();
  #installed = false;
  #closed = false;
  #stmts!: {
    version: StatementSync;
    put: StatementSync;
    del: StatementSync;
    clear: StatementSync;
  };

  private constructor(path: string, db: DatabaseSync) {
    this.path = path;
    this.#db = db;
  }

  /** Opens (creating, mode 0600) the journal file. */
  static open(path: string): IdbJournal {
    try {
      Deno.writeFileSync(path, new Uint8Array(), { append: true, create: true, mode: 0o600 });
    } catch {
      // SQLite reports a clearer error below.
    }
    const db = new DatabaseSync(path);
    try {
      const check = db.prepare("PRAGMA quick_check").get() as { quick_check?: string };
      if (check?.quick_check !== "ok") {
        throw new Error(`integrity check failed: ${check?.quick_check}`);
      }
      db.exec("PRAGMA journal_mode = WAL");
      db.exec("PRAGMA synchronous = NORMAL");
      db.exec(SCHEMA);
      // Journals written before the key generator was journaled lack next_key.
      const columns = db.prepare("PRAGMA table_info(stores)").all() as Array<{ name: string }>;
      if (!columns.some((c) => c.name === "next_key")) {
        db.exec("ALTER TABLE stores ADD COLUMN next_key INTEGER");
      }
    } catch (error) {
      db.close();
      throw new Error(`The encryption store ${path} is unusable (${(error as Error).message})`, {
        cause: error,
      });
    }
    const journal = new IdbJournal(path, db);
    journal.#stmts = {
      version: db.prepare(
        "INSERT INTO dbs (name, version) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET version = excluded.version",
      ),
      put: db.prepare("INSERT OR REPLACE INTO records (db, store, key, value) VALUES (?, ?, ?, ?)"),
      del: db.prepare("DELETE FROM records WHERE db = ? AND store = ? AND key = ?"),
      clear: db.prepare("DELETE FROM records WHERE db = ? AND store = ?"),
    };
    return journal;
  }

  /** Number of records mirrored (for logs and tests). */
  get recordCount(): number {
    return (this.#db.prepare("SELECT count(*) AS n FROM records").get() as { n: number }).n;
  }

  /**
   * Recreates every journaled database in fake-indexeddb. Call before
   * {@link install} and before anything opens a database.
   */
  async restore(): Promise<RestoreStats> {
    if (this.#installed) throw new Error("restore() must run before install()");
    const dbs = this.#db.prepare("SELECT name, version FROM dbs").all() as Array<
      { name: string; version: number }
    >;
    let records = 0;
    for (const { name, version } of dbs) {
      const stores = this.#db.prepare(
        "SELECT name, key_path, auto_increment, next_key FROM stores WHERE db = ?",
      ).all(name) as Array<
        { name: string; key_path: string | null; auto_increment: number; next_key: number | null }
      >;
      const indexes = this.#db.prepare(
        "SELECT store, name, key_path, is_unique, multi_entry FROM indexes WHERE db = ?",
      ).all(name) as Array<
        { store: string; name: string; key_path: string; is_unique: number; multi_entry: number }
      >;
      const open = indexedDB.open(name, version);
      open.addEventListener("upgradeneeded", () => {
        const db = open.result;
        for (const s of stores) {
          const keyPath = s.key_path === null ? undefined : JSON.parse(s.key_path);
          const store = db.createObjectStore(s.name, {
            keyPath: keyPath ?? undefined,
            autoIncrement: s.auto_increment === 1,
          });
          for (const ix of indexes.filter((i) => i.store === s.name)) {
            store.createIndex(ix.name, JSON.parse(ix.key_path), {
              unique: ix.is_unique === 1,
              multiEntry: ix.multi_entry === 1,
            });
          }
        }
      });
      const db = await request(open);
      for (const s of stores) {
        const rows = this.#db.prepare(
          "SELECT key, value FROM records WHERE db = ? AND store = ?",
        ).all(name, s.name) as Array<{ key: string; value: Uint8Array }>;
        if (!rows.length && !s.next_key) continue;
        const tx = db.transaction(s.name, "readwrite");
        const store = tx.objectStore(s.name);
        for (const row of rows) {
          const value = deserialize(row.value);
          if (store.keyPath === null) store.put(value, decodeKey(row.key));
          else store.put(value);
        }
        // Restores the key generator: an explicit key moves it past that key.
        if (s.auto_increment && s.next_key && s.next_key > 1) {
          const key = s.next_key - 1;
          const exists = await request(store.getKey(key));
          if (exists === undefined) {
            store.put(
              typeof store.keyPath === "string" ? withKey({}, store.keyPath, key) : {},
              store.keyPath === null ? key : undefined,
            );
            store.delete(key);
          }
        }
        await done(tx);
        records += rows.length;
      }
      db.close();
    }
    return { databases: dbs.length, records };
  }

  #ops(tx: IDBTransaction): Op[] {
    let ops = this.#pending.get(tx);
    if (!ops) {
      ops = [];
      this.#pending.set(tx, ops);
      const list = ops;
      // Runs inside the dispatch of "complete", before any promise that
      // waited for the commit resumes: the mirror is durable first.
      tx.addEventListener("complete", () => this.#commit(tx, list));
      tx.addEventListener("abort", () => this.#pending.delete(tx));
    }
    return ops;
  }

  #commit(tx: IDBTransaction, ops: Op[]): void {
    this.#pending.delete(tx);
    if (this.#closed || (!ops.length && tx.mode !== "versionchange")) return;
    const dbName = tx.db.name;
    const db = this.#db;
    const s = this.#stmts;
    db.exec("BEGIN IMMEDIATE");
    try {
      if (tx.mode === "versionchange" || ops.length) s.version.run(dbName, tx.db.version);
      for (const op of ops) {
        switch (op.kind) {
          case "put":
            if (op.key !== undefined) s.put.run(dbName, op.store, encodeKey(op.key), op.value);
            if (op.nextKey !== undefined) {
              db.prepare(
                "UPDATE stores SET next_key = max(coalesce(next_key, 1), ?) WHERE db = ? AND name = ?",
              ).run(op.nextKey, dbName, op.store);
            }
            break;
          case "delete":
            for (const key of op.keys ?? []) s.del.run(dbName, op.store, encodeKey(key));
            break;
          case "clear":
            s.clear.run(dbName, op.store);
            break;
          case "createStore":
            db.prepare(
              "INSERT OR REPLACE INTO stores (db, name, key_path, auto_increment) VALUES (?, ?, ?, ?)",
            ).run(
              dbName,
              op.store,
              op.keyPath === null || op.keyPath === undefined ? null : JSON.stringify(op.keyPath),
              op.autoIncrement ? 1 : 0,
            );
            break;
          case "deleteStore":
            for (const table of ["stores", "indexes", "records"]) {
              const column = table === "stores" ? "name" : "store";
              db.prepare(`DELETE FROM ${table} WHERE db = ? AND ${column} = ?`).run(
                dbName,
                op.store,
              );
            }
            break;
          case "renameStore":
            db.prepare("UPDATE stores SET name = ? WHERE db = ? AND name = ?").run(
              op.to,
              dbName,
              op.store,
            );
            for (const table of ["indexes", "records"]) {
              db.prepare(`UPDATE ${table} SET store = ? WHERE db = ? AND store = ?`).run(
                op.to,
                dbName,
                op.store,
              );
            }
            break;
          case "createIndex":
            db.prepare(
              "INSERT OR REPLACE INTO indexes (db, store, name, key_path, is_unique, multi_entry) VALUES (?, ?, ?, ?, ?, ?)",
            ).run(
              dbName,
              op.store,
              op.index,
              JSON.stringify(op.keyPath),
              op.unique ? 1 : 0,
              op.multiEntry ? 1 : 0,
            );
            break;
          case "deleteIndex":
            db.prepare("DELETE FROM indexes WHERE db = ? AND store = ? AND name = ?").run(
              dbName,
              op.store,
              op.index,
            );
            break;
        }
      }
      db.exec("COMMIT");
    } catch (error) {
      db.exec("ROLLBACK");
      // The live store and the mirror now differ; continuing would lose keys
      // at the next restart, so stop loudly.
      log.fatal(`Could not write the encryption store ${this.path}: ${(error as Error).message}`);
      throw error;
    }
  }

  #forgetDatabase(name: string): void {
    if (this.#closed) return;
    for (const table of ["records", "indexes", "stores"]) {
      this.#db.prepare(`DELETE FROM ${table} WHERE db = ?`).run(name);
    }
    this.#db.prepare("DELETE FROM dbs WHERE name = ?").run(name);
  }

  /** Installs the hooks on fake-indexeddb's prototypes (once per process). */
  install(): void {
    if (this.#installed) return;
    if ((globalThis as { __infinigptJournal?: boolean }).__infinigptJournal) {
      throw new Error("an IndexedDB journal is already installed in this process");
    }
    (globalThis as { __infinigptJournal?: boolean }).__infinigptJournal = true;
    this.#installed = true;
    // deno-lint-ignore no-this-alias -- the hooks need the journal and `this` of the store
    const journal = this;
    const ObjectStore = globalThis.IDBObjectStore.prototype;
    const Cursor = globalThis.IDBCursor.prototype;
    const Database = globalThis.IDBDatabase.prototype;
    const Factory = globalThis.IDBFactory.prototype;

    const { put, add, delete: del, clear, createIndex, deleteIndex, getAllKeys } = ObjectStore;
    const record = (
      store: IDBObjectStore,
      original: typeof put,
      value: unknown,
      key: Key | undefined,
      args: IArguments,
    ) => {
      const bytes = new Uint8Array(serialize(value));
      const req = original.apply(store, args as unknown as [unknown, Key?]);
      const op: Op & { kind: "put" } = { kind: "put", store: store.name, value: bytes };
      journal.#ops(store.transaction).push(op);
      const { keyPath, autoIncrement } = store;
      req.addEventListener("success", () => {
        op.key = (req.result as Key) ?? key;
        if (autoIncrement && typeof op.key === "number") {
          op.nextKey = Math.floor(op.key) + 1;
          // The store put the generated key into its copy of the value; so do we.
          if (typeof keyPath === "string" && key === undefined) {
            op.value = new Uint8Array(serialize(withKey(deserialize(bytes), keyPath, op.key)));
          }
        }
      });
      return req;
    };
    ObjectStore.put = function (this: IDBObjectStore, value: unknown, key?: Key) {
      return record(this, put, value, key, arguments);
    };
    ObjectStore.add = function (this: IDBObjectStore, value: unknown, key?: Key) {
      return record(this, add, value, key, arguments);
    };
    ObjectStore.delete = function (this: IDBObjectStore, query: Key | IDBKeyRange) {
      const op: Op = { kind: "delete", store: this.name };
      if (query instanceof globalThis.IDBKeyRange) {
        // Queued before the delete, so it lists the keys the delete removes.
        const keys = getAllKeys.call(this, query);
        keys.addEventListener("success", () => {
          op.keys = keys.result as Key[];
        });
      } else op.keys = [query];
      const req = del.call(this, query);
      journal.#ops(this.transaction).push(op);
      return req;
    };
    ObjectStore.clear = function (this: IDBObjectStore) {
      const req = clear.call(this);
      journal.#ops(this.transaction).push({ kind: "clear", store: this.name });
      return req;
    };
    ObjectStore.createIndex = function (
      this: IDBObjectStore,
      name: string,
      keyPath: string | string[],
      options?: IDBIndexParameters,
    ) {
      const index = createIndex.call(this, name, keyPath, options);
      journal.#ops(this.transaction).push({
        kind: "createIndex",
        store: this.name,
        index: name,
        keyPath,
        unique: !!options?.unique,
        multiEntry: !!options?.multiEntry,
      });
      return index;
    };
    ObjectStore.deleteIndex = function (this: IDBObjectStore, name: string) {
      deleteIndex.call(this, name);
      journal.#ops(this.transaction).push({ kind: "deleteIndex", store: this.name, index: name });
    };
    const nameDescriptor = Object.getOwnPropertyDescriptor(ObjectStore, "name")!;
    Object.defineProperty(ObjectStore, "name", {
      ...nameDescriptor,
      set(this: IDBObjectStore, value: string) {
        const from = this.name;
        nameDescriptor.set!.call(this, value);
        if (from !== this.name) {
          journal.#ops(this.transaction).push({ kind: "renameStore", store: from, to: this.name });
        }
      },
    });

    const { update, delete: cursorDelete } = Cursor;
    const storeOf = (cursor: IDBCursor): IDBObjectStore =>
      cursor.source instanceof globalThis.IDBIndex
        ? cursor.source.objectStore
        : cursor.source as IDBObjectStore;
    Cursor.update = function (this: IDBCursor, value: unknown) {
      const bytes = new Uint8Array(serialize(value));
      const req = update.call(this, value);
      const store = storeOf(this);
      journal.#ops(store.transaction).push({
        kind: "put",
        store: store.name,
        key: this.primaryKey,
        value: bytes,
      });
      return req;
    };
    Cursor.delete = function (this: IDBCursor) {
      const req = cursorDelete.call(this);
      const store = storeOf(this);
      journal.#ops(store.transaction).push({
        kind: "delete",
        store: store.name,
        keys: [this.primaryKey],
      });
      return req;
    };

    const { createObjectStore, deleteObjectStore, transaction } = Database;
    Database.transaction = function (
      this: IDBDatabase,
      ...args: Parameters<IDBDatabase["transaction"]>
    ) {
      const tx = transaction.apply(this, args);
      // Our "complete" listener must run before any the caller adds.
      if (tx.mode !== "readonly") journal.#ops(tx);
      return tx;
    } as IDBDatabase["transaction"];
    Database.createObjectStore = function (
      this: IDBDatabase,
      name: string,
      options?: IDBObjectStoreParameters,
    ) {
      const store = createObjectStore.call(this, name, options);
      journal.#ops(store.transaction).push({
        kind: "createStore",
        store: name,
        keyPath: options?.keyPath ?? null,
        autoIncrement: !!options?.autoIncrement,
      });
      return store;
    };
    Database.deleteObjectStore = function (this: IDBDatabase, name: string) {
      const tx = journal.#upgrades.get(this);
      deleteObjectStore.call(this, name);
      if (tx) journal.#ops(tx).push({ kind: "deleteStore", store: name });
      else log.warn(`deleteObjectStore(${name}) outside an upgrade was not journaled`);
    };

    const { deleteDatabase, open } = Factory;
    Factory.open = function (this: IDBFactory, name: string, version?: number) {
      const req = open.call(this, name, version);
      // Records the new version even when the upgrade changes no schema.
      req.addEventListener("upgradeneeded", () => {
        journal.#upgrades.set(req.result, req.transaction!);
        journal.#ops(req.transaction!);
      });
      return req;
    };
    Factory.deleteDatabase = function (this: IDBFactory, name: string) {
      const req = deleteDatabase.call(this, name);
      req.addEventListener("success", () => journal.#forgetDatabase(name));
      return req;
    };
  }

  /**
   * Compares the mirror with the live databases. Returns a list of
   * differences; empty means identical.
   */
  async verify(): Promise<string[]> {
    const problems: string[] = [];
    const names = new Set([
      ...(this.#db.prepare("SELECT name FROM dbs").all() as Array<{ name: string }>).map((r) =>
        r.name
      ),
      ...(await indexedDB.databases()).map((d) => d.name!).filter(Boolean),
    ]);
    for (const name of names) {
      const row = this.#db.prepare("SELECT version FROM dbs WHERE name = ?").get(name) as
        | { version: number }
        | undefined;
      const live = (await indexedDB.databases()).find((d) => d.name === name);
      if (!row) {
        problems.push(`${name}: live but not journaled`);
        continue;
      }
      if (!live) {
        problems.push(`${name}: journaled but not live`);
        continue;
      }
      if (live.version !== row.version) {
        problems.push(`${name}: version ${live.version} vs ${row.version}`);
      }
      const db = await request(indexedDB.open(name));
      try {
        const stores = [...db.objectStoreNames];
        const journaled =
          (this.#db.prepare("SELECT name FROM stores WHERE db = ?").all(name) as Array<
            { name: string }
          >).map((r) => r.name);
        for (const s of journaled) if (!stores.includes(s)) problems.push(`${name}/${s}: not live`);
        for (const s of stores) {
          if (!journaled.includes(s)) {
            problems.push(`${name}/${s}: not journaled`);
            continue;
          }
          const tx = db.transaction(s, "readonly");
          const store = tx.objectStore(s);
          const [keys, values] = await Promise.all([
            request(store.getAllKeys()),
            request(store.getAll()),
          ]);
          const rows = new Map(
            (this.#db.prepare("SELECT key, value FROM records WHERE db = ? AND store = ?").all(
              name,
              s,
            ) as Array<
              { key: string; value: Uint8Array }
            >).map((r) => [r.key, r.value]),
          );
          if (rows.size !== keys.length) {
            problems.push(`${name}/${s}: ${keys.length} live vs ${rows.size} journaled`);
          }
          keys.forEach((key, i) => {
            const blob = rows.get(encodeKey(key));
            if (!blob) {
              problems.push(`${name}/${s}: key ${encodeKey(key).slice(0, 40)} not journaled`);
            } else if (!isDeepStrictEqual(deserialize(blob), values[i])) {
              problems.push(`${name}/${s}: value of ${encodeKey(key).slice(0, 40)} differs`);
            }
          });
        }
      } finally {
        db.close();
      }
    }
    return problems;
  }

  /** Closes the SQLite file; later commits are not mirrored. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }
}
