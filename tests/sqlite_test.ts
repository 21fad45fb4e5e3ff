import { deepStrictEqual, match, ok, strictEqual, throws } from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { openChecked, SqliteOpenError, transaction } from "../lib/sqlite.ts";

function tempDir(): Disposable & { path: string } {
  const path = Deno.makeTempDirSync({ prefix: "infinigpt-sqlite-" });
  return { path, [Symbol.dispose]: () => Deno.removeSync(path, { recursive: true }) };
}

function pragma(db: DatabaseSync, name: string): unknown {
  return Object.values(db.prepare(`PRAGMA ${name}`).get() as Record<string, unknown>)[0];
}

Deno.test("openChecked creates the file with the mode asked, in WAL with synchronous NORMAL", () => {
  using tmp = tempDir();
  const path = join(tmp.path, "new.db");
  const db = openChecked(path, {
    mode: 0o600,
    busyTimeoutMs: 1234,
    pragmas: ["foreign_keys = ON"],
    setup: (db) => db.exec("CREATE TABLE t (a)"),
  });
  try {
    strictEqual(pragma(db, "journal_mode"), "wal");
    strictEqual(pragma(db, "synchronous"), 1, "NORMAL");
    strictEqual(pragma(db, "busy_timeout"), 1234);
    strictEqual(pragma(db, "foreign_keys"), 1);
    deepStrictEqual({ ...db.prepare("SELECT count(*) AS n FROM t").get() }, { n: 0 });
  } finally {
    db.close();
  }
  if (Deno.build.os !== "windows") strictEqual(Deno.statSync(path).mode! & 0o777, 0o600);
});

Deno.test("openChecked narrows an existing file to the mode asked", () => {
  if (Deno.build.os === "windows") return;
  using tmp = tempDir();
  const path = join(tmp.path, "old.db");
  new DatabaseSync(path).close();
  Deno.chmodSync(path, 0o640);
  openChecked(path, { mode: 0o600 }).close();
  strictEqual(Deno.statSync(path).mode! & 0o777, 0o600);
});

Deno.test("openChecked rejects a garbage file as unusable and leaves it as it was", () => {
  using tmp = tempDir();
  const path = join(tmp.path, "garbage.db");
  const garbage = new Uint8Array(8192).map((_, i) => (i * 131 + 7) & 0xff);
  Deno.writeFileSync(path, garbage);
  let setupRan = false;
  const error = captureError(() => openChecked(path, { setup: () => (setupRan = true) }));
  ok(error instanceof SqliteOpenError, String(error));
  ok(error.cause instanceof Error, "the cause is kept");
  strictEqual(error.message, (error.cause as Error).message);
  match(error.message, /not a database|malformed|integrity/);
  strictEqual(setupRan, false, "no schema is written into a file that failed the check");
  deepStrictEqual(Deno.readFileSync(path), garbage);
});

Deno.test("openChecked reports a failing setup as unusable and closes the file", () => {
  using tmp = tempDir();
  const path = join(tmp.path, "setup.db");
  const error = captureError(() =>
    openChecked(path, {
      setup: () => {
        throw new Error("schema says no");
      },
    })
  );
  ok(error instanceof SqliteOpenError);
  strictEqual(error.message, "schema says no");
  // Closed: another connection can take the write lock at once.
  const other = new DatabaseSync(path);
  other.exec("BEGIN IMMEDIATE; CREATE TABLE t (a); COMMIT");
  other.close();
});

Deno.test("openChecked passes errors of the open itself through unchanged", () => {
  using tmp = tempDir();
  const error = captureError(() => openChecked(join(tmp.path, "no", "such", "dir.db")));
  ok(error instanceof Error);
  ok(!(error instanceof SqliteOpenError), "not an unusable file: there is no file");
});

function withTable(fn: (db: DatabaseSync) => void): void {
  const db = new DatabaseSync(":memory:");
  try {
    db.exec("CREATE TABLE t (a INTEGER PRIMARY KEY)");
    fn(db);
  } finally {
    db.close();
  }
}

const rows = (db: DatabaseSync) =>
  (db.prepare("SELECT a FROM t ORDER BY a").all() as Array<{ a: number }>).map((r) => r.a);

Deno.test("transaction commits what fn wrote and returns its result", () => {
  withTable((db) => {
    const result = transaction(db, () => {
      db.exec("INSERT INTO t VALUES (1), (2)");
      return "done";
    });
    strictEqual(result, "done");
    deepStrictEqual(rows(db), [1, 2]);
    strictEqual(db.isTransaction, false);
  });
});

Deno.test("transaction rolls back every write of fn when it throws, and rethrows", () => {
  withTable((db) => {
    const boom = new Error("boom");
    throws(() =>
      transaction(db, () => {
        db.exec("INSERT INTO t VALUES (1)");
        throw boom;
      }), (e) => e === boom);
    deepStrictEqual(rows(db), []);
    strictEqual(db.isTransaction, false);
  });
});

Deno.test("transaction rethrows the real error when SQLite already rolled back", () => {
  withTable((db) => {
    db.exec("INSERT INTO t VALUES (1)");
    throws(
      () =>
        transaction(db, () => {
          db.exec("INSERT INTO t VALUES (2)");
          // Conflict resolution ROLLBACK ends the transaction inside SQLite.
          db.exec("INSERT OR ROLLBACK INTO t VALUES (1)");
        }),
      /UNIQUE constraint failed/,
    );
    deepStrictEqual(rows(db), [1]);
    strictEqual(db.isTransaction, false);
  });
});

function captureError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected an error");
}
