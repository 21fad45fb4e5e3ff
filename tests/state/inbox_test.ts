/**
 * The InboxStore contract, run against the SQLite and the memory
 * implementation alike (tests/state/backends.ts), and the SQLite one's
 * transaction.
 */
import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import { SqliteInboxStore } from "../../lib/state/sqlite_inbox.ts";
import { Store } from "../../lib/store.ts";
import { contract } from "./backends.ts";

const event = (id: string, body = "hi") => ({
  event_id: id,
  type: "m.room.message",
  sender: "@u:test",
  content: { msgtype: "m.text", body },
});

contract("InboxStore", "add stores an event once; seen and handled tell its state", (t) => {
  const inbox = t.inbox();
  strictEqual(inbox.seen("$a"), false);
  strictEqual(inbox.add("$a", "!r:test", event("$a"), 1000), true);
  strictEqual(inbox.seen("$a"), true);
  strictEqual(inbox.handled("$a"), false);
  strictEqual(inbox.add("$a", "!r:test", event("$a", "again"), 2000), false, "a duplicate");
  deepStrictEqual(inbox.pending(), [
    { eventId: "$a", room: "!r:test", event: event("$a"), receivedAt: 1000 },
  ]);
});

contract("InboxStore", "pending lists waiting events oldest first (then by id)", (t) => {
  const inbox = t.inbox();
  inbox.add("$c", "!r:test", event("$c"), 300);
  inbox.add("$b", "!r:test", event("$b"), 100);
  inbox.add("$z", "!s:test", event("$z"), 200);
  inbox.add("$a", "!s:test", event("$a"), 200);
  deepStrictEqual(inbox.pending().map((e) => e.eventId), ["$b", "$a", "$z", "$c"]);
  deepStrictEqual(inbox.pending().map((e) => e.room), ["!r:test", "!s:test", "!s:test", "!r:test"]);
});

contract("InboxStore", "pending returns the event as stored, nested content included", (t) => {
  const inbox = t.inbox();
  const e = {
    event_id: "$enc",
    type: "m.room.encrypted",
    content: { algorithm: "m.megolm.v1.aes-sha2", ciphertext: "AbC+/=", unicode: "é😀" },
    unsigned: { age: 5 },
  };
  inbox.add("$enc", "!r:test", e, 1);
  deepStrictEqual(inbox.pending()[0].event, e);
});

contract("InboxStore", "done removes the event from pending and marks it handled", (t) => {
  const inbox = t.inbox();
  inbox.add("$a", "!r:test", event("$a"), 1);
  inbox.add("$b", "!r:test", event("$b"), 2);
  inbox.done("$a", "!r:test", 10);
  deepStrictEqual(inbox.pending().map((e) => e.eventId), ["$b"]);
  strictEqual(inbox.handled("$a"), true);
  strictEqual(inbox.seen("$a"), true);
  strictEqual(inbox.handled("$b"), false);
});

contract(
  "InboxStore",
  "add of an already handled event returns false and does not requeue it",
  (t) => {
    const inbox = t.inbox();
    inbox.add("$a", "!r:test", event("$a"), 1);
    inbox.done("$a", "!r:test", 2);
    strictEqual(inbox.add("$a", "!r:test", event("$a"), 3), false);
    deepStrictEqual(inbox.pending(), []);
  },
);

contract("InboxStore", "done marks an event that never was in the inbox", (t) => {
  const inbox = t.inbox();
  inbox.done("$x", "!r:test", 5);
  strictEqual(inbox.handled("$x"), true);
  strictEqual(inbox.add("$x", "!r:test", event("$x")), false);
});

contract(
  "InboxStore",
  "prune removes only handled marks older than the age, never pending events",
  (t) => {
    const inbox = t.inbox();
    const day = 86_400_000;
    const now = 100 * day;
    inbox.add("$old-pending", "!r:test", event("$old-pending"), now - 30 * day);
    inbox.done("$old", "!r:test", now - 15 * day);
    inbox.done("$edge", "!r:test", now - 14 * day);
    inbox.done("$new", "!r:test", now - day);
    inbox.prune(14 * day, now);
    strictEqual(inbox.handled("$old"), false, "older than 14 days is forgotten");
    strictEqual(inbox.handled("$edge"), true, "exactly 14 days is kept");
    strictEqual(inbox.handled("$new"), true);
    deepStrictEqual(inbox.pending().map((e) => e.eventId), ["$old-pending"]);
  },
);

contract("InboxStore", "prune defaults to 14 days", (t) => {
  const inbox = t.inbox();
  const day = 86_400_000;
  inbox.done("$15", "!r:test", Date.now() - 15 * day);
  inbox.done("$13", "!r:test", Date.now() - 13 * day);
  inbox.prune();
  strictEqual(inbox.handled("$15"), false);
  strictEqual(inbox.handled("$13"), true);
});

contract("InboxStore", "remembers answered verification requests and prunes old ones", (t) => {
  const inbox = t.inbox();
  const day = 86_400_000;
  const now = 50 * day;
  strictEqual(inbox.verificationSeen("txn1"), false);
  inbox.markVerification("txn1", now - 20 * day);
  inbox.markVerification("txn2", now - day);
  inbox.markVerification("txn2", now);
  strictEqual(inbox.verificationSeen("txn1"), true);
  strictEqual(inbox.verificationSeen("txn2"), true);
  strictEqual(inbox.verificationSeen("txn3"), false);
  inbox.prune(14 * day, now);
  strictEqual(inbox.verificationSeen("txn1"), false);
  strictEqual(inbox.verificationSeen("txn2"), true);
});

contract("InboxStore", "state survives closing and reopening the store", (t) => {
  let inbox = t.inbox();
  inbox.add("$p", "!r:test", event("$p", "pending"), 10);
  inbox.add("$h", "!r:test", event("$h"), 5);
  inbox.done("$h", "!r:test", 20);
  inbox.markVerification("txn", 30);
  inbox = t.reopen().inbox();
  deepStrictEqual(inbox.pending(), [
    { eventId: "$p", room: "!r:test", event: event("$p", "pending"), receivedAt: 10 },
  ]);
  strictEqual(inbox.handled("$h"), true);
  strictEqual(inbox.add("$h", "!r:test", event("$h")), false);
  strictEqual(inbox.verificationSeen("txn"), true);
  ok(!inbox.handled("$p"));
});

contract(
  "InboxStore",
  "pending() replays events of one sync in the server's order, not by event id",
  (t) => {
    const inbox = t.inbox();
    // Same receive time; event ids that sort the other way round.
    inbox.add("$zzz", "!r:t", { origin_server_ts: 1000 }, 5);
    inbox.add("$aaa", "!r:t", { origin_server_ts: 2000 }, 5);
    inbox.add("$mmm", "!r:t", { origin_server_ts: 1500 }, 5);
    deepStrictEqual(inbox.pending().map((e) => e.eventId), ["$zzz", "$mmm", "$aaa"]);
  },
);

Deno.test("SqliteInboxStore.done is atomic: a failing mark keeps the event in the inbox", () => {
  const dir = Deno.makeTempDirSync({ prefix: "infinigpt-inbox-" });
  const store = Store.open(dir);
  try {
    const db = store.db;
    const inbox = new SqliteInboxStore(db);
    inbox.add("$a", "!r:test", event("$a"), 1);
    // Make the second statement of done() (the mark) fail after the delete ran.
    db.exec(`CREATE TRIGGER fail_mark BEFORE INSERT ON handled_events
             BEGIN SELECT RAISE(ABORT, 'disk on fire'); END`);
    throws(() => inbox.done("$a", "!r:test", 2), /disk on fire/);
    deepStrictEqual(inbox.pending().map((e) => e.eventId), ["$a"], "the delete was rolled back");
    strictEqual(inbox.handled("$a"), false);
    strictEqual(db.isTransaction, false, "no transaction left open");
    db.exec("DROP TRIGGER fail_mark");
    inbox.done("$a", "!r:test", 3);
    deepStrictEqual(inbox.pending(), []);
    strictEqual(inbox.handled("$a"), true);
  } finally {
    store.close();
    Deno.removeSync(dir, { recursive: true });
  }
});

contract("InboxStore", "a verification request marked again keeps its first time", (t) => {
  const inbox = t.inbox();
  const day = 86_400_000;
  const now = 50 * day;
  inbox.markVerification("txn", now - 20 * day);
  inbox.markVerification("txn", now);
  inbox.prune(14 * day, now);
  strictEqual(inbox.verificationSeen("txn"), false);
});
