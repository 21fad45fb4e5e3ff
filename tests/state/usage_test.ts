/**
 * The UsageStore contract, run against the SQLite and the memory
 * implementation alike (tests/state/backends.ts), and the day arithmetic.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { oldestUsageDay, utcDay } from "../../lib/state/rules.ts";
import { SqliteUsageStore } from "../../lib/state/sqlite_usage.ts";
import { Store } from "../../lib/store.ts";
import { contract } from "./backends.ts";

const DAY = 86_400_000;

Deno.test("utcDay is the UTC date of a timestamp", () => {
  strictEqual(utcDay(Date.UTC(2026, 10, 21, 23, 59)), "2026-11-21");
  strictEqual(utcDay(Date.UTC(2026, 10, 22, 0, 0)), "2026-11-22");
});

Deno.test("oldestUsageDay keeps 400 days: always this month and the twelve before it whole", () => {
  strictEqual(oldestUsageDay(Date.UTC(2026, 10, 22, 12)), "2025-10-18");
  // The longest reach: the last day of a 31-day month after a leap year.
  ok(oldestUsageDay(Date.UTC(2025, 0, 31, 23)) <= "2024-01-01");
});

contract(
  "UsageStore",
  "counts per user, model and day, in and out, and survives reopening",
  (t) => {
    const day1 = Date.UTC(2026, 10, 21, 12);
    const usage = t.usage();
    usage.add("@a:t", "m1", { input: 60, output: 5 }, day1);
    usage.add("@a:t", "m1", { input: 40, output: 5 }, day1 + 3600_000);
    usage.add("@a:t", "m2", { input: 1, output: 2 }, day1);
    usage.add("@b:t", "m1", { input: 7, output: 0 }, day1 + DAY);
    const again = t.reopen().usage();
    deepStrictEqual(again.sum({ from: "2026-11-21", to: "2026-11-21" }), [
      { user: "@a:t", model: "m1", input: 100, output: 10 },
      { user: "@a:t", model: "m2", input: 1, output: 2 },
    ]);
    deepStrictEqual(again.sum({ from: "2026-11-01", to: "2026-11-30", user: "@b:t" }), [
      { user: "@b:t", model: "m1", input: 7, output: 0 },
    ]);
    deepStrictEqual(again.sum({ from: "2026-11-23", to: "2026-11-30" }), [], "no day in range");
  },
);

contract("UsageStore", "rounds tokens and ignores counts of zero or less", (t) => {
  const usage = t.usage();
  usage.add("@a:t", "m", { input: 10.4, output: 0.6 }, 0);
  usage.add("@a:t", "m", { input: 0.6, output: -5 }, 0);
  usage.add("@a:t", "m", { input: 0, output: 0 }, 0);
  usage.add("@a:t", "n", { input: -1, output: 0.2 }, 0);
  deepStrictEqual(usage.sum({ from: "1970-01-01", to: "1970-01-01" }), [
    { user: "@a:t", model: "m", input: 11, output: 1 },
  ]);
});

contract("UsageStore", "sums a month across its UTC days, the boundaries included", (t) => {
  const usage = t.usage();
  usage.add("@a:t", "m", { input: 1, output: 0 }, Date.UTC(2026, 10, 30, 23, 59, 59));
  usage.add("@a:t", "m", { input: 10, output: 0 }, Date.UTC(2026, 11, 1, 0, 0, 0));
  usage.add("@a:t", "m", { input: 100, output: 0 }, Date.UTC(2026, 11, 31, 23, 59, 59));
  usage.add("@a:t", "m", { input: 1000, output: 0 }, Date.UTC(2027, 0, 1, 0, 0, 0));
  deepStrictEqual(usage.sum({ from: "2026-12-01", to: "2026-12-31" }), [
    { user: "@a:t", model: "m", input: 110, output: 0 },
  ]);
});

contract("UsageStore", "forgets days older than 400 days when it counts", (t) => {
  const usage = t.usage();
  usage.add("@a:t", "m", { input: 5, output: 0 }, Date.UTC(2025, 9, 17, 12));
  usage.add("@b:t", "m", { input: 7, output: 0 }, Date.UTC(2025, 9, 18, 12));
  usage.add("@c:t", "m", { input: 1, output: 0 }, Date.UTC(2026, 10, 22, 12));
  deepStrictEqual(usage.sum({ from: "2000-01-01", to: "2030-01-01" }).map((r) => r.user), [
    "@b:t",
    "@c:t",
  ]);
});

Deno.test("a state.db of the previous version keeps its daily totals, under no model, as input", () => {
  const dir = Deno.makeTempDirSync({ prefix: "infinigpt-usage-migration-" });
  try {
    const db = new DatabaseSync(`${dir}/state.db`);
    db.exec(`CREATE TABLE usage (
       user TEXT NOT NULL, day TEXT NOT NULL, tokens INTEGER NOT NULL,
       PRIMARY KEY (user, day)) WITHOUT ROWID;
     INSERT INTO usage VALUES ('@a:t', '2026-11-20', 120), ('@b:t', '2026-11-21', 7);
     PRAGMA user_version = 3;`);
    db.close();
    using store = {
      s: Store.open(dir),
      [Symbol.dispose]() {
        this.s.close();
      },
    };
    deepStrictEqual(
      new SqliteUsageStore(store.s.db).sum({ from: "2026-11-01", to: "2026-11-30" }),
      [
        { user: "@a:t", model: "", input: 120, output: 0 },
        { user: "@b:t", model: "", input: 7, output: 0 },
      ],
    );
    deepStrictEqual(
      store.s.db.prepare("SELECT name FROM sqlite_master WHERE name = 'usage'").all(),
      [],
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
