/**
 * Replays the journal into fake-indexeddb at start: every database with its
 * version, stores, indexes, records and key generators, before the SDK opens
 * anything and before the hooks are installed (so the replay itself is not
 * journaled again).
 *
 * @module
 */
import "fake-indexeddb/auto";
import { decodeKey, decodeValue, withKey } from "./crypto_journal_codec.ts";
import type {
  JournaledDatabase,
  JournaledIndex,
  JournaledRecord,
  JournaledStore,
  JournalMirror,
} from "./crypto_journal_db.ts";
import { done, request } from "./crypto_journal_idb.ts";

/** What {@link restoreDatabases} brought back. */
export interface RestoreStats {
  /** Databases recreated. */
  databases: number;
  /** Records put back, in all of them. */
  records: number;
}

/** Recreates every journaled database in fake-indexeddb. */
export async function restoreDatabases(mirror: JournalMirror): Promise<RestoreStats> {
  const dbs = mirror.databases();
  let records = 0;
  for (const info of dbs) records += await restoreDatabase(mirror, info);
  return { databases: dbs.length, records };
}

/** Recreates one database; returns how many records it put back. */
async function restoreDatabase(mirror: JournalMirror, info: JournaledDatabase): Promise<number> {
  const stores = mirror.stores(info.name);
  const indexes = mirror.indexes(info.name);
  const open = indexedDB.open(info.name, info.version);
  open.addEventListener("upgradeneeded", () => createSchema(open.result, stores, indexes));
  const db = await request(open);
  let records = 0;
  for (const store of stores) {
    records += await restoreStore(db, store, mirror.records(info.name, store.name));
  }
  db.close();
  return records;
}

/** Runs in the upgrade of a database that does not exist yet: all of its schema at once. */
function createSchema(db: IDBDatabase, stores: JournaledStore[], indexes: JournaledIndex[]): void {
  for (const s of stores) {
    const store = db.createObjectStore(s.name, {
      keyPath: s.keyPath ?? undefined,
      autoIncrement: s.autoIncrement,
    });
    for (const ix of indexes.filter((i) => i.store === s.name)) {
      store.createIndex(ix.name, ix.keyPath, { unique: ix.unique, multiEntry: ix.multiEntry });
    }
  }
}

/** Puts one store's records back, in one transaction; returns how many. */
async function restoreStore(
  db: IDBDatabase,
  info: JournaledStore,
  rows: JournaledRecord[],
): Promise<number> {
  if (!rows.length && !info.nextKey) return 0;
  const tx = db.transaction(info.name, "readwrite");
  const store = tx.objectStore(info.name);
  for (const row of rows) {
    const value = decodeValue(row.value);
    if (store.keyPath === null) store.put(value, decodeKey(row.key));
    else store.put(value);
  }
  if (info.autoIncrement && info.nextKey && info.nextKey > 1) {
    await restoreKeyGenerator(store, info.nextKey);
  }
  await done(tx);
  return rows.length;
}

/**
 * Moves the store's key generator to `nextKey`. IndexedDB has no call for
 * that, but an explicit key moves the generator past it: put a placeholder
 * at `nextKey - 1` and delete it again, unless a record holds that key.
 */
async function restoreKeyGenerator(store: IDBObjectStore, nextKey: number): Promise<void> {
  const key = nextKey - 1;
  const exists = await request(store.getKey(key));
  if (exists !== undefined) return;
  store.put(
    typeof store.keyPath === "string" ? withKey({}, store.keyPath, key) : {},
    store.keyPath === null ? key : undefined,
  );
  store.delete(key);
}
