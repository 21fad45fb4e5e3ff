import { deepStrictEqual, match, ok, strictEqual, throws } from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { type Message, threadKey } from "../lib/conversation.ts";
import { SqliteThreadStore } from "../lib/state/sqlite_threads.ts";
import { Store, StoreError, writeFileAtomic } from "../lib/store.ts";

const STORE_MODULE = new URL("../lib/store.ts", import.meta.url).href;

/** A temporary directory removed on dispose. */
function tempDir(): Disposable & { path: string } {
  const path = Deno.makeTempDirSync({ prefix: "infinigpt-store-" });
  return { path, [Symbol.dispose]: () => Deno.removeSync(path, { recursive: true }) };
}

function storeError(fn: () => unknown): StoreError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  ok(caught instanceof StoreError, `expected a StoreError, got ${caught}`);
  return caught;
}

Deno.test("Store.open creates the directory and state.db", () => {
  using tmp = tempDir();
  const dir = join(tmp.path, "nested", "store");
  const store = Store.open(dir);
  try {
    ok(Deno.statSync(dir).isDirectory);
    ok(Deno.statSync(join(dir, "state.db")).isFile);
    strictEqual(store.dir, dir);
    strictEqual(store.path("images", "a.png"), join(dir, "images", "a.png"));
    if (Deno.build.os !== "windows") strictEqual(Deno.statSync(dir).mode! & 0o777, 0o700);
  } finally {
    store.close();
  }
});

Deno.test({
  name: "state.db and its WAL are readable by the owner only, and an older 0644 file is narrowed",
  ignore: Deno.build.os === "windows",
  fn() {
    using tmp = tempDir();
    const first = Store.open(tmp.path);
    first.db.prepare("INSERT INTO settings (key, value) VALUES (?, ?)").run("model", '"m"');
    for (const name of ["state.db", "state.db-wal"]) {
      strictEqual(Deno.statSync(join(tmp.path, name)).mode! & 0o777, 0o600, name);
    }
    first.close();
    Deno.chmodSync(join(tmp.path, "state.db"), 0o644);
    const second = Store.open(tmp.path);
    try {
      strictEqual(Deno.statSync(join(tmp.path, "state.db")).mode! & 0o777, 0o600);
    } finally {
      second.close();
    }
  },
});

Deno.test("Store.open migrates state.db to the current schema", () => {
  using tmp = tempDir();
  const store = Store.open(tmp.path);
  try {
    const tables = (store.db.prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
    ).all() as Array<{ name: string }>).map((r) => r.name);
    for (const table of ["handled_events", "personal_models", "settings", "threads"]) {
      ok(tables.includes(table), `missing table ${table} in ${tables}`);
    }
    const { user_version } = store.db.prepare("PRAGMA user_version").get() as {
      user_version: number;
    };
    ok(user_version >= 2);
  } finally {
    store.close();
  }
});

Deno.test("a second Store.open of a locked directory in the same process fails with exit code 2", () => {
  using tmp = tempDir();
  const first = Store.open(tmp.path);
  try {
    const error = storeError(() => Store.open(tmp.path));
    strictEqual(error.exitCode, 2);
    ok(error.message.includes(tmp.path), error.message);
    match(error.message, /in use/);
    // Windows locks are mandatory: no other handle can read the holder's pid from the lock file.
    if (Deno.build.os !== "windows") ok(error.message.includes(`pid ${Deno.pid}`), error.message);
  } finally {
    first.close();
  }
  // Released: it opens again.
  Store.open(tmp.path).close();
});

async function openInChild(dir: string): Promise<{ code: number; stderr: string }> {
  const script = `
    import { Store, StoreError } from ${JSON.stringify(STORE_MODULE)};
    try {
      Store.open(Deno.args[0]).close();
    } catch (error) {
      console.error(error.message);
      Deno.exit(error instanceof StoreError ? error.exitCode : 99);
    }
  `;
  const file = join(dir, "..", `open-store-${crypto.randomUUID()}.ts`);
  Deno.writeTextFileSync(file, script);
  try {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-config", "-A", file, dir],
      stdout: "piped",
      stderr: "piped",
    }).output();
    return { code: output.code, stderr: new TextDecoder().decode(output.stderr) };
  } finally {
    Deno.removeSync(file);
  }
}

Deno.test("another process cannot open a store while this one holds it, and can after close", async () => {
  using tmp = tempDir();
  const dir = join(tmp.path, "store");
  const store = Store.open(dir);
  let closed = false;
  try {
    const locked = await openInChild(dir);
    strictEqual(locked.code, 2, locked.stderr);
    ok(locked.stderr.includes(dir), locked.stderr);
    match(locked.stderr, /in use by another InfiniGPT process/);
    store.close();
    closed = true;
    const free = await openInChild(dir);
    strictEqual(free.code, 0, free.stderr);
  } finally {
    if (!closed) store.close();
  }
});

Deno.test("a corrupt state.db is reported as corrupt, naming the file", () => {
  using tmp = tempDir();
  const path = join(tmp.path, "state.db");
  Deno.writeFileSync(path, crypto.getRandomValues(new Uint8Array(4096)));
  const error = storeError(() => Store.open(tmp.path));
  ok(error.message.includes(path), error.message);
  match(error.message, /corrupt/);
  strictEqual(error.exitCode, 1);
  // The failed open released its lock.
  Deno.removeSync(path);
  Store.open(tmp.path).close();
});

Deno.test("a text file in place of state.db is reported as corrupt", () => {
  using tmp = tempDir();
  const path = join(tmp.path, "state.db");
  Deno.writeTextFileSync(path, "this is not a database, it is a note to self\n".repeat(100));
  const error = storeError(() => Store.open(tmp.path));
  ok(error.message.includes(path), error.message);
  match(error.message, /corrupt/);
});

Deno.test("a state.db from a newer InfiniGPT is refused with a clear error", () => {
  using tmp = tempDir();
  Store.open(tmp.path).close();
  const db = new DatabaseSync(join(tmp.path, "state.db"));
  db.exec("PRAGMA user_version = 99");
  db.close();
  const error = storeError(() => Store.open(tmp.path));
  match(error.message, /schema version 99/);
  match(error.message, /newer than this InfiniGPT understands/);
  // And the data is left alone.
  const check = new DatabaseSync(join(tmp.path, "state.db"));
  try {
    deepStrictEqual(
      { ...check.prepare("PRAGMA user_version").get() as Record<string, unknown> },
      { user_version: 99 },
    );
  } finally {
    check.close();
  }
});

Deno.test("reopening a closed store keeps its data", () => {
  using tmp = tempDir();
  const first = Store.open(tmp.path);
  first.db.prepare("INSERT INTO settings (key, value) VALUES (?, ?)").run("model", '"m1"');
  first.close();
  const second = Store.open(tmp.path);
  try {
    deepStrictEqual(
      { ...second.db.prepare("SELECT value FROM settings WHERE key = 'model'").get() as object },
      { value: '"m1"' },
    );
  } finally {
    second.close();
  }
});

Deno.test("Store.close is safe to call twice", () => {
  using tmp = tempDir();
  const store = Store.open(tmp.path);
  store.close();
  store.close();
  Store.open(tmp.path).close();
});

Deno.test("Store.transaction commits on success and rolls back on a throw", () => {
  using tmp = tempDir();
  const store = Store.open(tmp.path);
  try {
    const put = store.db.prepare("INSERT INTO settings (key, value) VALUES (?, ?)");
    strictEqual(store.transaction(() => (put.run("a", "1"), "done")), "done");
    throws(() =>
      store.transaction(() => {
        put.run("b", "2");
        throw new Error("abort");
      }), /abort/);
    const keys = (store.db.prepare("SELECT key FROM settings ORDER BY key").all() as Array<
      { key: string }
    >).map((r) => r.key);
    deepStrictEqual(keys, ["a"]);
  } finally {
    store.close();
  }
});

Deno.test("Store.open with noLock opens a store another handle holds", () => {
  using tmp = tempDir();
  const owner = Store.open(tmp.path);
  try {
    const reader = Store.open(tmp.path, { noLock: true });
    reader.close();
  } finally {
    owner.close();
  }
});

Deno.test("writeFileAtomic writes the content with mode 0600 and leaves no temp file", () => {
  using tmp = tempDir();
  const path = join(tmp.path, "session.json");
  writeFileAtomic(path, '{"access_token":"x"}');
  strictEqual(Deno.readTextFileSync(path), '{"access_token":"x"}');
  if (Deno.build.os !== "windows") strictEqual(Deno.statSync(path).mode! & 0o777, 0o600);
  deepStrictEqual([...Deno.readDirSync(tmp.path)].map((e) => e.name), ["session.json"]);
});

Deno.test("writeFileAtomic replaces an existing file, which then has the new mode", () => {
  using tmp = tempDir();
  const path = join(tmp.path, "session.json");
  Deno.writeTextFileSync(path, "old content that is longer than the new one", { mode: 0o644 });
  if (Deno.build.os !== "windows") Deno.chmodSync(path, 0o644);
  writeFileAtomic(path, new TextEncoder().encode("new"));
  strictEqual(Deno.readTextFileSync(path), "new");
  if (Deno.build.os !== "windows") strictEqual(Deno.statSync(path).mode! & 0o777, 0o600);
  deepStrictEqual([...Deno.readDirSync(tmp.path)].map((e) => e.name), ["session.json"]);
});

Deno.test("writeFileAtomic honours an explicit mode (never more than asked)", () => {
  if (Deno.build.os === "windows") return;
  using tmp = tempDir();
  const path = join(tmp.path, "public.txt");
  writeFileAtomic(path, "x", 0o640);
  const mode = Deno.statSync(path).mode! & 0o777;
  strictEqual(mode & ~0o640, 0, `mode ${mode.toString(8)} grants more than 640`);
  strictEqual(mode & 0o600, 0o600, `mode ${mode.toString(8)} lacks owner read/write`);
});

Deno.test("a state.db of schema 3 migrates to 4: its threads load, and Matrix threads get their table", () => {
  using tmp = tempDir();
  const old = new DatabaseSync(join(tmp.path, "state.db"));
  // The schema as version 3 left it (lib/store.ts, MIGRATIONS[0..2]).
  old.exec(`CREATE TABLE threads (
     room TEXT NOT NULL, user TEXT NOT NULL, messages TEXT NOT NULL,
     updated_at INTEGER NOT NULL, PRIMARY KEY (room, user)) WITHOUT ROWID;
   CREATE TABLE personal_models (
     room TEXT NOT NULL, user TEXT NOT NULL, model TEXT NOT NULL,
     PRIMARY KEY (room, user)) WITHOUT ROWID;
   CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
   CREATE TABLE handled_events (
     event_id TEXT PRIMARY KEY, room TEXT NOT NULL, handled_at INTEGER NOT NULL) WITHOUT ROWID;
   CREATE TABLE usage (
     user TEXT NOT NULL, day TEXT NOT NULL, tokens INTEGER NOT NULL,
     PRIMARY KEY (user, day)) WITHOUT ROWID;
   CREATE TABLE inbox (
     event_id TEXT PRIMARY KEY, room TEXT NOT NULL, event TEXT NOT NULL,
     received_at INTEGER NOT NULL) WITHOUT ROWID;
   CREATE TABLE verifications (
     txn_id TEXT PRIMARY KEY, handled_at INTEGER NOT NULL) WITHOUT ROWID;
   CREATE INDEX handled_events_at ON handled_events (handled_at);
   PRAGMA user_version = 3;`);
  const thread: Message[] = [{ role: "system", content: "S" }, { role: "user", content: "hi" }];
  old.prepare("INSERT INTO threads VALUES (?, ?, ?, ?)").run(
    "!r:hs",
    "@a:hs",
    JSON.stringify(thread),
    1,
  );
  old.close();
  const store = Store.open(tmp.path);
  try {
    const { user_version } = store.db.prepare("PRAGMA user_version").get() as {
      user_version: number;
    };
    strictEqual(user_version, 5);
    const threads = new SqliteThreadStore(store.db, {
      prompt: ["you are ", "."],
      personality: "p",
      historySize: 24,
      verbose: () => false,
    });
    deepStrictEqual(threads.get("!r:hs", "@a:hs"), thread);
    threads.set("!r:hs", threadKey("$root"), thread);
    deepStrictEqual(threads.get("!r:hs", threadKey("$root")), thread);
    deepStrictEqual(threads.users("!r:hs"), ["@a:hs"]);
  } finally {
    store.close();
  }
});
