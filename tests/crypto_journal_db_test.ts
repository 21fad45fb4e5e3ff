import { strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { IdbJournal } from "../lib/crypto_journal.ts";

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
