import { deepStrictEqual, ok, rejects, strictEqual, throws } from "node:assert/strict";
import { KeyedQueue, Semaphore } from "../lib/queue.ts";

/** A promise with its resolve/reject handles. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every queued microtask and pending callback run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

for (const size of [0, -1, 1.5, NaN]) {
  Deno.test(`Semaphore rejects a size of ${size}`, () => {
    throws(() => new Semaphore(size), RangeError);
  });
}

for (const size of [1, 2, 3]) {
  Deno.test(`Semaphore(${size}) never runs more than ${size} tasks at once`, async () => {
    const semaphore = new Semaphore(size);
    let running = 0;
    let peak = 0;
    const gates = Array.from({ length: 7 }, () => deferred());
    const runs = gates.map((gate, i) =>
      semaphore.run(async () => {
        running++;
        peak = Math.max(peak, running);
        await gate.promise;
        running--;
        return i;
      })
    );
    await settle();
    strictEqual(running, size);
    strictEqual(semaphore.waiting, 7 - size);
    for (const gate of gates) {
      gate.resolve();
      await settle();
      ok(running <= size, `${running} tasks ran at once`);
    }
    deepStrictEqual(await Promise.all(runs), [0, 1, 2, 3, 4, 5, 6]);
    strictEqual(peak, size);
    strictEqual(semaphore.waiting, 0);
  });
}

Deno.test("Semaphore serves waiters in arrival order", async () => {
  const semaphore = new Semaphore(1);
  const first = deferred();
  const started: number[] = [];
  const runs = [
    semaphore.run(async () => {
      started.push(0);
      await first.promise;
    }),
    ...[1, 2, 3, 4].map((i) => semaphore.run(() => Promise.resolve(started.push(i)))),
  ];
  await settle();
  deepStrictEqual(started, [0]);
  first.resolve();
  await Promise.all(runs);
  deepStrictEqual(started, [0, 1, 2, 3, 4]);
});

Deno.test("Semaphore frees the slot of a task that fails", async () => {
  const semaphore = new Semaphore(1);
  await rejects(semaphore.run(() => Promise.reject(new Error("no"))), /no/);
  strictEqual(await semaphore.run(() => Promise.resolve("next")), "next");
  strictEqual(semaphore.waiting, 0);
});

Deno.test("KeyedQueue runs tasks of one key strictly in order", async () => {
  const queue = new KeyedQueue();
  const log: string[] = [];
  const gates = [deferred(), deferred(), deferred()];
  const results = gates.map((gate, i) =>
    queue.push("room|alice", async () => {
      log.push(`start ${i}`);
      await gate.promise;
      log.push(`end ${i}`);
      return i;
    })
  );
  await settle();
  deepStrictEqual(log, ["start 0"]);
  // Finishing a later task's gate early must not let it overtake.
  gates[2].resolve();
  gates[1].resolve();
  await settle();
  deepStrictEqual(log, ["start 0"]);
  gates[0].resolve();
  deepStrictEqual(await Promise.all(results), [0, 1, 2]);
  deepStrictEqual(log, ["start 0", "end 0", "start 1", "end 1", "start 2", "end 2"]);
});

Deno.test("KeyedQueue runs different keys in parallel", async () => {
  const queue = new KeyedQueue();
  const gateA = deferred();
  const started: string[] = [];
  const a = queue.push("a", async () => {
    started.push("a");
    await gateA.promise;
  });
  const b = queue.push("b", () => {
    started.push("b");
    return Promise.resolve();
  });
  await b; // b finishes while a is still blocked
  await settle();
  deepStrictEqual(started, ["a", "b"]);
  strictEqual(queue.activeKeys, 1);
  gateA.resolve();
  await a;
});

Deno.test("KeyedQueue: a rejecting task does not block later tasks of its key", async () => {
  const queue = new KeyedQueue();
  const failing = queue.push("k", () => Promise.reject(new Error("handler crashed")));
  const throwing = queue.push("k", () => {
    throw new Error("sync crash");
  });
  const next = queue.push("k", () => Promise.resolve("still answered"));
  await rejects(failing, /handler crashed/);
  await rejects(throwing, /sync crash/);
  strictEqual(await next, "still answered");
});

Deno.test("KeyedQueue.idle waits for every queued task, including ones queued meanwhile", async () => {
  const queue = new KeyedQueue();
  const done: string[] = [];
  const gate = deferred();
  queue.push("a", async () => {
    await gate.promise;
    done.push("a1");
    queue.push("a", () => Promise.resolve(done.push("a2")));
  }).catch(() => {});
  queue.push("b", () => Promise.reject(new Error("ignored"))).catch(() => {});
  queue.push("c", () => Promise.resolve(done.push("c")));
  let idle = false;
  const waiting = queue.idle().then(() => (idle = true));
  await settle();
  strictEqual(idle, false);
  gate.resolve();
  await waiting;
  deepStrictEqual(done.sort(), ["a1", "a2", "c"]);
});

Deno.test("KeyedQueue.activeKeys counts busy keys and returns to 0 when idle", async () => {
  const queue = new KeyedQueue();
  strictEqual(queue.activeKeys, 0);
  const gate = deferred();
  queue.push("x", () => gate.promise);
  queue.push("x", () => Promise.resolve());
  queue.push("y", () => gate.promise);
  strictEqual(queue.activeKeys, 2);
  gate.resolve();
  await queue.idle();
  strictEqual(queue.activeKeys, 0);
});

Deno.test("KeyedQueue.idle resolves at once when nothing was queued", async () => {
  const queue = new KeyedQueue();
  await queue.idle();
  strictEqual(queue.activeKeys, 0);
});

Deno.test("KeyedQueue.exclusive waits for running tasks of every key, and later tasks wait for it", async () => {
  const queue = new KeyedQueue();
  const log: string[] = [];
  const a = deferred();
  const b = deferred();
  const runA = queue.push("a", async () => {
    log.push("a start");
    await a.promise;
    log.push("a end");
  });
  const runB = queue.push("b", async () => {
    log.push("b start");
    await b.promise;
    log.push("b end");
  });
  const all = queue.exclusive(() => {
    log.push("exclusive");
    return Promise.resolve("cleared");
  });
  const later = queue.push("c", () => {
    log.push("c");
    return Promise.resolve();
  });
  await settle();
  deepStrictEqual(log, ["a start", "b start"], "neither the exclusive task nor c may start yet");
  a.resolve();
  await settle();
  deepStrictEqual(log, ["a start", "b start", "a end"], "b still runs");
  b.resolve();
  strictEqual(await all, "cleared");
  await Promise.all([runA, runB, later]);
  deepStrictEqual(log, ["a start", "b start", "a end", "b end", "exclusive", "c"]);
});

Deno.test("KeyedQueue.exclusive: a failing exclusive task does not block later tasks", async () => {
  const queue = new KeyedQueue();
  await rejects(queue.exclusive(() => Promise.reject(new Error("boom"))), /boom/);
  strictEqual(await queue.push("a", () => Promise.resolve(1)), 1);
  strictEqual(await queue.exclusive(() => Promise.resolve(2)), 2);
  await queue.idle();
  strictEqual(queue.activeKeys, 0);
});

Deno.test("KeyedQueue.idle waits for an exclusive task", async () => {
  const queue = new KeyedQueue();
  const gate = deferred();
  let done = false;
  void queue.exclusive(async () => {
    await gate.promise;
    done = true;
  });
  const idle = queue.idle();
  await settle();
  strictEqual(done, false);
  gate.resolve();
  await idle;
  strictEqual(done, true);
});
