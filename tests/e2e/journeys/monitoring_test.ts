/**
 * Journey: the operator points a monitor at the bot (decision 45). With
 * `metrics.listen` and `logging.format: "json"`, the real bot process, the
 * real Synapse and a matrix-js-sdk user chatting in a plain and an
 * encrypted room: `/healthz` says ok once the bot syncs, every scrape of
 * `/metrics` taken while the bot answers parses line by line, and the
 * counts follow what the user did (answers, a provider failure, tokens);
 * every log line is one JSON object and none holds a secret.
 */
import { ok, strictEqual } from "node:assert/strict";
import { FakeOpenAI } from "../../fixtures/fake_openai.ts";
import { type ParsedFamily, parseExposition } from "../../fixtures/prom_parse.ts";
import { setupBot, TestClient } from "../helpers.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

/** The value of the first sample of `name` whose labels include `labels`. */
function valueOf(
  families: Map<string, ParsedFamily>,
  name: string,
  labels: Record<string, string> = {},
  sample = name,
): number | undefined {
  return families.get(name)?.samples.find((s) =>
    s.name === sample && Object.entries(labels).every(([k, v]) => s.labels[k] === v)
  )?.value;
}

Deno.test({
  name:
    "monitoring: the operator scrapes /healthz and /metrics while a matrix-js-sdk user chats in a plain and an encrypted room — healthy once synced, every line parses, answers, a provider failure and tokens are counted, and the JSON log holds no secret",
  ...opts,
  async fn() {
    const started = performance.now();
    await using fake = FakeOpenAI.start();
    const failing = "this question meets a broken provider";
    fake.setHandler((request) =>
      request.messages.at(-1)?.content === failing
        ? { kind: "error", status: 500, message: "upstream exploded" }
        : undefined
    );
    const alice = await TestClient.create("alice");
    const setup = await setupBot({
      providerUrl: fake.url,
      admins: [alice.userId],
      // Port 0: the system picks a free one, and the log line names it.
      config: { metrics: { listen: "127.0.0.1:0" }, logging: { format: "json" } },
    });
    const bot = await setup.start();
    let scraping = true;
    const scrapes: string[] = [];
    try {
      const line = await bot.waitForLog(/Metrics on http:\/\/127\.0\.0\.1:\d+\/metrics/);
      const base = `http://127.0.0.1:${/127\.0\.0\.1:(\d+)/.exec(line)![1]}`;
      await bot.waitForLog(/"message":"Ready in \d+ ms/, 120_000);
      const health = await fetch(`${base}/healthz`);
      strictEqual(health.status, 200);
      strictEqual(await health.text(), "ok\n");
      const notFound = await fetch(`${base}/other`);
      strictEqual(notFound.status, 404);
      await notFound.body?.cancel();

      // Scrapes all along, while the bot answers.
      const scraper = (async () => {
        while (scraping) {
          const response = await fetch(`${base}/metrics`);
          strictEqual(
            response.headers.get("content-type"),
            "text/plain; version=0.0.4; charset=utf-8",
          );
          scrapes.push(await response.text());
          await new Promise((r) => setTimeout(r, 100));
        }
      })();
      const rooms = await Promise.all([true, false].map(async (encrypted) => {
        const id = await alice.createRoom({ encrypted, invite: [setup.userId] });
        await alice.waitForJoin(id, setup.userId);
        return id;
      }));
      await Promise.all(rooms.map(async (room, i) => {
        await alice.send(room, `.ai hello from room ${i}`);
        await alice.waitForMessage(
          room,
          setup.userId,
          (t) => t.endsWith(`Echo: hello from room ${i}`),
          60_000,
        );
      }));
      await alice.send(rooms[1], `.ai ${failing}`);
      await alice.waitForMessage(
        rooms[1],
        setup.userId,
        (t) => t.startsWith("Something went wrong (the model provider had an internal error"),
        60_000,
      );
      scraping = false;
      await scraper;

      for (const text of scrapes) parseExposition(text);
      const last = parseExposition(await (await fetch(`${base}/metrics`)).text());
      ok(scrapes.length >= 3, `scraped ${scrapes.length} times while answering`);
      ok(valueOf(last, "infinigpt_messages_received_total")! >= 3);
      ok(valueOf(last, "infinigpt_answers_total")! >= 2);
      strictEqual(valueOf(last, "infinigpt_failures_total", { reason: "server_error" }), 1);
      strictEqual(
        valueOf(last, "infinigpt_provider_errors_total", {
          provider: "openai",
          model: "gpt-4.1-nano",
          kind: "server_error",
        }),
        1,
      );
      strictEqual(
        valueOf(
          last,
          "infinigpt_provider_request_duration_seconds",
          { provider: "openai", outcome: "ok", le: "+Inf" },
          "infinigpt_provider_request_duration_seconds_bucket",
        ),
        2,
      );
      ok(valueOf(last, "infinigpt_tokens_total", { model: "gpt-4.1-nano", direction: "in" })! > 0);
      ok(valueOf(last, "infinigpt_tokens_total", { model: "gpt-4.1-nano", direction: "out" })! > 0);
      ok(valueOf(last, "infinigpt_last_sync_age_seconds")! < 60);
      ok(valueOf(last, "infinigpt_process_memory_bytes", { kind: "rss" })! > 10_000_000);
    } finally {
      scraping = false;
      const status = await bot.stop();
      alice.stop();
      await setup.remove();
      strictEqual(status.code, 0, bot.log.slice(-10).join("\n"));
    }
    for (const line of bot.log.filter((l) => l.trim())) {
      let record: { level?: string; message?: string };
      try {
        record = JSON.parse(line);
      } catch {
        throw new Error(`not a JSON log line: ${line}`);
      }
      ok(record.level && typeof record.message === "string", line);
      ok(!line.includes(setup.password) && !line.includes("sk-test-openai-key"), line);
    }
    console.log(`monitoring journey: ${Math.round(performance.now() - started)} ms`);
  },
});
