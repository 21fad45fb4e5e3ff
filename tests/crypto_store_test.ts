import {
  deepStrictEqual,
  match,
  notStrictEqual,
  ok,
  strictEqual,
  throws,
} from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { decodeKey, encodeKey, IdbJournal } from "../lib/crypto_store.ts";
import { assertKilled } from "./fixtures/platform.ts";

// ---- encodeKey / decodeKey (pure; importing the module only loads fake-indexeddb) ----

const keys: Array<[string, IDBValidKey]> = [
  ["zero", 0],
  ["a negative float", -12.75],
  ["a large number", 1e21],
  ["the largest number", Number.MAX_VALUE],
  ["the smallest number", Number.MIN_VALUE],
  ["Infinity", Infinity],
  ["-Infinity", -Infinity],
  ["the empty string", ""],
  ["an ASCII string", "hello"],
  ["a string that looks like an encoded number", "n:1"],
  ["a string with quotes and backslashes", 'a"b\\c'],
  ["a unicode string", "ключ 🔑 中文 é"],
  ["a string with NUL and newlines", "a\u0000b\nc"],
  ["a date", new Date(1_700_000_000_123)],
  ["a date before 1970", new Date(-86_400_000)],
  ["the empty array", []],
  ["an array of mixed keys", [1, "two", new Date(3)]],
  ["nested arrays", [[1, [2, ["x", []]]], "y"]],
  ["an array holding an encoded-looking string", ["a:[]", "s:x"]],
  ["an ArrayBuffer", new Uint8Array([0, 1, 254, 255]).buffer],
  ["an empty ArrayBuffer", new ArrayBuffer(0)],
  ["an array with binary", [new Uint8Array([7, 8]).buffer, 1]],
];

for (const [name, key] of keys) {
  Deno.test(`decodeKey(encodeKey(k)) gives back ${name}`, () => {
    const text = encodeKey(key);
    strictEqual(typeof text, "string");
    deepStrictEqual(decodeKey(text), key);
    strictEqual(encodeKey(decodeKey(text)), text, "encoding the decoded key is stable");
  });
}

Deno.test("encodeKey gives one text per IndexedDB key (equal under indexedDB.cmp)", async (t) => {
  const u8 = new Uint8Array([1, 2, 3, 4]);
  const equal: Array<[string, IDBValidKey, IDBValidKey]> = [
    ["-0 and 0", -0, 0],
    ["[-0] and [0]", [-0], [0]],
    ["two equal dates", new Date(5), new Date(5)],
    ["ArrayBuffer and Uint8Array", u8.slice().buffer, u8],
    ["Uint8Array and DataView", u8, new DataView(u8.slice().buffer)],
    ["Uint8Array and Int8Array", u8, new Int8Array(u8.slice().buffer)],
    ["Uint16Array and its bytes", new Uint16Array([0x0201, 0x0403]), u8],
    ["a subarray and a copy", new Uint8Array([9, 1, 2, 3, 4, 9]).subarray(1, 5), u8],
    ["nested arrays with binary", [[u8]], [[u8.slice().buffer]]],
  ];
  for (const [name, a, b] of equal) {
    await t.step(name, () => {
      strictEqual(indexedDB.cmp(a, b), 0, "the premise: IndexedDB sees one key");
      strictEqual(encodeKey(a), encodeKey(b));
    });
  }
});

Deno.test("encodeKey gives different texts for different keys", () => {
  const distinct: IDBValidKey[] = [
    0,
    1,
    -1,
    1.5,
    "0",
    "",
    "n:0",
    new Date(0),
    new Date(1),
    [],
    [0],
    ["0"],
    [[0]],
    [0, 0],
    new ArrayBuffer(0),
    new Uint8Array([0]).buffer,
    new Uint8Array([0, 0]).buffer,
    "a",
    ["a"],
    "é",
    "e\u0301",
  ];
  const texts = distinct.map(encodeKey);
  strictEqual(new Set(texts).size, distinct.length, texts.join(" | "));
  for (let i = 0; i < distinct.length; i++) {
    for (let j = i + 1; j < distinct.length; j++) {
      notStrictEqual(indexedDB.cmp(distinct[i], distinct[j]), 0, `${texts[i]} vs ${texts[j]}`);
    }
  }
});

Deno.test("decodeKey returns binary keys as an ArrayBuffer", () => {
  const decoded = decodeKey(encodeKey(new Uint8Array([5, 6, 7]).subarray(1)));
  ok(decoded instanceof ArrayBuffer);
  deepStrictEqual([...new Uint8Array(decoded)], [6, 7]);
});

Deno.test("encodeKey rejects values that are not IndexedDB keys", async (t) => {
  const bad: Array<[string, unknown]> = [
    ["undefined", undefined],
    ["null", null],
    ["a boolean", true],
    ["a plain object", { a: 1 }],
    ["an array holding an object", [{}]],
  ];
  for (const [name, value] of bad) {
    await t.step(name, () => throws(() => encodeKey(value as IDBValidKey), TypeError));
  }
});

Deno.test("decodeKey rejects text it did not make", () => {
  throws(() => decodeKey("x:1"), TypeError);
  throws(() => decodeKey(""), TypeError);
  throws(() => decodeKey("a:not json"));
});

// ---- The journal, in subprocesses (its hooks are global, once per process) ----

const SCRIPT = fileURLToPath(new URL("./fixtures/journal_script.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("..", import.meta.url));

interface Run {
  code: number;
  signal: Deno.Signal | null;
  stdout: string;
  stderr: string;
  result?: Record<string, unknown>;
}

async function run(journal: string, action: string, arg?: string): Promise<Run> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--conditions=matrix-org:wasm-esm",
      SCRIPT,
      journal,
      action,
      ...(arg ? [arg] : []),
    ],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const stdout = new TextDecoder().decode(output.stdout);
  const stderr = new TextDecoder().decode(output.stderr);
  const line = stdout.split("\n").find((l) => l.startsWith("RESULT "));
  return {
    code: output.code,
    signal: output.signal,
    stdout,
    stderr,
    result: line ? JSON.parse(line.slice("RESULT ".length)) : undefined,
  };
}

/** Runs an action that must succeed; returns its result. */
async function runOk(journal: string, action: string, arg?: string) {
  const r = await run(journal, action, arg);
  strictEqual(r.code, 0, `${action} failed:\n${r.stderr}\n${r.stdout}`);
  ok(r.result, `${action} printed no result:\n${r.stdout}\n${r.stderr}`);
  return r.result;
}

function tempDir(): AsyncDisposable & { path: string } {
  const path = Deno.makeTempDirSync({ prefix: "infinigpt-journal-" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

Deno.test("a journal restores every write of another process exactly", async () => {
  await using tmp = tempDir();
  const journal = join(tmp.path, "crypto.db");
  const first = await runOk(journal, "scenario");
  deepStrictEqual(first.verify, [], "the mirror matches the live databases");
  const dump = first.dump as Record<string, { version: number; stores: Record<string, unknown> }>;
  // The scenario really did what it says (so the comparison below means something).
  deepStrictEqual(Object.keys(dump), ["db-a", "db-b"], "db-c was deleted");
  strictEqual(dump["db-a"].version, 2);
  deepStrictEqual(Object.keys(dump["db-a"].stores), ["added-later", "blobs", "people", "queue"]);
  const people = dump["db-a"].stores.people as {
    keys: unknown[];
    indexes: Record<string, unknown>;
  };
  ok(!people.keys.includes(3), "cursor delete");
  ok(!people.keys.includes(16) && !people.keys.includes(19), "range and key deletes");
  deepStrictEqual(Object.keys(people.indexes), ["by_n", "by_name", "by_tag"]);
  const cleared = dump["db-b"].stores.cleared as { keys: unknown[] };
  deepStrictEqual(cleared.keys, ["survivor"]);
  if (Deno.build.os !== "windows") strictEqual(Deno.statSync(journal).mode! & 0o777, 0o600);

  const second = await runOk(journal, "dump");
  deepStrictEqual(second.verify, []);
  deepStrictEqual(second.dump, first.dump);
  deepStrictEqual(second.restored, { databases: 2, records: 34 });

  // A third process restores what the second (which wrote nothing) left.
  const third = await runOk(journal, "dump");
  deepStrictEqual(third.dump, first.dump);
});

Deno.test("writes of an aborted transaction are not journaled", async () => {
  await using tmp = tempDir();
  const journal = join(tmp.path, "crypto.db");
  const first = await runOk(journal, "abort");
  deepStrictEqual(first.verify, []);
  const expected = {
    "db-abort": {
      version: 1,
      stores: {
        s: { keyPath: null, autoIncrement: false, indexes: {}, keys: ["a"], values: ["committed"] },
      },
    },
  };
  deepStrictEqual(first.dump, expected, "the premise: the live store dropped the aborted writes");
  const second = await runOk(journal, "dump");
  deepStrictEqual(second.dump, expected);
});

Deno.test("a transaction completed right before kill -9 is in the journal", async () => {
  await using tmp = tempDir();
  const journal = join(tmp.path, "crypto.db");
  const killed = await run(journal, "kill");
  assertKilled(killed, `the script must die by SIGKILL:\n${killed.stderr}`);
  const after = await runOk(journal, "dump");
  deepStrictEqual(after.verify, []);
  deepStrictEqual(after.dump, {
    "db-kill": {
      version: 1,
      stores: {
        s: {
          keyPath: null,
          autoIncrement: false,
          indexes: {},
          keys: [1, 2],
          values: ["first, updated", "second"],
        },
      },
    },
  });
});

Deno.test({
  name: "a complete listener added before the first write still runs after the journal commit",
  fn: async () => {
    await using tmp = tempDir();
    const journal = join(tmp.path, "crypto.db");
    const killed = await run(journal, "kill", "listener-first");
    assertKilled(killed);
    const after = await runOk(journal, "dump");
    const store = (after.dump as Record<string, { stores: { s: { keys: unknown[] } } }>)["db-kill"]
      .stores.s;
    deepStrictEqual(store.keys, [1, 2]);
  },
});

Deno.test({
  name: "an in-line autoIncrement store keeps each value under its generated key after restore",
  fn: async () => {
    await using tmp = tempDir();
    const journal = join(tmp.path, "crypto.db");
    const first = await runOk(journal, "inline-auto");
    deepStrictEqual(first.verify, []);
    const second = await runOk(journal, "dump");
    deepStrictEqual(second.dump, first.dump);
  },
});

Deno.test({
  name: "an out-of-line autoIncrement store continues its key generator after restore",
  fn: async () => {
    await using tmp = tempDir();
    const journal = join(tmp.path, "crypto.db");
    deepStrictEqual((await runOk(journal, "auto", "fill")).verify, []);
    const next = await runOk(journal, "auto", "next");
    strictEqual(next.key, 6);
  },
});

Deno.test({
  name: "a string key with a lone surrogate survives a restore",
  fn: async () => {
    await using tmp = tempDir();
    const journal = join(tmp.path, "crypto.db");
    const first = await runOk(journal, "surrogate");
    deepStrictEqual(first.verify, []);
    const second = await runOk(journal, "dump");
    deepStrictEqual(second.dump, first.dump);
  },
});

Deno.test("a journal file that is garbage is a clear error", async () => {
  await using tmp = tempDir();
  const journal = join(tmp.path, "crypto.db");
  const garbage = new Uint8Array(8192).map((_, i) => (i * 131 + 7) & 0xff);
  await Deno.writeFile(journal, garbage);
  let caught: unknown;
  try {
    IdbJournal.open(journal).close();
  } catch (error) {
    caught = error;
  }
  ok(caught instanceof Error, "opening a garbage journal must fail");
  match(caught.message, /encryption store/);
  ok(caught.message.includes(journal), caught.message);
  match(caught.message, /unusable/);
  // The file is left as it was (it may be restored from a backup).
  deepStrictEqual(await Deno.readFile(journal), garbage);
  const r = await run(journal, "dump");
  notStrictEqual(r.code, 0);
  match(r.stderr, /encryption store .* is unusable/);
});

Deno.test("IdbJournal.open creates an empty journal that restores nothing", async () => {
  await using tmp = tempDir();
  const journal = join(tmp.path, "new.db");
  const r = await runOk(journal, "dump");
  deepStrictEqual(r.restored, { databases: 0, records: 0 });
  deepStrictEqual(r.dump, {});
  deepStrictEqual(r.verify, []);
});

// ---- Real Rust crypto on the journal ----

type CryptoResult = { ok: boolean; keys?: { ed25519: string; curve25519: string }; error?: string };

Deno.test("Rust crypto device keys survive a restart through the journal", async () => {
  await using tmp = tempDir();
  const journal = join(tmp.path, "crypto.db");
  const first = await runOk(journal, "crypto") as CryptoResult & { verify: string[] };
  ok(first.ok, first.error);
  deepStrictEqual(first.verify, []);
  match(first.keys!.ed25519, /^[A-Za-z0-9+/]{43}$/);
  match(first.keys!.curve25519, /^[A-Za-z0-9+/]{43}$/);
  const second = await runOk(journal, "crypto") as CryptoResult;
  ok(second.ok, second.error);
  deepStrictEqual(second.keys, first.keys);

  // A fresh journal gives a different identity (the keys are not constant).
  const other = await runOk(join(tmp.path, "other.db"), "crypto") as CryptoResult;
  notStrictEqual(other.keys!.ed25519, first.keys!.ed25519);
});

Deno.test("Rust crypto with a store key: same key works, no key or another key fails", async () => {
  await using tmp = tempDir();
  const journal = join(tmp.path, "crypto.db");
  const key = "a1".repeat(32);
  const first = await runOk(journal, "crypto", key) as CryptoResult;
  ok(first.ok, first.error);
  const again = await runOk(journal, "crypto", key) as CryptoResult;
  ok(again.ok, again.error);
  deepStrictEqual(again.keys, first.keys);

  const withoutKey = await runOk(journal, "crypto") as CryptoResult;
  strictEqual(withoutKey.ok, false, "an encrypted store must not open without its key");
  match(withoutKey.error!, /decrypt|unpickl/i);

  const wrongKey = await runOk(journal, "crypto", "b2".repeat(32)) as CryptoResult;
  strictEqual(wrongKey.ok, false, "an encrypted store must not open with another key");
  match(wrongKey.error!, /decrypt|unpickl/i);
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
