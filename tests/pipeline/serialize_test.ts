import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { serializeStep, serialKey } from "../../lib/pipeline/serialize.ts";
import { KeyedQueue } from "../../lib/queue.ts";
import { ALICE, ROOM, testTurn } from "../fixtures/turns.ts";

const BOB = "@bob:test";

/** Runs the step for a turn whose rest takes until `release` is called. */
function start(queue: KeyedQueue, log: string[], name: string, room: string, sender: string) {
  let release!: () => void;
  const held = new Promise<void>((r) => release = r);
  const done = serializeStep(queue)(testTurn({ msg: { room, sender } }), async () => {
    log.push(`${name} start`);
    await held;
    log.push(`${name} end`);
  });
  return { release, done: Promise.resolve(done) };
}

Deno.test("serialize: one user's messages in a room run one after another, in order", async () => {
  const queue = new KeyedQueue();
  const log: string[] = [];
  const first = start(queue, log, "first", ROOM, ALICE);
  const second = start(queue, log, "second", ROOM, ALICE);
  await new Promise((r) => setTimeout(r, 0));
  deepStrictEqual(log, ["first start"]);
  first.release();
  second.release();
  await Promise.all([first.done, second.done]);
  deepStrictEqual(log, ["first start", "first end", "second start", "second end"]);
});

Deno.test("serialize: different users, and one user in two rooms, run in parallel", async () => {
  const queue = new KeyedQueue();
  const log: string[] = [];
  const runs = [
    start(queue, log, "alice", ROOM, ALICE),
    start(queue, log, "bob", ROOM, BOB),
    start(queue, log, "alice elsewhere", "!other:test", ALICE),
  ];
  await new Promise((r) => setTimeout(r, 0));
  deepStrictEqual(log, ["alice start", "bob start", "alice elsewhere start"]);
  runs.forEach((r) => r.release());
  await Promise.all(runs.map((r) => r.done));
});

Deno.test("serialize: the queue is idle only once every queued turn is done", async () => {
  const queue = new KeyedQueue();
  const log: string[] = [];
  const run = start(queue, log, "slow", ROOM, ALICE);
  let idle = false;
  const waiting = queue.idle().then(() => idle = true);
  await new Promise((r) => setTimeout(r, 0));
  strictEqual(idle, false);
  run.release();
  await waiting;
  deepStrictEqual(log, ["slow start", "slow end"]);
});

Deno.test("serialize: a turn that fails does not hold up the next one", async () => {
  const queue = new KeyedQueue();
  const step = serializeStep(queue);
  const failed = Promise.resolve(
    step(testTurn(), () => Promise.reject(new Error("boom"))),
  ).catch((e) => (e as Error).message);
  let ran = false;
  await step(testTurn(), () => Promise.resolve(void (ran = true)));
  strictEqual(await failed, "boom");
  strictEqual(ran, true);
});

const keyCases: Array<[string, { sender: string; threadId?: string }, string]> = [
  ["a top-level message waits in its sender's queue", { sender: ALICE }, `${ROOM}\n${ALICE}`],
  ["a thread message in its thread's, whoever sent it", {
    sender: BOB,
    threadId: "$root",
  }, `${ROOM}\nthread $root`],
];
for (const [name, msg, want] of keyCases) {
  Deno.test(`serialKey: ${name}`, () => {
    strictEqual(serialKey(testTurn({ msg: { room: ROOM, ...msg } })), want);
  });
}

Deno.test("serialize: two users' messages in one thread run one after another (decision 38)", async () => {
  const queue = new KeyedQueue();
  const log: string[] = [];
  const run = (name: string, sender: string) => {
    let release!: () => void;
    const held = new Promise<void>((r) => release = r);
    const turn = testTurn({ msg: { room: ROOM, sender, threadId: "$root" } });
    const done = serializeStep(queue)(turn, async () => {
      log.push(`${name} start`);
      await held;
      log.push(`${name} end`);
    });
    return { release, done: Promise.resolve(done) };
  };
  const alice = run("alice", ALICE);
  const bob = run("bob", BOB);
  await new Promise((r) => setTimeout(r, 0));
  deepStrictEqual(log, ["alice start"]);
  alice.release();
  bob.release();
  await Promise.all([alice.done, bob.done]);
  deepStrictEqual(log, ["alice start", "alice end", "bob start", "bob end"]);
});
