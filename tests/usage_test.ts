/**
 * Usage arithmetic (decision 43): UTC days and months, prices by glob,
 * costs and their rounding, the budget decision, and the ledger's hooks.
 */
import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { MemoryUsageStore } from "../lib/state/memory.ts";
import type { UsageRow } from "../lib/state/ports.ts";
import {
  budgetRefusal,
  costOf,
  costOfRows,
  formatCount,
  formatTokens,
  formatUsd,
  monthName,
  nextUtcDay,
  nextUtcMonth,
  priceOf,
  UsageLedger,
  utcMonthStart,
} from "../lib/usage.ts";

Deno.test("UTC day and month boundaries", () => {
  const table: Array<[at: number, monthStart: string, nextDay: number, nextMonth: number]> = [
    [
      Date.UTC(2026, 11, 31, 23, 59, 59, 999),
      "2026-12-01",
      Date.UTC(2027, 0, 1),
      Date.UTC(2027, 0, 1),
    ],
    [Date.UTC(2027, 0, 1), "2027-01-01", Date.UTC(2027, 0, 2), Date.UTC(2027, 1, 1)],
    [Date.UTC(2028, 1, 29, 12), "2028-02-01", Date.UTC(2028, 2, 1), Date.UTC(2028, 2, 1)],
    [
      Date.UTC(2026, 10, 30, 0, 0, 0, 1),
      "2026-11-01",
      Date.UTC(2026, 11, 1),
      Date.UTC(2026, 11, 1),
    ],
  ];
  for (const [at, start, day, month] of table) {
    const label = new Date(at).toISOString();
    strictEqual(utcMonthStart(at), start, label);
    strictEqual(nextUtcDay(at), day, label);
    strictEqual(nextUtcMonth(at), month, label);
  }
  strictEqual(monthName(Date.UTC(2026, 11, 31, 23, 59)), "December 2026");
  strictEqual(monthName(Date.UTC(2027, 0, 1)), "January 2027");
});

const PRICES = {
  "gpt-4.1-nano": { input: 0.1, output: 0.4 },
  "gpt-4.1*": { input: 2, output: 8 },
  "GPT-5?": { input: 1.25, output: 10 },
  "*": { input: 0, output: 0 },
};

Deno.test("a price: the exact entry, else the first glob that matches, case-insensitive", () => {
  const table: Array<[model: string, expected: { input: number; output: number } | undefined]> = [
    ["gpt-4.1-nano", PRICES["gpt-4.1-nano"]],
    ["gpt-4.1-mini", PRICES["gpt-4.1*"]],
    ["gpt-51", PRICES["GPT-5?"]],
    ["gpt-5-mini", PRICES["*"]],
    ["qwen3:8b", PRICES["*"]],
    ["", undefined],
  ];
  for (const [model, expected] of table) deepStrictEqual(priceOf(model, PRICES), expected, model);
  strictEqual(priceOf("gpt-4o", { "gpt-4.1*": PRICES["gpt-4.1*"] }), undefined);
  strictEqual(priceOf("a.b", { "a?b": { input: 1, output: 1 }, "a.c": PRICES["*"] })?.input, 1);
});

Deno.test("a cost is tokens times USD per million, in and out apart", () => {
  strictEqual(costOf({ input: 1_000_000, output: 0 }, { input: 2, output: 8 }), 2);
  strictEqual(costOf({ input: 1234, output: 567 }, { input: 2.5, output: 10 }), 0.008755);
  strictEqual(costOf({ input: 0, output: 0 }, { input: 2.5, output: 10 }), 0);
  const rows: UsageRow[] = [
    { user: "@a", model: "gpt-4.1-nano", input: 1_000_000, output: 1_000_000 },
    { user: "@a", model: "unpriced", input: 5, output: 5 },
  ];
  strictEqual(costOfRows(rows, { "gpt-4.1-nano": PRICES["gpt-4.1-nano"] }), 0.5);
  strictEqual(costOfRows(rows.slice(1), { "gpt-4.1-nano": PRICES["gpt-4.1-nano"] }), undefined);
});

Deno.test("costs are written with four decimals below a dollar, cents above, half up", () => {
  const table: Array<[usd: number, text: string]> = [
    [0, "$0.0000"],
    [0.00004, "<$0.0001"],
    [0.00005, "$0.0001"],
    [0.0123, "$0.0123"],
    [0.008755, "$0.0088"],
    [0.00125, "$0.0013"],
    [0.99995, "$1.00"],
    [1, "$1.00"],
    [1.005, "$1.01"],
    [1234.5678, "$1,234.57"],
  ];
  for (const [usd, text] of table) strictEqual(formatUsd(usd), text, String(usd));
});

Deno.test("token counts are written with thousands separators", () => {
  strictEqual(formatCount(0), "0");
  strictEqual(formatCount(1234567), "1,234,567");
  strictEqual(formatTokens({ input: 1234, output: 567 }), "1,234 in / 567 out tokens");
});

Deno.test("the budget: daily tokens first (in and out), then this month's USD", () => {
  const now = Date.UTC(2026, 11, 31, 22);
  const row = (input: number, output: number, model = "gpt-4.1-nano"): UsageRow => ({
    user: "@a",
    model,
    input,
    output,
  });
  const limits = { dailyTokens: 100, monthlyUsd: 1, prices: PRICES };
  const table: Array<[today: UsageRow[], month: UsageRow[], expected: string]> = [
    [[], [], "none"],
    [[row(60, 39)], [row(60, 39)], "none"],
    [[row(60, 40)], [row(60, 40)], "daily_tokens until 2027-01-01T00:00:00.000Z"],
    [[], [row(2_000_000, 2_000_000)], "monthly_usd until 2027-01-01T00:00:00.000Z"],
    [[], [row(2_000_000, 1_999_999)], "none"],
    [[], [row(9_000_000, 9_000_000, "free")], "none"],
  ];
  const free = { ...limits, prices: { ...PRICES, free: { input: 0, output: 0 } } };
  for (const [today, month, expected] of table) {
    const r = budgetRefusal({ today, month }, free, now);
    strictEqual(r ? `${r.limit} until ${new Date(r.renewsAt).toISOString()}` : "none", expected);
  }
  strictEqual(
    budgetRefusal({ today: [row(1e9, 0)], month: [row(1e9, 1e9)] }, {
      dailyTokens: 0,
      monthlyUsd: 0,
      prices: PRICES,
    }, now),
    undefined,
    "0 is no budget",
  );
});

Deno.test("the ledger counts today and this month in UTC, and tells its observer", () => {
  const events: string[] = [];
  const ledger = new UsageLedger({
    store: new MemoryUsageStore(),
    limits: { dailyTokens: 10, monthlyUsd: 0, prices: {} },
    observer: {
      counted: (e) => events.push(`counted ${e.user} ${e.model} ${e.input}/${e.output}`),
      refused: (e) => events.push(`refused ${e.user} ${e.limit}`),
    },
  });
  const lastOfMonth = Date.UTC(2026, 10, 30, 23, 30);
  const firstOfNext = Date.UTC(2026, 11, 1, 0, 30);
  ledger.record("@a", "m", { input: 8, output: 2 }, lastOfMonth);
  strictEqual(ledger.refusal("@a", lastOfMonth)?.limit, "daily_tokens");
  strictEqual(ledger.refusal("@a", firstOfNext), undefined, "a new UTC day");
  ledger.record("@a", "m", { input: 1, output: 1 }, firstOfNext);
  deepStrictEqual(ledger.month("@a", firstOfNext), [{
    user: "@a",
    model: "m",
    input: 1,
    output: 1,
  }]);
  deepStrictEqual(ledger.month(undefined, lastOfMonth), [
    { user: "@a", model: "m", input: 8, output: 2 },
  ]);
  deepStrictEqual(ledger.today("@a", firstOfNext), [{
    user: "@a",
    model: "m",
    input: 1,
    output: 1,
  }]);
  deepStrictEqual(events, ["counted @a m 8/2", "refused @a daily_tokens", "counted @a m 1/1"]);
});
