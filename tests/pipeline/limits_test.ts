import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { limitsStep } from "../../lib/pipeline/limits.ts";
import { MemoryPort } from "../fixtures/memory_port.ts";
import { ALICE, captureLogs, passes, ROOM, testCommand, testTurn } from "../fixtures/turns.ts";

const limited = testCommand({ name: ".ai", limited: true });
const unlimited = testCommand({ name: ".help", limited: false });

function turn(command = limited, isAdmin = false) {
  const port = new MemoryPort();
  return { port, turn: testTurn({ port, command, isAdmin, senderName: "Alice" }) };
}

Deno.test("limits: within the rate, a limited command goes on without a reply", async () => {
  const step = limitsStep({ requestsPerMinute: 2 });
  for (let i = 0; i < 2; i++) {
    const t = turn();
    strictEqual(await passes(step, t.turn), true);
    deepStrictEqual(t.port.events, []);
  }
});

Deno.test("limits: over the rate, a limited command is refused with a reply saying when to retry", async () => {
  using logs = captureLogs("info");
  const step = limitsStep({ requestsPerMinute: 1 });
  await passes(step, turn().turn);
  const t = turn();
  strictEqual(await passes(step, t.turn), false);
  deepStrictEqual(t.port.visible(), [
    "Slow down, Alice: at most 1 requests per minute. Try again in 60 s.",
  ]);
  deepStrictEqual(logs.lines, [`INFO bot: ${ALICE} is over a limit; .ai in ${ROOM} refused`]);
});

Deno.test("limits: commands that do not ask the model are neither limited nor counted", async () => {
  const step = limitsStep({ requestsPerMinute: 1 });
  for (let i = 0; i < 3; i++) strictEqual(await passes(step, turn(unlimited).turn), true);
  strictEqual(await passes(step, turn().turn), true, "the .help commands used up nothing");
});

Deno.test("limits: admins have no limits", async () => {
  const step = limitsStep({
    requestsPerMinute: 1,
    budget: { refusal: () => ({ limit: "daily_tokens", budget: 10, renewsAt: 0 }) },
  });
  for (let i = 0; i < 3; i++) strictEqual(await passes(step, turn(limited, true).turn), true);
});

Deno.test("limits: a used-up daily budget refuses a limited command, saying which and when", async () => {
  const step = limitsStep({
    requestsPerMinute: 0,
    budget: {
      refusal: (user) =>
        user === ALICE ? { limit: "daily_tokens", budget: 5000, renewsAt: 0 } : undefined,
    },
  });
  const t = turn();
  strictEqual(await passes(step, t.turn), false);
  deepStrictEqual(t.port.visible(), [
    "Sorry Alice, you have used today's budget of 5,000 tokens. It renews at midnight UTC.",
  ]);
});

Deno.test("limits: a used-up monthly budget refuses with the amount and the day it renews", async () => {
  const renewsAt = Date.UTC(2027, 0, 1);
  const step = limitsStep({
    requestsPerMinute: 0,
    budget: { refusal: () => ({ limit: "monthly_usd", budget: 5, renewsAt }) },
  });
  const t = turn();
  strictEqual(await passes(step, t.turn), false);
  deepStrictEqual(t.port.visible(), [
    "Sorry Alice, you have used this month's budget of $5.00. It renews on January 1 at midnight UTC.",
  ]);
});

Deno.test("limits: a failing budget store throws to the error boundary", async () => {
  const step = limitsStep({
    requestsPerMinute: 0,
    budget: {
      refusal: () => {
        throw new Error("database is locked");
      },
    },
  });
  const error = await passes(step, turn().turn).catch((e) => (e as Error).message);
  strictEqual(error, "database is locked");
});
