/**
 * Hooks on fake-indexeddb's prototypes that record every write of every
 * transaction and hand the list over when the transaction commits.
 *
 * Hooked (fake-indexeddb 6.2.8, pinned in deno.json):
 * - `IDBObjectStore`: `put`, `add`, `delete`, `clear`, `createIndex`,
 *   `deleteIndex`, the `name` setter (a rename in an upgrade);
 * - `IDBCursor`: `update`, `delete`;
 * - `IDBDatabase`: `transaction`, `createObjectStore`, `deleteObjectStore`;
 * - `IDBFactory`: `open`, `deleteDatabase`.
 *
 * Each hook records only after the original call returned, so a call that
 * throws records nothing, and returns what the original returned. Reads are
 * not hooked. Index renames are not hooked: one would be lost at the next
 * start, and the self-check (lib/crypto_journal_check.ts) would show it.
 *
 * @module
 */
import "fake-indexeddb/auto";
import { decodeValue, encodeValue, withKey } from "./crypto_journal_codec.ts";
import type { Op } from "./crypto_journal_ops.ts";
import { getLogger } from "./log.ts";

const log = getLogger("crypto_journal");

/** Where the hooks deliver what they recorded. */
export interface JournalSink {
  /**
   * A write or upgrade transaction committed, with its ops in the order they
   * were made (maybe none). It runs inside the dispatch of "complete",
   * before any code that waited for the commit resumes: writing the mirror
   * here, synchronously, makes it durable first.
   */
  commit(tx: IDBTransaction, ops: Op[]): void;
  /** A database was deleted. */
  forgetDatabase(name: string): void;
}

/** The flag on `globalThis` that says the prototypes are hooked already. */
const INSTALLED = "__infinigptJournal";

/**
 * Installs the hooks. Prototypes are global, so this happens once per
 * process: a second call throws, as two journals would each record half.
 */
export function installHooks(sink: JournalSink): void {
  const global = globalThis as { [INSTALLED]?: boolean };
  if (global[INSTALLED]) {
    throw new Error("an IndexedDB journal is already installed in this process");
  }
  global[INSTALLED] = true;
  const recorder = new Recorder(sink);
  hookStoreWrites(recorder);
  hookStoreSchema(recorder);
  hookCursor(recorder);
  hookDatabase(recorder);
  hookFactory(recorder);
}

/** The pending ops of each running transaction, handed to the sink at commit. */
class Recorder {
  readonly sink: JournalSink;
  /** The running upgrade transaction of each database being upgraded. */
  readonly upgrades = new WeakMap<IDBDatabase, IDBTransaction>();
  readonly #pending = new WeakMap<IDBTransaction, Op[]>();

  constructor(sink: JournalSink) {
    this.sink = sink;
  }

  /** The op list of `tx`; the first call listens for its end. */
  ops(tx: IDBTransaction): Op[] {
    let ops = this.#pending.get(tx);
    if (!ops) {
      ops = [];
      this.#pending.set(tx, ops);
      const list = ops;
      tx.addEventListener("complete", () => {
        this.#pending.delete(tx);
        this.sink.commit(tx, list);
      });
      // An aborted transaction changed nothing: its ops are dropped.
      tx.addEventListener("abort", () => this.#pending.delete(tx));
    }
    return ops;
  }
}

/** `put`/`add`: records the value as given, the key once the request has it. */
function recordPut(
  recorder: Recorder,
  store: IDBObjectStore,
  original: IDBObjectStore["put"],
  value: unknown,
  key: IDBValidKey | undefined,
  args: IArguments,
): IDBRequest<IDBValidKey> {
  // Copied now, as the store copies it now: later changes must reach neither.
  const bytes = encodeValue(value);
  // The arguments as given: fake-indexeddb tells put(v) from put(v, undefined).
  const req = original.apply(store, args as unknown as [unknown, IDBValidKey?]);
  const op: Op & { kind: "put" } = { kind: "put", store: store.name, value: bytes };
  recorder.ops(store.transaction).push(op);
  const { keyPath, autoIncrement } = store;
  req.addEventListener("success", () => {
    op.key = req.result ?? key;
    if (autoIncrement && typeof op.key === "number") {
      op.nextKey = Math.floor(op.key) + 1;
      // The store put the generated key into its copy of the value; so do we.
      if (typeof keyPath === "string" && key === undefined) {
        op.value = encodeValue(withKey(decodeValue(bytes), keyPath, op.key));
      }
    }
  });
  return req;
}

/** Record writes: put, add, delete (by key or range), clear. */
function hookStoreWrites(recorder: Recorder): void {
  const ObjectStore = globalThis.IDBObjectStore.prototype;
  const { put, add, delete: del, clear, getAllKeys } = ObjectStore;
  ObjectStore.put = function (this: IDBObjectStore, value: unknown, key?: IDBValidKey) {
    return recordPut(recorder, this, put, value, key, arguments);
  };
  ObjectStore.add = function (this: IDBObjectStore, value: unknown, key?: IDBValidKey) {
    return recordPut(recorder, this, add, value, key, arguments);
  };
  ObjectStore.delete = function (this: IDBObjectStore, query: IDBValidKey | IDBKeyRange) {
    const op: Op = { kind: "delete", store: this.name };
    if (query instanceof globalThis.IDBKeyRange) {
      // Queued before the delete, so it lists the keys the delete removes.
      const keys = getAllKeys.call(this, query);
      keys.addEventListener("success", () => {
        op.keys = keys.result;
      });
    } else op.keys = [query];
    const req = del.call(this, query);
    recorder.ops(this.transaction).push(op);
    return req;
  };
  ObjectStore.clear = function (this: IDBObjectStore) {
    const req = clear.call(this);
    recorder.ops(this.transaction).push({ kind: "clear", store: this.name });
    return req;
  };
}

/** Store schema inside an upgrade: indexes and renames. */
function hookStoreSchema(recorder: Recorder): void {
  const ObjectStore = globalThis.IDBObjectStore.prototype;
  const { createIndex, deleteIndex } = ObjectStore;
  ObjectStore.createIndex = function (
    this: IDBObjectStore,
    name: string,
    keyPath: string | string[],
    options?: IDBIndexParameters,
  ) {
    const index = createIndex.call(this, name, keyPath, options);
    recorder.ops(this.transaction).push({
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
    recorder.ops(this.transaction).push({ kind: "deleteIndex", store: this.name, index: name });
  };
  const nameDescriptor = Object.getOwnPropertyDescriptor(ObjectStore, "name")!;
  Object.defineProperty(ObjectStore, "name", {
    ...nameDescriptor,
    set(this: IDBObjectStore, value: string) {
      const from = this.name;
      nameDescriptor.set!.call(this, value);
      if (from !== this.name) {
        recorder.ops(this.transaction).push({ kind: "renameStore", store: from, to: this.name });
      }
    },
  });
}

/** Writes through a cursor (over a store or one of its indexes). */
function hookCursor(recorder: Recorder): void {
  const Cursor = globalThis.IDBCursor.prototype;
  const { update, delete: cursorDelete } = Cursor;
  const storeOf = (cursor: IDBCursor): IDBObjectStore =>
    cursor.source instanceof globalThis.IDBIndex
      ? cursor.source.objectStore
      : cursor.source as IDBObjectStore;
  Cursor.update = function (this: IDBCursor, value: unknown) {
    const bytes = encodeValue(value);
    const req = update.call(this, value);
    const store = storeOf(this);
    recorder.ops(store.transaction).push({
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
    recorder.ops(store.transaction).push({
      kind: "delete",
      store: store.name,
      keys: [this.primaryKey],
    });
    return req;
  };
}

/** Transactions and the stores of a database. */
function hookDatabase(recorder: Recorder): void {
  const Database = globalThis.IDBDatabase.prototype;
  const { createObjectStore, deleteObjectStore, transaction } = Database;
  Database.transaction = function (
    this: IDBDatabase,
    ...args: Parameters<IDBDatabase["transaction"]>
  ) {
    const tx = transaction.apply(this, args);
    // Our "complete" listener must run before any the caller adds.
    if (tx.mode !== "readonly") recorder.ops(tx);
    return tx;
  } as IDBDatabase["transaction"];
  Database.createObjectStore = function (
    this: IDBDatabase,
    name: string,
    options?: IDBObjectStoreParameters,
  ) {
    const store = createObjectStore.call(this, name, options);
    recorder.ops(store.transaction).push({
      kind: "createStore",
      store: name,
      keyPath: options?.keyPath ?? null,
      autoIncrement: !!options?.autoIncrement,
    });
    return store;
  };
  Database.deleteObjectStore = function (this: IDBDatabase, name: string) {
    // The deleted store cannot name its transaction any more: ask the open.
    const tx = recorder.upgrades.get(this);
    deleteObjectStore.call(this, name);
    if (tx) recorder.ops(tx).push({ kind: "deleteStore", store: name });
    else log.warn(`deleteObjectStore(${name}) outside an upgrade was not journaled`);
  };
}

/** Opening (upgrading) and deleting databases. */
function hookFactory(recorder: Recorder): void {
  const Factory = globalThis.IDBFactory.prototype;
  const { deleteDatabase, open } = Factory;
  Factory.open = function (this: IDBFactory, name: string, version?: number) {
    const req = open.call(this, name, version);
    // Records the new version even when the upgrade changes no schema.
    req.addEventListener("upgradeneeded", () => {
      recorder.upgrades.set(req.result, req.transaction!);
      recorder.ops(req.transaction!);
    });
    return req;
  };
  Factory.deleteDatabase = function (this: IDBFactory, name: string) {
    const req = deleteDatabase.call(this, name);
    req.addEventListener("success", () => recorder.sink.forgetDatabase(name));
    return req;
  };
}
