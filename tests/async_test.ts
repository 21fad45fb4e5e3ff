import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import {
  deadline,
  DeadlineError,
  delay,
  parseRetryAfter,
  retry,
  type RetryOptions,
} from "../lib/async.ts";

/** An abort signal that counts the abort listeners it holds. */
function countingSignal(): {
  controller: AbortController;
  signal: AbortSignal;
  held: () => number;
} {
  const controller = new AbortController();
  const signal = controller.signal;
  let held = 0;
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = ((...args: Parameters<typeof add>) => {
    held++;
    add(...args);
  }) as typeof add;
  signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
    held--;
    remove(...args);
  }) as typeof remove;
  return { controller, signal, held: () => held };
}

const never = () => new Promise<never>(() => {});

// ---- delay ----

Deno.test("delay resolves once the time is up", async () => {
  strictEqual(await delay(1), undefined);
});

Deno.test("delay rejects with the signal's reason when it aborts during the wait", async () => {
  const stop = new AbortController();
  const waiting = delay(60_000, { signal: stop.signal });
  stop.abort(new Error("stopping"));
  await rejects(waiting, { message: "stopping" });
});

Deno.test("delay rejects at once when the signal has aborted already", async () => {
  await rejects(delay(60_000, { signal: AbortSignal.abort(new Error("gone")) }), {
    message: "gone",
  });
});

Deno.test("delay leaves no abort listener behind when the time is up", async () => {
  const { signal, held } = countingSignal();
  for (let i = 0; i < 20; i++) await delay(0, { signal });
  strictEqual(held(), 0, "a listener per finished wait");
});

// ---- deadline ----

Deno.test("deadline settles like the promise when it settles in time", async () => {
  strictEqual(await deadline(Promise.resolve(7), 60_000), 7);
  await rejects(deadline(Promise.reject(new Error("failed")), 60_000), { message: "failed" });
});

Deno.test("deadline rejects with a DeadlineError when the promise takes too long", async () => {
  const error = await deadline(never(), 1).catch((e) => e);
  ok(error instanceof DeadlineError, String(error));
  strictEqual(error.ms, 1);
});

Deno.test("a DeadlineError says the time in seconds, to a tenth", () => {
  const cases: Array<[number, string]> = [
    [100, "timed out after 0.1 s"],
    [1500, "timed out after 1.5 s"],
    [60_000, "timed out after 60 s"],
    [1, "timed out after 0 s"],
  ];
  for (const [ms, message] of cases) strictEqual(new DeadlineError(ms).message, message);
});

Deno.test("deadline rejects with the signal's reason when it aborts first", async () => {
  const stop = new AbortController();
  const waiting = deadline(never(), 60_000, { signal: stop.signal });
  stop.abort(new Error("stopping"));
  await rejects(waiting, { message: "stopping" });
  await rejects(deadline(never(), 60_000, { signal: AbortSignal.abort(new Error("gone")) }), {
    message: "gone",
  });
});

Deno.test("deadline leaves no abort listener behind when the promise settles", async () => {
  const { signal, held } = countingSignal();
  for (let i = 0; i < 20; i++) await deadline(Promise.resolve(i), 60_000, { signal });
  strictEqual(held(), 0);
});

Deno.test("a promise rejecting after its deadline is not an unhandled rejection", async () => {
  let fail!: (error: Error) => void;
  const late = new Promise<never>((_, reject) => (fail = reject));
  await rejects(deadline(late, 1), DeadlineError);
  fail(new Error("too late"));
  await delay(1);
  const aborted = new Promise<never>((_, reject) => (fail = reject));
  await rejects(deadline(aborted, 60_000, { signal: AbortSignal.abort() }));
  fail(new Error("too late"));
  await delay(1);
});

// ---- retry ----

/** A task that fails with the given errors in turn, then returns "done". */
function script(errors: unknown[]): { task: () => Promise<string>; attempts: () => number } {
  let attempts = 0;
  return {
    task: () => {
      const error = errors[attempts++];
      return error === undefined ? Promise.resolve("done") : Promise.reject(error);
    },
    attempts: () => attempts,
  };
}

class Final extends Error {}
const boom = (n: number) => Array.from({ length: n }, (_, i) => new Error(`failure ${i + 1}`));

const RETRY_CASES: Array<{
  what: string;
  errors: unknown[];
  options: RetryOptions;
  result: string;
  attempts: number;
  waits: number[];
}> = [
  {
    what: "returns the first success without waiting",
    errors: [],
    options: { delays: [1] },
    result: "done",
    attempts: 1,
    waits: [],
  },
  {
    what: "waits the delays in turn between attempts",
    errors: boom(2),
    options: { delays: [1, 2, 3] },
    result: "done",
    attempts: 3,
    waits: [1, 2],
  },
  {
    what: "repeats the last delay",
    errors: boom(4),
    options: { delays: [1, 2] },
    result: "done",
    attempts: 5,
    waits: [1, 2, 2, 2],
  },
  {
    what: "asks a delay function with the retry's index",
    errors: boom(3),
    options: { delays: (i) => 10 + i },
    result: "done",
    attempts: 4,
    waits: [10, 11, 12],
  },
  {
    what: "waits what the error asks for instead of the delay",
    errors: [Object.assign(new Error("busy"), { after: 5 }), new Error("plain")],
    options: {
      delays: [1],
      retryAfterMs: (e) => (e as { after?: number }).after,
    },
    result: "done",
    attempts: 3,
    waits: [5, 1],
  },
  {
    what: "throws the last error when the retries are used up",
    errors: boom(5),
    options: { delays: [1], maxRetries: 2 },
    result: "failure 3",
    attempts: 3,
    waits: [1, 1],
  },
  {
    what: "throws an error that is not retriable at once",
    errors: [new Error("transient"), new Final("final"), new Error("not reached")],
    options: { delays: [1], isRetriable: (e) => !(e instanceof Final) },
    result: "final",
    attempts: 2,
    waits: [1],
  },
  {
    what: "throws an error that asks for a longer wait than the longest",
    errors: [Object.assign(new Error("come back tomorrow"), { after: 86_400_000 })],
    options: {
      delays: [1],
      retryAfterMs: (e) => (e as { after?: number }).after,
      maxDelayMs: 20_000,
    },
    result: "come back tomorrow",
    attempts: 1,
    waits: [],
  },
  {
    what: "retries nothing with an empty list of delays",
    errors: boom(1),
    options: { delays: [] },
    result: "failure 1",
    attempts: 1,
    waits: [],
  },
];

for (const c of RETRY_CASES) {
  Deno.test(`retry ${c.what}`, async () => {
    const { task, attempts } = script(c.errors);
    const waits: number[] = [];
    const numbers: number[] = [];
    const result = await retry(task, {
      ...c.options,
      onRetry: (_error, n, ms) => {
        numbers.push(n);
        waits.push(ms);
      },
    }).catch((e: Error) => e.message);
    strictEqual(result, c.result);
    strictEqual(attempts(), c.attempts);
    deepStrictEqual(waits, c.waits);
    deepStrictEqual(numbers, c.waits.map((_, i) => i + 1), "retries are numbered from 1");
  });
}

Deno.test("retry stops waiting when the signal aborts, with the signal's reason", async () => {
  const stop = new AbortController();
  const { task, attempts } = script(boom(3));
  const running = retry(task, {
    delays: [60_000],
    signal: stop.signal,
    onRetry: () => stop.abort(new Error("stopping")),
  });
  await rejects(running, { message: "stopping" });
  strictEqual(attempts(), 1);
});

Deno.test("retry throws an attempt's own error once the signal has aborted", async () => {
  const stop = new AbortController();
  let attempts = 0;
  const task = () => {
    attempts++;
    stop.abort(new Error("stopping"));
    return Promise.reject(new Error("failed while stopping"));
  };
  await rejects(retry(task, { delays: [1], signal: stop.signal }), {
    message: "failed while stopping",
  });
  strictEqual(attempts, 1);
});

Deno.test("retry leaves no abort listener behind after its waits", async () => {
  const { signal, held } = countingSignal();
  const { task } = script(boom(10));
  strictEqual(await retry(task, { delays: [0], signal }), "done");
  strictEqual(held(), 0);
});

// ---- parseRetryAfter ----

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const RETRY_AFTER_CASES: Array<[string, Record<string, string>, number | undefined]> = [
  ["seconds", { "retry-after": "2" }, 2000],
  ["zero seconds", { "retry-after": "0" }, 0],
  ["fractional seconds", { "retry-after": "1.5" }, 1500],
  ["an HTTP date", { "retry-after": new Date(NOW + 30_000).toUTCString() }, 30_000],
  ["an HTTP date in the past", { "retry-after": new Date(NOW - 30_000).toUTCString() }, 0],
  ["retry-after-ms", { "retry-after-ms": "250" }, 250],
  ["retry-after-ms before retry-after", { "retry-after-ms": "250", "retry-after": "10" }, 250],
  ["garbage retry-after-ms, then retry-after", { "retry-after-ms": "x", "retry-after": "3" }, 3000],
  ["no header", {}, undefined],
  ["an empty value", { "retry-after": "" }, undefined],
  ["a word", { "retry-after": "soon" }, undefined],
  ["negative seconds", { "retry-after": "-5" }, undefined],
  ["a word and a number", { "retry-after": "wait 12" }, undefined],
];
for (const [what, headers, expected] of RETRY_AFTER_CASES) {
  Deno.test(`parseRetryAfter reads ${what} as ${expected}`, () => {
    strictEqual(parseRetryAfter(new Headers(headers), NOW), expected);
  });
}

Deno.test("parseRetryAfter without headers is undefined", () => {
  strictEqual(parseRetryAfter(undefined, NOW), undefined);
});
