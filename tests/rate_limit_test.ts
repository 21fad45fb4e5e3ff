import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { RateLimiter } from "../lib/rate_limit.ts";
import { FakeOpenAI } from "./fixtures/fake_openai.ts";
import { startTestBot, withBot } from "./fixtures/harness.ts";

Deno.test("RateLimiter allows N requests per window, then says how long to wait", () => {
  const limiter = new RateLimiter(2, 60_000);
  strictEqual(limiter.take("@a:t", 1_000), 0);
  strictEqual(limiter.take("@a:t", 2_000), 0);
  strictEqual(limiter.take("@a:t", 3_000), 58_000);
  strictEqual(limiter.take("@b:t", 3_000), 0, "another user has their own window");
  strictEqual(limiter.take("@a:t", 61_001), 0, "the oldest request left the window");
});

Deno.test("RateLimiter with 0 per minute never limits", () => {
  const limiter = new RateLimiter(0);
  for (let i = 0; i < 100; i++) strictEqual(limiter.take("@a:t"), 0);
});

Deno.test("RateLimiter.prune forgets users without recent requests", () => {
  const limiter = new RateLimiter(1, 1000);
  limiter.take("@a:t", 0);
  limiter.take("@b:t", 4500);
  limiter.prune(5000);
  strictEqual(limiter.size, 1);
  strictEqual(limiter.take("@a:t", 5001), 0);
});

Deno.test("RateLimiter forgets idle users by itself as new users arrive", () => {
  const limiter = new RateLimiter(5, 1000);
  for (let i = 0; i < 10_000; i++) limiter.take(`@u${i}:t`, i * 10);
  // Only users of the last window (100 at one request per 10 ms) are needed;
  // pruning when the map doubles keeps it within a small factor of that.
  ok(limiter.size <= 2 * 256, `the map holds ${limiter.size} users`);
  ok(limiter.size >= 100, "users of the current window are kept");
});

Deno.test("RateLimiter's own pruning keeps the limits of users still in their window", () => {
  const limiter = new RateLimiter(1, 60_000);
  strictEqual(limiter.take("@busy:t", 0), 0);
  for (let i = 0; i < 1000; i++) limiter.take(`@u${i}:t`, 1 + i);
  ok(limiter.take("@busy:t", 2000) > 0, "the busy user is still limited");
});

Deno.test("RateLimiter with 0 per minute remembers nobody", () => {
  const limiter = new RateLimiter(0);
  for (let i = 0; i < 1000; i++) limiter.take(`@u${i}:t`);
  strictEqual(limiter.size, 0);
});

Deno.test("a user over llm.rate_limit.requests_per_minute gets a polite refusal and no model call", async () => {
  await using bot = await withBot({
    config: { llm: { rate_limit: { requests_per_minute: 2 } } },
    port: { names: { "@u:test": "Uma" } },
  });
  await bot.say("@u:test", ".ai one");
  await bot.say("@u:test", ".ai two");
  await bot.say("@u:test", ".ai three");
  strictEqual(bot.fake.chats.length, 2);
  const last = bot.port.visible().at(-1)!;
  ok(last.startsWith("Slow down, Uma: at most 2 requests per minute. Try again in "), last);
  // The refused message is not kept (decision 30).
  deepStrictEqual(
    bot.history.get("!room:test", "@u:test").map((m) => m.content).slice(1),
    ["one", "Echo: one", "two", "Echo: two"],
  );
  await bot.say("@u:test", ".help");
  ok(
    bot.port.visible().at(-1)!.includes("InfiniGPT"),
    "commands without the model are not limited",
  );
});

Deno.test("admins are exempt from the rate limit", async () => {
  await using bot = await withBot({ config: { llm: { rate_limit: { requests_per_minute: 1 } } } });
  await bot.say("@admin:test", ".ai one");
  await bot.say("@admin:test", ".ai two");
  strictEqual(bot.fake.chats.length, 2);
});

Deno.test("a user past the daily token budget is refused until the next UTC day", async () => {
  await using fake = FakeOpenAI.start();
  fake.enqueue({ content: "long answer", usage: { prompt_tokens: 80, completion_tokens: 30 } });
  await using bot = await startTestBot({
    providerUrl: fake.url,
    config: { llm: { rate_limit: { daily_tokens: 100 } } },
    port: { names: { "@u:test": "Uma" } },
  });
  await bot.say("@u:test", ".ai first");
  await bot.say("@u:test", ".ai second");
  strictEqual(fake.chats.length, 1);
  strictEqual(
    bot.port.visible().at(-1),
    "Sorry Uma, you have used today's budget of 100 tokens. It renews at midnight UTC.",
  );
  // The refused message is not kept (decision 30).
  deepStrictEqual(
    bot.history.get("!room:test", "@u:test").map((m) => m.content).slice(1),
    ["first", "long answer"],
  );
});
