import { deepStrictEqual, rejects, strictEqual } from "node:assert/strict";
import { OrderGate } from "../lib/order_gate.ts";

function later<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: Error) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

Deno.test("an item ready early waits for the earlier item of its key, then both go in arrival order", async () => {
  const gate = new OrderGate({ maxWaitMs: 5_000 });
  const order: string[] = [];
  const first = later<string>();
  const a = gate.pass("room|alice", first.promise, (v) => order.push(v));
  const b = gate.pass("room|alice", Promise.resolve("second"), (v) => order.push(v));
  await new Promise((r) => setTimeout(r, 10));
  deepStrictEqual(order, []);
  first.resolve("first");
  await Promise.all([a, b]);
  deepStrictEqual(order, ["first", "second"]);
  strictEqual(gate.size, 0);
});

Deno.test("items of other keys are not held by a slow one", async () => {
  const gate = new OrderGate({ maxWaitMs: 5_000 });
  const order: string[] = [];
  const slow = later<string>();
  const a = gate.pass("room|alice", slow.promise, (v) => order.push(v));
  await gate.pass("room|bob", Promise.resolve("bob"), (v) => order.push(v));
  deepStrictEqual(order, ["bob"]);
  slow.resolve("alice");
  await a;
  deepStrictEqual(order, ["bob", "alice"]);
});

Deno.test("an item that never gets ready holds the later ones only for maxWaitMs", async () => {
  const gate = new OrderGate({ maxWaitMs: 30 });
  const order: string[] = [];
  const never = later<string>();
  void gate.pass("k", never.promise, (v) => order.push(v));
  await gate.pass("k", Promise.resolve("later"), (v) => order.push(v));
  deepStrictEqual(order, ["later"]);
  never.resolve("late");
  await new Promise((r) => setTimeout(r, 0));
  deepStrictEqual(order, ["later", "late"]);
});

Deno.test("a rejected item lets the next one through at once and rejects to its own caller", async () => {
  const gate = new OrderGate({ maxWaitMs: 60_000 });
  const order: string[] = [];
  const failing = later<string>();
  const a = gate.pass("k", failing.promise, (v) => order.push(v));
  const b = gate.pass("k", Promise.resolve("next"), (v) => order.push(v));
  failing.reject(new Error("no keys"));
  await rejects(a, /no keys/);
  await b;
  deepStrictEqual(order, ["next"]);
});

Deno.test("the next item is let through only after then() ran, so what then() starts keeps the order", async () => {
  const gate = new OrderGate({ maxWaitMs: 5_000 });
  const started: number[] = [];
  const items = Array.from({ length: 20 }, () => {
    const ready = later<number>();
    return { ready, done: gate.pass("k", ready.promise, (v) => started.push(v)) };
  });
  // Ready in reverse order: started must still be 0..19.
  for (let i = items.length - 1; i >= 0; i--) items[i].ready.resolve(i);
  await Promise.all(items.map((i) => i.done));
  deepStrictEqual(started, Array.from({ length: 20 }, (_, i) => i));
});
