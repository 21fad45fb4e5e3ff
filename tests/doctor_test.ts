import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { placeholderErrors } from "../lib/check_config.ts";
import { EXAMPLE_CONFIG } from "../lib/assets.ts";
import { validateConfig } from "../lib/config.ts";
import {
  type Check,
  type CheckResult,
  exitCodeOf,
  formatReport,
  type Reported,
  runChains,
  runCheck,
} from "../lib/doctor.ts";
import { doctorChecks } from "../lib/doctor_checks.ts";
import { providerChecks } from "../lib/doctor_providers.ts";
import { FakeOpenAI } from "./fixtures/fake_openai.ts";
import { testConfig } from "./fixtures/harness.ts";

const check = (name: string, run: (signal: AbortSignal) => Promise<CheckResult>): Check => ({
  name,
  run,
});
const pass = (detail = "fine"): Promise<CheckResult> => Promise.resolve({ ok: true, detail });

Deno.test("a check that throws is a ✗ with the error's message", async () => {
  const r = await runCheck(check("x", () => Promise.reject(new Error("boom"))));
  deepStrictEqual(r, { name: "x", ok: false, detail: "boom" });
});

Deno.test("a check that never answers is a ✗ after its time, and is told to stop", async () => {
  let aborted = false;
  const r = await runCheck(
    check("slow", (signal) =>
      new Promise((resolve) => {
        signal.addEventListener("abort", () => {
          aborted = true;
          resolve({ ok: true, detail: "too late" });
        });
      })),
    20,
  );
  strictEqual(r.ok, false);
  strictEqual(r.detail, "no answer within 0.02 s");
  ok(aborted);
});

Deno.test("chains run at once; within a chain a ✗ skips the steps after it", async () => {
  // Chain A waits for chain B: it would never finish if chains ran one after another.
  let release!: () => void;
  const released = new Promise<void>((r) => release = r);
  const results = await runChains([
    [
      check("a1", async () => {
        await released;
        return { ok: false, detail: "a1 failed", hint: "fix a1" };
      }),
      check("a2", () => pass()),
    ],
    [check("b1", () => {
      release();
      return pass("b1 ok");
    })],
  ], 5_000);
  deepStrictEqual(results.map((r) => [r.name, r.ok, r.detail]), [
    ["a1", false, "a1 failed"],
    ["a2", false, "skipped: an earlier step failed"],
    ["b1", true, "b1 ok"],
  ]);
});

Deno.test("the report: ✓ and ✗ lines in order, a hint under each ✗, the count, the exit code", () => {
  const table: [Reported[], string, number][] = [
    [
      [{ name: "a", ok: true, detail: "fine", hint: "not shown" }],
      "✓ a: fine\nAll 1 checks passed.",
      0,
    ],
    [
      [
        { name: "a", ok: true, detail: "fine" },
        { name: "b", ok: false, detail: "broken", hint: "fix b" },
        { name: "c", ok: false, detail: "also broken" },
      ],
      "✓ a: fine\n✗ b: broken\n    hint: fix b\n✗ c: also broken\n2 of 3 checks failed.",
      1,
    ],
  ];
  for (const [results, text, code] of table) {
    strictEqual(formatReport(results), text);
    strictEqual(exitCodeOf(results), code);
  }
});

/** The provider check of `provider` in a config whose providers all point at `url`. */
async function providerCheck(
  url: string,
  provider: string,
  overrides: Record<string, unknown> = {},
  env: Record<string, string> = {},
): Promise<Reported> {
  const config = testConfig(url, overrides);
  const found = providerChecks({ config, env }).find((c) => c.name === `provider ${provider}`)!;
  return await runCheck(found, 5_000);
}

Deno.test("provider checks: the model list with the key, every configured model offered", async (t) => {
  const models = ["gpt-4.1-nano", "gpt-5-mini"];
  await using fake = FakeOpenAI.start({ models, apiKey: "sk-test-openai-key" });
  await t.step("right key, models listed: ✓ naming the key's source, no completion", async () => {
    const r = await providerCheck(fake.url, "openai");
    deepStrictEqual(
      [r.ok, r.detail],
      [true, "key accepted (llm.api_keys.openai); all 2 configured models offered"],
    );
    strictEqual(fake.chats.length, 0);
  });
  await t.step("a key from the environment wins and is named, never shown", async () => {
    const r = await providerCheck(fake.url, "openai", {}, { OPENAI_API_KEY: "sk-wrong-env" });
    strictEqual(r.ok, false);
    ok(r.detail.includes("rejected the API key (HTTP 401, key from env OPENAI_API_KEY)"), r.detail);
    strictEqual(r.hint, "set OPENAI_API_KEY or llm.api_keys.openai");
    ok(!JSON.stringify(r).includes("sk-wrong-env"));
  });
  await t.step("a configured model the provider does not offer: ✗ naming it", async () => {
    const r = await providerCheck(fake.url, "openai", {
      llm: { models: { openai: ["gpt-4.1-nano", "gpt-4.1-nana"] } },
    });
    strictEqual(r.ok, false);
    ok(r.detail.endsWith("does not offer gpt-4.1-nana (2 models listed)"), r.detail);
    strictEqual(r.hint, "check the names in llm.models.openai");
  });
});

Deno.test("provider checks: without a model list, one completion of one token", async () => {
  await using fake = FakeOpenAI.start({ models: null });
  const r = await providerCheck(fake.url, "ollama");
  deepStrictEqual([r.ok, r.detail], [
    true,
    "no model list; a one-token completion with qwen3:8b works",
  ]);
  strictEqual(fake.chats.length, 1);
  strictEqual(fake.chats[0].body.max_tokens, 1);
  strictEqual(fake.chats[0].body.model, "qwen3:8b");
});

Deno.test("provider checks: unreachable, and no key at all (asked nothing)", async () => {
  const fake = FakeOpenAI.start();
  const url = fake.url;
  await fake.close();
  const down = await providerCheck(url, "ollama");
  strictEqual(down.ok, false);
  ok(
    /^cannot reach http:\/\/127\.0\.0\.1:\d+\/v1: connection refused/.test(down.detail),
    down.detail,
  );
  strictEqual(down.hint, "check llm.base_urls.ollama and that the server runs");
  const config = testConfig(url, { llm: { models: { anthropic: ["claude-x"] } } });
  const [anthropic] = providerChecks({ config, env: {} }).filter((c) =>
    c.name.includes("anthropic")
  );
  const r = await runCheck(anthropic);
  deepStrictEqual([r.ok, r.detail, r.hint], [
    false,
    "no API key",
    "set ANTHROPIC_API_KEY or llm.api_keys.anthropic",
  ]);
});

Deno.test("placeholders: the starter config's are named, secrets never shown; an edited one has none", () => {
  const starter = validateConfig(JSON.parse(EXAMPLE_CONFIG)).config;
  const errors = placeholderErrors(starter);
  deepStrictEqual(errors.map((e) => e.slice(2).split(":")[0]), [
    "matrix.server",
    "matrix.username",
    "matrix.password",
    "matrix.channels[0]",
    "matrix.admins[0]",
  ]);
  ok(!errors.join("\n").includes("change-me"));
  const edited = validateConfig(
    JSON.parse(EXAMPLE_CONFIG.replaceAll("example.org", "matrix.test").replace("change-me", "pw")),
  ).config;
  deepStrictEqual(placeholderErrors(edited), []);
  const key = testConfig("http://127.0.0.1:1", { llm: { api_keys: { openai: "change-me" } } });
  deepStrictEqual(placeholderErrors(key), [
    "- llm.api_keys.openai: is the starter config's placeholder; replace it with a real value",
  ]);
});

Deno.test("doctor: a missing MCP program and the placeholders are ✗, named, within the check's time", async () => {
  const config = testConfig("http://127.0.0.1:1", {
    llm: { mcp_servers: { files: { command: "no-such-program-for-doctor" } } },
    matrix: { server: "https://matrix.example.org" },
  });
  const chains = doctorChecks({ config, env: {} });
  const names = chains.flat().map((c) => c.name);
  ok(names.includes("mcp files") && names[0] === "config", names.join());
  const results = await runChains([
    chains.flat().filter((c) => c.name === "config" || c.name === "mcp files"),
  ]);
  strictEqual(results[0].ok, false);
  ok(results[0].detail.includes("matrix.server"), results[0].detail);
  // The config chain here also holds the MCP check: it is skipped after the ✗.
  strictEqual(results[1].detail, "skipped: an earlier step failed");
  const [mcp] = await runChains([chains.flat().filter((c) => c.name === "mcp files")]);
  strictEqual(mcp.ok, false);
  ok(mcp.detail.startsWith("cannot connect: "), mcp.detail);
});
