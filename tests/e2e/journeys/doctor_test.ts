/**
 * Journey: the operator checks a config online with `infinigpt doctor`
 * (decision 46), run as `deno task start doctor` runs it (the launcher's
 * permissions), against the real Synapse, the fake providers and a real
 * stdio MCP server. Before the first start it tries the password on a
 * device it logs out again; after the first start it checks the saved
 * session without making a device; with one provider's key wrong and one
 * MCP server broken it exits 1 and names both.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { FakeOpenAI } from "../../fixtures/fake_openai.ts";
import { botArgs, ROOT, setupBot, SYNAPSE_URL } from "../helpers.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const STORE_KEY = "ab".repeat(32);

/** Runs `doctor` on the config the way `deno task start doctor` does. */
async function doctor(
  configPath: string,
  env: Record<string, string> = { INFINIGPT_STORE_KEY: STORE_KEY },
): Promise<{ code: number; out: string; ms: number }> {
  const started = performance.now();
  const output = await new Deno.Command(Deno.execPath(), {
    args: await botArgs(configPath, env, ["doctor"]),
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  return { code: output.code, out, ms: Math.round(performance.now() - started) };
}

/** The bot account's devices (`id name`), seen with its saved session. */
async function devices(storePath: string): Promise<string[]> {
  const session = JSON.parse(await Deno.readTextFile(join(storePath, "session.json")));
  const response = await fetch(`${SYNAPSE_URL}/_matrix/client/v3/devices`, {
    headers: { authorization: `Bearer ${session.access_token}` },
  });
  const body = await response.json();
  return body.devices.map((d: { device_id: string; display_name?: string }) =>
    `${d.device_id} ${d.display_name ?? ""}`
  ).sort();
}

/** The ✓/✗ line of a check. */
function line(out: string, name: string): string {
  return out.split("\n").find((l) => l.slice(2).startsWith(`${name}:`)) ?? `(no line for ${name})`;
}

Deno.test({
  name:
    "doctor: before the first start all ✓ (the password tried on a device logged out again), after it all ✓ on the saved session with no new device, and with a wrong provider key and a broken MCP server exit 1 naming both",
  ...opts,
  async fn() {
    const started = performance.now();
    const models = ["gpt-4.1-nano", "gpt-5-mini", "gemini-2.5-flash", "qwen3:8b", "llama3.2:3b"];
    await using fake = FakeOpenAI.start({ models: [...models, "qwen/qwen3-8b"] });
    // Google's stand-in checks its key.
    await using google = FakeOpenAI.start({ models, apiKey: "test-google-key" });
    const setup = await setupBot({
      providerUrl: fake.url,
      config: {
        llm: {
          base_urls: {
            openai: fake.url,
            google: google.url,
            ollama: fake.url,
            lmstudio: fake.url,
          },
          mcp_servers: {
            tools: {
              command: "deno",
              args: ["run", "-A", join(ROOT, "tests/fixtures/mcp_test_server.ts")],
            },
          },
        },
      },
    });
    try {
      const first = await doctor(setup.configPath);
      strictEqual(first.code, 0, first.out);
      for (
        const name of [
          "config",
          "homeserver",
          "matrix account",
          "store",
          "provider openai",
          "provider google",
          "provider ollama",
          "provider lmstudio",
          "mcp tools",
        ]
      ) ok(line(first.out, name).startsWith("✓"), `${name}:\n${first.out}`);
      ok(/password login as @.* works/.test(line(first.out, "matrix account")), first.out);
      ok(first.out.includes("All 9 checks passed."), first.out);
      // No model was asked for anything: the lists answered.
      strictEqual(fake.chats.length + google.chats.length, 0);

      const bot = await setup.start({ INFINIGPT_STORE_KEY: STORE_KEY });
      try {
        await bot.ready();
      } finally {
        strictEqual((await bot.stop()).code, 0);
      }
      const before = await devices(setup.storePath);
      ok(before.every((d) => !d.includes("doctor")), `the doctor's device is gone: ${before}`);

      const second = await doctor(setup.configPath);
      strictEqual(second.code, 0, second.out);
      ok(/the saved session \(device \w+\) of @.* is valid/.test(second.out), second.out);
      ok(line(second.out, "store").includes("the store key opens crypto.db"), second.out);
      deepStrictEqual(await devices(setup.storePath), before, "no new device");

      const wrongKey = await doctor(setup.configPath, { INFINIGPT_STORE_KEY: "cd".repeat(32) });
      strictEqual(wrongKey.code, 1, wrongKey.out);
      ok(
        line(wrongKey.out, "store").startsWith("✗ store: the store key does not open"),
        wrongKey.out,
      );

      await setup.reconfigure({
        llm: {
          api_keys: { openai: "sk-test-openai-key", google: "not-the-google-key" },
          base_urls: { openai: fake.url, google: google.url, ollama: fake.url, lmstudio: fake.url },
          mcp_servers: {
            tools: {
              command: "deno",
              args: ["run", "-A", join(ROOT, "tests/fixtures/mcp_test_server.ts")],
            },
            broken: {
              command: "deno",
              args: ["run", "-A", join(ROOT, "tests/fixtures/no_such_server.ts")],
            },
          },
        },
      });
      const third = await doctor(setup.configPath);
      strictEqual(third.code, 1, third.out);
      ok(line(third.out, "provider google").startsWith("✗"), third.out);
      ok(line(third.out, "provider google").includes("rejected the API key (HTTP 401"), third.out);
      ok(line(third.out, "mcp broken").startsWith("✗"), third.out);
      ok(line(third.out, "provider openai").startsWith("✓"), third.out);
      ok(line(third.out, "mcp tools").startsWith("✓"), third.out);
      ok(third.out.includes("2 of 10 checks failed."), third.out);
      for (const out of [first.out, second.out, wrongKey.out, third.out]) {
        ok(!out.includes(setup.password) && !out.includes("not-the-google-key"), out);
        ok(!out.includes(STORE_KEY) && !out.includes("cd".repeat(32)), out);
      }
      console.log(
        `doctor journey: ${
          Math.round(performance.now() - started)
        } ms (doctor runs ${first.ms}, ${second.ms}, ${wrongKey.ms}, ${third.ms} ms)\n--- good ---\n${second.out}--- wrong store key ---\n${wrongKey.out}--- broken ---\n${third.out}`,
      );
    } finally {
      await setup.remove();
    }
  },
});
