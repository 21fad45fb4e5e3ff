import { deepStrictEqual, match, notStrictEqual, ok, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { IdbJournal } from "../lib/crypto_journal.ts";
import { run, runOk, tempDir } from "./fixtures/journal_process.ts";
import { assertKilled } from "./fixtures/platform.ts";

// ---- The journal, in subprocesses (its hooks are global, once per process) ----

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
