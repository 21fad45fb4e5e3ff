/**
 * The UsageStore contract, run against the SQLite and the memory
 * implementation alike (tests/state/backends.ts), and the day arithmetic.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { oldestUsageDay, utcDay } from "../../lib/state/rules.ts";
import { contract } from "./backends.ts";

Deno.test("utcDay is the UTC date of a timestamp", () => {
  strictEqual(utcDay(Date.UTC(2026, 10, 21, 23, 59)), "2026-11-21");
  strictEqual(utcDay(Date.UTC(2026, 10, 22, 0, 0)), "2026-11-22");
});

Deno.test("oldestUsageDay keeps a week besides today", () => {
  strictEqual(oldestUsageDay(Date.UTC(2026, 10, 22, 12)), "2026-11-15");
});

contract(
  "UsageStore",
  "counts per user per day, survives reopening, and renews the next day",
  (t) => {
    const day1 = Date.UTC(2026, 10, 21, 12);
    let budget = t.usage(100);
    budget.add("@a:t", 60, day1);
    ok(!budget.exhausted("@a:t", day1));
    budget.add("@a:t", 40, day1);
    budget = t.reopen().usage(100);
    strictEqual(budget.used("@a:t", day1), 100);
    ok(budget.exhausted("@a:t", day1));
    ok(!budget.exhausted("@b:t", day1));
    ok(!budget.exhausted("@a:t", day1 + 86_400_000), "a new UTC day starts empty");
    deepStrictEqual(t.usage(0).exhausted("@a:t", day1), false, "0 = no budget");
  },
);

contract("UsageStore", "rounds tokens and ignores counts of zero or less", (t) => {
  const usage = t.usage(0);
  strictEqual(usage.daily, 0);
  usage.add("@a:t", 10.4, 0);
  usage.add("@a:t", 0.6, 0);
  usage.add("@a:t", 0, 0);
  usage.add("@a:t", -5, 0);
  strictEqual(usage.used("@a:t", 0), 11);
});

contract("UsageStore", "forgets days older than a week when it counts", (t) => {
  const day = 86_400_000;
  const start = Date.UTC(2026, 0, 1, 12);
  const usage = t.usage(1000);
  usage.add("@a:t", 5, start);
  usage.add("@b:t", 7, start + day);
  usage.add("@c:t", 1, start + 8 * day);
  strictEqual(usage.used("@a:t", start), 0, "eight days old: forgotten");
  strictEqual(usage.used("@b:t", start + day), 7, "seven days old: kept");
});
