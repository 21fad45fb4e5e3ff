import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import { escapeHelp, escapeLabelValue, formatValue, MetricsRegistry } from "../lib/metrics.ts";
import { BotMetrics, healthOf, METRIC_NAMES, SYNC_STALE_MS } from "../lib/bot_metrics.ts";
import { parseExposition } from "./fixtures/prom_parse.ts";
import { failureKind } from "../lib/pipeline/boundary.ts";
import { parseListen, respond } from "../lib/metrics_server.ts";
import { LlmError } from "../lib/llm.ts";
import { ProviderError } from "../lib/provider_errors.ts";

Deno.test("label values escape backslash, double quote and line feed, nothing else", () => {
  const table: [string, string][] = [
    ["plain", "plain"],
    ['say "hi"', 'say \\"hi\\"'],
    ["C:\\dir", "C:\\\\dir"],
    ["two\nlines", "two\\nlines"],
    ["tab\tand ü and {}", "tab\tand ü and {}"],
    ['\\"\n', '\\\\\\"\\n'],
  ];
  for (const [input, want] of table) strictEqual(escapeLabelValue(input), want, input);
});

Deno.test("help text escapes backslash and line feed but keeps quotes", () => {
  strictEqual(escapeHelp('a "b" \\ c\nd'), 'a "b" \\\\ c\\nd');
});

Deno.test("values: infinities and NaN in the format's spelling", () => {
  deepStrictEqual([1, 0.5, Infinity, -Infinity, NaN].map(formatValue), [
    "1",
    "0.5",
    "+Inf",
    "-Inf",
    "NaN",
  ]);
});

Deno.test("a counter renders HELP, TYPE and one line per label set, and never goes down", () => {
  const r = new MetricsRegistry();
  const c = r.counter("x_total", "Things.", ["kind"]);
  c.inc({ kind: "a" });
  c.inc({ kind: "a" }, 2);
  c.inc({ kind: 'b"\n' });
  c.inc({ kind: "a" }, -5);
  strictEqual(
    r.render(),
    '# HELP x_total Things.\n# TYPE x_total counter\nx_total{kind="a"} 3\nx_total{kind="b\\"\\n"} 1\n',
  );
  strictEqual(c.get({ kind: "a" }), 3);
  strictEqual(c.get({ kind: "never" }), 0);
  strictEqual(r.render().includes("never"), false, "reading a series does not create it");
});

Deno.test("a histogram's buckets are cumulative, end in +Inf, with sum and count", () => {
  const r = new MetricsRegistry();
  const h = r.histogram("t_seconds", "Time.", ["p"], [1, 0.5, 2]);
  for (const v of [0.1, 0.5, 0.7, 3, 2]) h.observe({ p: "a" }, v);
  const family = parseExposition(r.render()).get("t_seconds")!;
  strictEqual(family.type, "histogram");
  deepStrictEqual(
    family.samples.map((s) => [s.name, s.labels.le ?? "", s.value]),
    [
      ["t_seconds_bucket", "0.5", 2],
      ["t_seconds_bucket", "1", 3],
      ["t_seconds_bucket", "2", 4],
      ["t_seconds_bucket", "+Inf", 5],
      ["t_seconds_sum", "", 6.3],
      ["t_seconds_count", "", 5],
    ],
  );
  strictEqual(family.samples[0].labels.p, "a");
});

Deno.test("a gauge's collector sets its series at each scrape; a failing one leaves it empty", () => {
  const r = new MetricsRegistry();
  let n = 1;
  r.gauge("g", "G.", ["s"], (g) => {
    g.reset();
    g.set({ s: "x" }, n);
  });
  r.gauge("broken", "B.", [], () => {
    throw new Error("no");
  });
  strictEqual(parseExposition(r.render()).get("g")!.samples[0].value, 1);
  n = 7;
  const families = parseExposition(r.render());
  strictEqual(families.get("g")!.samples[0].value, 7);
  deepStrictEqual(families.get("broken")!.samples, []);
  strictEqual(families.get("broken")!.type, "gauge");
});

Deno.test("bad names, unknown labels, le as a label and a second registration are refused", () => {
  const r = new MetricsRegistry();
  throws(() => r.counter("1bad", "x"));
  throws(() => r.counter("ok", "x", ["bad-label"]));
  throws(() => r.histogram("h", "x", ["le"]));
  const c = r.counter("ok_total", "x", ["a"]);
  throws(() => c.inc({ b: "1" }));
  throws(() => r.counter("ok_total", "x"));
});

Deno.test("the bot's metrics parse line by line and carry every family of decision 45", () => {
  const m = new BotMetrics({ now: () => 100_000 });
  m.message();
  m.answered();
  m.failed("timeout");
  m.providerRequest({ provider: "openai", model: "gpt-x", seconds: 1.2 });
  m.providerRequest({ provider: "openai", model: "gpt-x", seconds: 30, errorKind: "timeout" });
  m.tokens("gpt-x", 10, 5);
  m.toolCall("get_weather", "ok");
  m.refused("daily_tokens");
  m.watchMcp(() => [{ name: "everything", up: true }, { name: 'odd "name"', up: false }]);
  m.watchSync(() => ({ lastSyncAt: 90_000 }));
  const families = parseExposition(m.registry.render());
  for (const name of Object.values(METRIC_NAMES)) {
    const family = families.get(name);
    strictEqual(!!family?.help, true, `${name} has HELP`);
    strictEqual(family!.samples.length > 0, true, `${name} has samples`);
  }
  const value = (name: string, labels: Record<string, string> = {}) =>
    families.get(name)!.samples.find((s) =>
      Object.entries(labels).every(([k, v]) => s.labels[k] === v)
    )?.value;
  strictEqual(value(METRIC_NAMES.syncAge), 10);
  strictEqual(value(METRIC_NAMES.mcpUp, { server: 'odd "name"' }), 0);
  strictEqual(value(METRIC_NAMES.tokens, { direction: "in" }), 10);
  strictEqual(value(METRIC_NAMES.tokens, { direction: "out" }), 5);
  strictEqual(value(METRIC_NAMES.providerErrors, { kind: "timeout" }), 1);
  strictEqual(value(METRIC_NAMES.failures, { reason: "timeout" }), 1);
  strictEqual(value(METRIC_NAMES.refusals, { limit: "daily_tokens" }), 1);
  strictEqual(value(METRIC_NAMES.memory, { kind: "rss" })! > 0, true);
});

Deno.test("health: ok while the last sync is recent, otherwise the reason", () => {
  const now = 1_000_000;
  const table: [Parameters<typeof healthOf>[0], boolean, RegExp][] = [
    [undefined, false, /not started/],
    [{}, false, /no sync has succeeded yet/],
    [{ lastError: "connection refused" }, false, /yet: connection refused/],
    [{ lastSyncAt: now - 1000 }, true, /^ok$/],
    [{ lastSyncAt: now - SYNC_STALE_MS }, true, /^ok$/],
    [
      { lastSyncAt: now - SYNC_STALE_MS - 1000, lastError: "HTTP 502" },
      false,
      /61 s ago: HTTP 502/,
    ],
  ];
  for (const [status, ok, reason] of table) {
    const verdict = healthOf(status, now);
    strictEqual(verdict.ok, ok, JSON.stringify(status));
    strictEqual(reason.test(verdict.reason), true, verdict.reason);
  }
});

Deno.test("the test parser rejects what Prometheus would reject", () => {
  for (
    const bad of [
      "x 1\n",
      '# TYPE x counter\nx{a="1" 1\n',
      '# TYPE x counter\nx{a="\\t"} 1\n',
      "# TYPE x counter\nx one\n",
      "# TYPE x counter\nx 1",
      "# TYPE x nonsense\n",
    ]
  ) throws(() => parseExposition(bad), bad);
});

Deno.test("a failure's reason for the metrics: the provider's kind, an empty answer, or internal", () => {
  const table: [unknown, string][] = [
    [
      new LlmError("the model provider rejected the API key", {
        cause: new ProviderError("auth", "HTTP 401"),
      }),
      "auth",
    ],
    [new ProviderError("server_error", "HTTP 502", 502), "server_error"],
    [new LlmError("the model returned an empty answer"), "empty_answer"],
    [new LlmError("the request was cancelled"), "aborted"],
    [new TypeError("x is undefined"), "internal"],
    ["a string", "internal"],
  ];
  for (const [error, reason] of table) strictEqual(failureKind(error), reason, String(error));
});

Deno.test("metrics.listen: host:port, IPv6 in brackets, an empty host is every interface", () => {
  const table: [string, ReturnType<typeof parseListen>][] = [
    ["127.0.0.1:9464", { hostname: "127.0.0.1", port: 9464 }],
    [":9464", { hostname: "0.0.0.0", port: 9464 }],
    ["[::1]:9464", { hostname: "::1", port: 9464 }],
    ["localhost:0", { hostname: "localhost", port: 0 }],
    ["127.0.0.1", undefined],
    ["127.0.0.1:99999", undefined],
    ["http://127.0.0.1:9464", undefined],
  ];
  for (const [listen, want] of table) deepStrictEqual(parseListen(listen), want, listen);
});

Deno.test("the endpoint answers /healthz with the verdict, /metrics with the text, nothing else", () => {
  const m = new BotMetrics({ now: () => 200_000 });
  m.watchSync(() => ({ lastSyncAt: 100_000, lastError: "connection refused (hs:443)" }));
  const health = respond("GET", "/healthz", m);
  deepStrictEqual(
    [health.status, health.body],
    [503, "last successful sync 100 s ago: connection refused (hs:443)\n"],
  );
  m.watchSync(() => ({ lastSyncAt: 199_000 }));
  deepStrictEqual([respond("GET", "/healthz", m).status, respond("GET", "/healthz", m).body], [
    200,
    "ok\n",
  ]);
  const scrape = respond("GET", "/metrics", m);
  strictEqual(scrape.type, "text/plain; version=0.0.4; charset=utf-8");
  parseExposition(scrape.body);
  strictEqual(respond("GET", "/", m).status, 404);
  strictEqual(respond("POST", "/metrics", m).status, 405);
});
