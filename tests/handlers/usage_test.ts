/**
 * `.usage` and `.usage all` through the in-memory port, and the budgets
 * they report, with the fake model answering with known token counts.
 */
import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { withBot } from "../fixtures/harness.ts";
import { allReport, ownReport } from "../../lib/handlers/usage.ts";
import { monthName, UsageLedger } from "../../lib/usage.ts";
import { MemoryUsageStore } from "../../lib/state/memory.ts";

const ALICE = "@alice:test";
const BOB = "@bob:test";
const ADMIN = "@admin:test";
const names = { [ALICE]: "Alice", [BOB]: "Bob", [ADMIN]: "Admin" };
const PRICES = { "gpt-4.1*": { input: 2, output: 8 } };
const usage = (prompt_tokens: number, completion_tokens: number) => ({
  content: "ok",
  usage: { prompt_tokens, completion_tokens },
});

Deno.test(".usage with nothing used says so for today and this month", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(ALICE, ".usage");
  deepStrictEqual(bot.port.visible(), [
    [
      "**Usage for Alice** (UTC)",
      "**Today**",
      "- no usage",
      `**This month** (${monthName(Date.now())})`,
      "- no usage",
    ].join("\n"),
  ]);
});

Deno.test(".usage shows the sender's tokens per model today and this month, with the cost of priced models", async () => {
  await using bot = await withBot({ port: { names }, config: { llm: { prices: PRICES } } });
  bot.fake.enqueue(usage(1200, 34), usage(34, 533), usage(1000, 1000), usage(5, 5));
  await bot.say(ALICE, ".ai one");
  await bot.say(ALICE, ".ai two");
  await bot.say(ALICE, ".mymodel gemini-2.5-flash");
  await bot.say(ALICE, ".ai three");
  await bot.say(BOB, ".ai not Alice's");
  bot.port.clear();
  await bot.say(ALICE, ".usage");
  const today = [
    "**Today**: 2,234 in / 1,567 out tokens, $0.0070",
    "- gemini-2.5-flash: 1,000 in / 1,000 out tokens",
    "- gpt-4.1-nano: 1,234 in / 567 out tokens, $0.0070",
  ];
  deepStrictEqual(bot.port.visible(), [
    [
      "**Usage for Alice** (UTC)",
      ...today,
      `**This month** (${monthName(Date.now())}): 2,234 in / 1,567 out tokens, $0.0070`,
      ...today.slice(1),
    ].join("\n"),
  ]);
});

Deno.test(".usage shows the budgets and how much of them is used", async () => {
  await using bot = await withBot({
    port: { names },
    config: { llm: { prices: PRICES, budget: { daily_tokens: 10_000, monthly_usd: 5 } } },
  });
  bot.fake.enqueue(usage(1000, 500));
  await bot.say(ALICE, ".ai one");
  bot.port.clear();
  await bot.say(ALICE, ".usage");
  const lines = bot.port.visible()[0].split("\n");
  deepStrictEqual(lines.slice(-2), [
    "**Daily budget**: 1,500 of 10,000 tokens used",
    "**Monthly budget**: $0.0060 of $5.00 used",
  ]);
});

Deno.test(".usage all gives admins this month per user and per model", async () => {
  await using bot = await withBot({ port: { names }, config: { llm: { prices: PRICES } } });
  bot.fake.enqueue(usage(100, 10), usage(200, 20), usage(300, 30));
  await bot.say(ALICE, ".ai one");
  await bot.say(ALICE, ".mymodel gemini-2.5-flash");
  await bot.say(ALICE, ".ai two");
  await bot.say(BOB, ".ai three");
  bot.port.clear();
  await bot.say(ADMIN, ".usage all");
  deepStrictEqual(bot.port.visible(), [
    [
      `**Usage this month** (${monthName(Date.now())}, UTC)`,
      "**Per user**",
      "- Alice (@alice:test): 300 in / 30 out tokens, $0.0003",
      "  - gemini-2.5-flash: 200 in / 20 out tokens",
      "  - gpt-4.1-nano: 100 in / 10 out tokens, $0.0003",
      "- Bob (@bob:test): 300 in / 30 out tokens, $0.0008",
      "**Per model**",
      "- gemini-2.5-flash: 200 in / 20 out tokens",
      "- gpt-4.1-nano: 400 in / 40 out tokens, $0.0011",
      "**Total**: 600 in / 60 out tokens, $0.0011",
    ].join("\n"),
  ]);
});

Deno.test(".usage all from someone who is not an admin is ignored", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(ALICE, ".usage all");
  deepStrictEqual(bot.port.visible(), []);
});

Deno.test(".usage with another word replies how to use it", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(ALICE, ".usage everyone");
  deepStrictEqual(bot.port.visible(), ["Usage: .usage [all]"]);
});

Deno.test("usage survives a restart: it is kept in state.db", async () => {
  const dir = await Deno.makeTempDir({ prefix: "infinigpt-usage-" });
  try {
    {
      await using bot = await withBot({ port: { names }, dir });
      bot.fake.enqueue(usage(7, 3));
      await bot.say(ALICE, ".ai one");
    }
    await using bot = await withBot({ port: { names }, dir });
    await bot.say(ALICE, ".usage");
    strictEqual(bot.port.visible()[0].split("\n")[1], "**Today**: 7 in / 3 out tokens");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the daily budget refuses once used up; llm.rate_limit.daily_tokens is the same budget", async () => {
  for (const llm of [{ budget: { daily_tokens: 100 } }, { rate_limit: { daily_tokens: 100 } }]) {
    await using bot = await withBot({ port: { names }, config: { llm } });
    bot.fake.enqueue(usage(80, 20));
    await bot.say(ALICE, ".ai one");
    await bot.say(ALICE, ".ai two");
    strictEqual(bot.fake.chats.length, 1, JSON.stringify(llm));
    strictEqual(
      bot.port.visible().at(-1),
      "Sorry Alice, you have used today's budget of 100 tokens. It renews at midnight UTC.",
    );
  }
});

Deno.test("the monthly USD budget refuses once this month's cost reaches it; admins are exempt", async () => {
  await using bot = await withBot({
    port: { names },
    config: { llm: { prices: PRICES, budget: { monthly_usd: 0.01 } } },
  });
  bot.fake.enqueue(usage(1000, 1000), usage(1000, 1000), usage(1000, 1000));
  await bot.say(ALICE, ".ai one");
  await bot.say(ALICE, ".ai two");
  const next = new Date(Date.now());
  const renews = new Date(Date.UTC(next.getUTCFullYear(), next.getUTCMonth() + 1, 1))
    .toLocaleDateString("en-US", { month: "long", day: "numeric", timeZone: "UTC" });
  strictEqual(
    bot.port.visible().at(-1),
    `Sorry Alice, you have used this month's budget of $0.0100. It renews on ${renews} at midnight UTC.`,
  );
  await bot.say(ADMIN, ".ai admins have no budget");
  await bot.say(ADMIN, ".ai still none");
  strictEqual(bot.fake.chats.length, 3);
});

Deno.test("counts kept before models were recorded show as an earlier model, without a cost", () => {
  const ledger = new UsageLedger({
    store: new MemoryUsageStore(),
    limits: { dailyTokens: 0, monthlyUsd: 0, prices: { "*": { input: 1, output: 1 } } },
  });
  const now = Date.UTC(2026, 11, 4);
  const rows = [{ user: ALICE, model: "", input: 120, output: 0 }];
  const own = ownReport(ledger, "Alice", { today: [], month: rows }, now).split("\n");
  deepStrictEqual(own.slice(3), [
    "**This month** (December 2026): 120 in / 0 out tokens",
    "- earlier (model not recorded): 120 in / 0 out tokens",
  ]);
  const all = allReport(ledger, rows, new Map([[ALICE, ALICE]]), now).split("\n");
  strictEqual(all[2], "- @alice:test: 120 in / 0 out tokens");
});
