import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { IdbJournal } from "../lib/crypto_journal.ts";
import { decodeValue, encodeKey, encodeValue } from "../lib/crypto_journal_codec.ts";
import { JournalDb } from "../lib/crypto_journal_db.ts";
import type { Op } from "../lib/crypto_journal_ops.ts";

function tempJournal(): Disposable & { path: string; db: JournalDb } {
  const dir = Deno.makeTempDirSync({ prefix: "infinigpt-journal-db-" });
  const path = join(dir, "crypto.db");
  const db = JournalDb.open(path);
  return {
    path,
    db,
    [Symbol.dispose]: () => {
      db.close();
      Deno.removeSync(dir, { recursive: true });
    },
  };
}

/** A readable view of one store: its records as decoded [key text, value]. */
function contents(db: JournalDb, name: string, store: string): Array<[string, unknown]> {
  return db.records(name, store).map((r) => [r.key, decodeValue(r.value)]);
}

Deno.test("the journal file keeps its tables and columns (existing stores keep opening)", () => {
  using tmp = tempJournal();
  const sql = new DatabaseSync(tmp.path, { readOnly: true });
  try {
    const columns = (table: string) =>
      (sql.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string; pk: number }>)
        .map((c) => `${c.name}${c.pk ? "*" : ""}`);
    deepStrictEqual(columns("dbs"), ["name*", "version"]);
    deepStrictEqual(columns("stores"), [
      "db*",
      "name*",
      "key_path",
      "auto_increment",
      "next_key",
    ]);
    deepStrictEqual(columns("indexes"), [
      "db*",
      "store*",
      "name*",
      "key_path",
      "is_unique",
      "multi_entry",
    ]);
    deepStrictEqual(columns("records"), ["db*", "store*", "key*", "value"]);
    strictEqual(
      (sql.prepare("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode,
      "wal",
    );
  } finally {
    sql.close();
  }
});

Deno.test("write mirrors each kind of op, and forgetDatabase removes a database", () => {
  using tmp = tempJournal();
  const db = tmp.db;
  const upgrade: Op[] = [
    { kind: "createStore", store: "q", keyPath: "id", autoIncrement: true },
    { kind: "createStore", store: "kv", keyPath: null, autoIncrement: false },
    {
      kind: "createIndex",
      store: "q",
      index: "by_n",
      keyPath: ["n"],
      unique: true,
      multiEntry: false,
    },
  ];
  db.write({ db: "d", version: 1, upgrade: true, ops: upgrade });
  db.write({ db: "empty-upgrade", version: 3, upgrade: true, ops: [] });
  deepStrictEqual(db.databases().map((d) => ({ ...d })), [
    { name: "d", version: 1 },
    { name: "empty-upgrade", version: 3 },
  ]);
  deepStrictEqual(db.stores("d"), [
    { name: "kv", keyPath: undefined, autoIncrement: false, nextKey: null },
    { name: "q", keyPath: "id", autoIncrement: true, nextKey: null },
  ]);
  deepStrictEqual(db.indexes("d"), [
    { store: "q", name: "by_n", keyPath: ["n"], unique: true, multiEntry: false },
  ]);

  db.write({
    db: "d",
    version: 1,
    upgrade: false,
    ops: [
      { kind: "put", store: "q", key: 7, value: encodeValue({ id: 7 }), nextKey: 8 },
      { kind: "put", store: "q", key: 2, value: encodeValue({ id: 2 }), nextKey: 3 },
      { kind: "put", store: "kv", key: "a", value: encodeValue("A") },
      { kind: "put", store: "kv", key: "b", value: encodeValue("B") },
      { kind: "put", store: "kv", value: encodeValue("failed request: no key") },
      { kind: "delete", store: "kv", keys: ["b"] },
    ],
  });
  deepStrictEqual(contents(db, "d", "kv"), [[encodeKey("a"), "A"]]);
  deepStrictEqual(db.stores("d")[1].nextKey, 8, "the key generator never goes back");
  strictEqual(db.recordCount(), 3);

  db.write({
    db: "d",
    version: 2,
    upgrade: true,
    ops: [
      { kind: "clear", store: "kv" },
      { kind: "renameStore", store: "q", to: "jobs" },
      { kind: "deleteIndex", store: "jobs", index: "by_n" },
      { kind: "deleteStore", store: "kv" },
    ],
  });
  deepStrictEqual(db.databases().find((d) => d.name === "d")?.version, 2);
  deepStrictEqual(db.stores("d").map((s) => s.name), ["jobs"]);
  deepStrictEqual(db.indexes("d"), []);
  deepStrictEqual(contents(db, "d", "jobs").map(([, v]) => v), [{ id: 2 }, { id: 7 }]);

  db.forgetDatabase("d");
  deepStrictEqual(db.databases().map((d) => d.name), ["empty-upgrade"]);
  deepStrictEqual(db.stores("d"), []);
  strictEqual(db.recordCount(), 0);
});

Deno.test("a write that fails part-way leaves the file as it was", () => {
  using tmp = tempJournal();
  const db = tmp.db;
  db.write({
    db: "d",
    version: 1,
    upgrade: true,
    ops: [{ kind: "createStore", store: "kv", keyPath: null, autoIncrement: false }],
  });
  throws(
    () =>
      db.write({
        db: "d",
        version: 2,
        upgrade: false,
        ops: [
          { kind: "put", store: "kv", key: "kept out", value: encodeValue(1) },
          { kind: "put", store: "kv", key: {} as IDBValidKey, value: encodeValue(2) },
        ],
      }),
    TypeError,
  );
  deepStrictEqual(contents(db, "d", "kv"), []);
  strictEqual(db.databases()[0].version, 1);
  // The file still takes writes.
  db.write({
    db: "d",
    version: 1,
    upgrade: false,
    ops: [{ kind: "put", store: "kv", key: "next", value: encodeValue(3) }],
  });
  deepStrictEqual(contents(db, "d", "kv"), [[encodeKey("next"), 3]]);
});

Deno.test("a journal written before next_key existed is upgraded in place", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "old.db");
    const { DatabaseSync } = await import("node:sqlite");
    const old = new DatabaseSync(path);
    old.exec(`CREATE TABLE stores (db TEXT NOT NULL, name TEXT NOT NULL, key_path TEXT,
      auto_increment INTEGER NOT NULL, PRIMARY KEY (db, name)) WITHOUT ROWID`);
    old.exec("INSERT INTO stores VALUES ('d', 's', NULL, 1)");
    old.close();
    const journal = IdbJournal.open(path);
    journal.close();
    const db = new DatabaseSync(path);
    const row = db.prepare("SELECT name, next_key FROM stores").get() as {
      name: string;
      next_key: null;
    };
    db.close();
    strictEqual(row.name, "s");
    strictEqual(row.next_key, null);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
