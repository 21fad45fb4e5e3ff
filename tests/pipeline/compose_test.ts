import { deepStrictEqual, rejects, strictEqual } from "node:assert/strict";
import { compose, type Step } from "../../lib/pipeline/compose.ts";

type Log = string[];

function around(name: string): Step<Log> {
  return async (log, next) => {
    log.push(`${name} in`);
    await next();
    log.push(`${name} out`);
  };
}

Deno.test("compose runs the steps in order, each around the ones after it", async () => {
  const log: Log = [];
  await compose([around("a"), around("b"), around("c")])(log);
  deepStrictEqual(log, ["a in", "b in", "c in", "c out", "b out", "a out"]);
});

Deno.test("a step that does not call next ends the path there", async () => {
  const log: Log = [];
  const stop: Step<Log> = (l) => void l.push("stop");
  await compose([around("a"), stop, around("never")])(log);
  deepStrictEqual(log, ["a in", "stop", "a out"]);
});

Deno.test("the composed function's own next runs after the last step", async () => {
  const log: Log = [];
  await compose([around("a")])(log, () => {
    log.push("last");
    return Promise.resolve();
  });
  deepStrictEqual(log, ["a in", "last", "a out"]);
});

Deno.test("an empty pipeline resolves and calls its own next", async () => {
  let called = false;
  await compose<Log>([])([], () => Promise.resolve(void (called = true)));
  strictEqual(called, true);
});

Deno.test("calling next twice in one step rejects and runs the later steps only once", async () => {
  let runs = 0;
  const twice: Step<Log> = async (_l, next) => {
    await next();
    await next();
  };
  const counted: Step<Log> = () => void runs++;
  await rejects(compose([twice, counted])([]), /next\(\) called more than once/);
  strictEqual(runs, 1);
});

Deno.test("steps run synchronously until one awaits, so arrival order is queue order", () => {
  const log: Log = [];
  const sync: Step<Log> = (l, next) => {
    l.push("sync");
    return next();
  };
  const asyncUntilNext: Step<Log> = async (l, next) => {
    l.push("async before its first await");
    await next();
  };
  const last: Step<Log> = (l) => void l.push("last");
  void compose([sync, asyncUntilNext, last])(log);
  // Nothing was awaited yet: every step up to the last already ran.
  deepStrictEqual(log, ["sync", "async before its first await", "last"]);
});

Deno.test("an error thrown by a later step reaches an earlier step's catch", async () => {
  const log: Log = [];
  const boundary: Step<Log> = async (l, next) => {
    try {
      await next();
    } catch (error) {
      l.push(`caught ${(error as Error).message}`);
    }
  };
  const throwsSync: Step<Log> = () => {
    throw new Error("sync");
  };
  const throwsAsync: Step<Log> = () => Promise.reject(new Error("async"));
  await compose([boundary, throwsSync])(log);
  await compose([boundary, around("x"), throwsAsync])(log);
  deepStrictEqual(log, ["caught sync", "x in", "caught async"]);
});

Deno.test("an error no step catches rejects the composed promise", async () => {
  const fails: Step<Log> = () => {
    throw new Error("nobody catches me");
  };
  await rejects(compose([around("a"), fails])([]), /nobody catches me/);
});
