import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { providerWarnings, redactUrl, summarizeConfig } from "../lib/check_config.ts";
import { type Config, validateConfig } from "../lib/config.ts";
import type { Env } from "../lib/env.ts";

function config(llm: Record<string, unknown>, matrix: Record<string, unknown> = {}): Config {
  const models = (llm.models ?? {}) as Record<string, string[]>;
  const first = Object.values(models).flat()[0] ?? "gpt-4o";
  return validateConfig({
    llm: { default_model: first, ...llm },
    matrix: {
      server: "https://matrix.test",
      username: "@bot:matrix.test",
      password: "pw-123456",
      ...matrix,
    },
  }).config;
}

// ---------------------------------------------------------------------------
// redactUrl

const URLS: Array<[string, string]> = [
  ["https://user:pa55word@host.test/v1", "https://host.test/v1"],
  ["https://onlyuser@host.test/v1", "https://host.test/v1"],
  ["https://host.test/v1?api_key=SECRET&x=1", "https://host.test/v1?…"],
  ["https://u:p@host.test:8443/mcp?token=SECRET#part", "https://host.test:8443/mcp?…#part"],
  ["http://localhost:11434/v1", "http://localhost:11434/v1"],
  ["http://127.0.0.1:9000/mcp", "http://127.0.0.1:9000/mcp"],
  ["https://matrix.example.org", "https://matrix.example.org/"],
  ["localhost:11434 not a url", "localhost:11434 not a url"],
];

for (const [input, expected] of URLS) {
  Deno.test(`redactUrl turns ${input} into ${expected}`, () => {
    strictEqual(redactUrl(input), expected);
  });
}

// ---------------------------------------------------------------------------
// providerWarnings

const WARNINGS: Array<
  { name: string; llm: Record<string, unknown>; env: Env; warnings: string[] }
> = [
  {
    name: "warns for OpenAI models without a key, naming the env variable",
    llm: { models: { openai: ["gpt-4o"] } },
    env: {},
    warnings: ['No API key for provider "openai" (set OPENAI_API_KEY or llm.api_keys.openai)'],
  },
  {
    name: "names both env variables of Google",
    llm: { models: { google: ["gemini-2.5-flash"] } },
    env: {},
    warnings: [
      'No API key for provider "google" (set GOOGLE_API_KEY or GEMINI_API_KEY or llm.api_keys.google)',
    ],
  },
  {
    name: "names both env variables of Qwen",
    llm: { models: { qwen: ["qwen-plus"] } },
    env: {},
    warnings: [
      'No API key for provider "qwen" (set QWEN_API_KEY or DASHSCOPE_API_KEY or llm.api_keys.qwen)',
    ],
  },
  {
    name: "is quiet when the key is in the environment",
    llm: { models: { openai: ["gpt-4o"] } },
    env: { OPENAI_API_KEY: "sk-env" },
    warnings: [],
  },
  {
    name: "is quiet when the key is in llm.api_keys",
    llm: { models: { xai: ["grok-4"] }, api_keys: { xai: "xai-key" } },
    env: {},
    warnings: [],
  },
  {
    name: "accepts GEMINI_API_KEY for Google",
    llm: { models: { google: ["gemini-2.5-flash"] } },
    env: { GEMINI_API_KEY: "g" },
    warnings: [],
  },
  {
    name: "counts an empty key in llm.api_keys as missing",
    llm: { models: { mistral: ["mistral-small-latest"] }, api_keys: { mistral: "" } },
    env: {},
    warnings: [
      'No API key for provider "mistral" (set MISTRAL_API_KEY or llm.api_keys.mistral)',
    ],
  },
  {
    name: "ignores providers with an empty model list",
    llm: { models: { openai: [], anthropic: [], ollama: ["qwen3:8b"] } },
    env: {},
    warnings: [],
  },
  {
    name: "never warns for ollama and lmstudio without keys",
    llm: { models: { ollama: ["qwen3:8b"], lmstudio: ["qwen/qwen3-8b"] } },
    env: {},
    warnings: [],
  },
  {
    name: "warns that an unknown provider without base URL is routed to OpenAI",
    llm: { models: { openrouter: ["meta/llama-4"] }, api_keys: { openai: "sk" } },
    env: {},
    warnings: [
      'Provider "openrouter" is not built in and has no llm.base_urls.openrouter; its models go to OpenAI with the OpenAI key',
    ],
  },
  {
    name: "does not warn for a custom provider that has a base_urls entry",
    llm: {
      models: { vllm: ["local-model"] },
      base_urls: { vllm: "http://127.0.0.1:8000/v1" },
    },
    env: {},
    warnings: [],
  },
  {
    name: "still warns for a built-in provider whose base URL is overridden but has no key",
    llm: {
      models: { qwen: ["qwen-plus"] },
      base_urls: { qwen: "https://dashscope-intl.aliyuncs.com/compatible-mode/v1" },
    },
    env: {},
    warnings: [
      'No API key for provider "qwen" (set QWEN_API_KEY or DASHSCOPE_API_KEY or llm.api_keys.qwen)',
    ],
  },
  {
    name: "lists one warning per provider in config order",
    llm: {
      models: { anthropic: ["claude-haiku-4-5"], deepseek: ["deepseek-chat"], ollama: ["x"] },
    },
    env: {},
    warnings: [
      'No API key for provider "anthropic" (set ANTHROPIC_API_KEY or llm.api_keys.anthropic)',
      'No API key for provider "deepseek" (set DEEPSEEK_API_KEY or llm.api_keys.deepseek)',
    ],
  },
];

for (const { name, llm, env, warnings } of WARNINGS) {
  Deno.test(`providerWarnings ${name}`, () => {
    deepStrictEqual(providerWarnings(config(llm), env), warnings);
  });
}

// ---------------------------------------------------------------------------
// summarizeConfig

const SECRETS = [
  "s3cret-pass-XYZ",
  "sk-live-SECRET123",
  "sk-env-SECRET456",
  "tok-SECRET789",
  "mcp-url-pass",
  "query-SECRET",
  "child-env-SECRET",
];

function secretConfig(): Config {
  return config(
    {
      models: { openai: ["gpt-4o"], xai: ["grok-4"], ollama: ["qwen3:8b"] },
      api_keys: { openai: "sk-live-SECRET123", xai: "sk-live-SECRET123" },
      mcp_servers: {
        remote: {
          url: "https://me:mcp-url-pass@mcp.test/mcp?key=query-SECRET",
          headers: { Authorization: "Bearer tok-SECRET789" },
        },
        local: { command: "npx", args: ["-y", "srv"], env: { TOKEN: "child-env-SECRET" } },
      },
    },
    { password: "s3cret-pass-XYZ", access_token: "tok-SECRET789" },
  );
}

Deno.test("summarizeConfig never prints a secret", () => {
  const text = summarizeConfig(secretConfig(), { OPENAI_API_KEY: "sk-env-SECRET456" }, "c.json");
  for (const secret of SECRETS) ok(!text.includes(secret), `${secret} leaked:\n${text}`);
  ok(text.includes("remote: http: https://mcp.test/mcp?…, headers Authorization"), text);
  ok(text.includes("local: stdio: npx (2 args, env TOKEN)"), text);
});

Deno.test("summarizeConfig says where each provider key comes from", () => {
  const text = summarizeConfig(secretConfig(), { OPENAI_API_KEY: "sk-env-SECRET456" }, "c.json");
  const lines = text.split("\n");
  ok(lines.includes("  openai: 1 model(s), https://api.openai.com/v1, key: env OPENAI_API_KEY"));
  ok(lines.includes("  xai: 1 model(s), https://api.x.ai/v1, key: llm.api_keys.xai"));
  ok(lines.includes("  ollama: 1 model(s), http://localhost:11434/v1, key: none needed"));
  strictEqual(lines[0], "Config OK: c.json");
  strictEqual(lines[1], "Default model: gpt-4o");
});

Deno.test("summarizeConfig describes the Matrix side", () => {
  const c = config({ models: { ollama: ["m"] } }, {
    server: "https://u:p@matrix.test",
    channels: ["#ai:matrix.test"],
    admins: ["@a:matrix.test"],
    e2e: false,
    device_id: "DEV123",
    store_path: "/srv/store",
    allowed_rooms: ["!r:matrix.test"],
    verification: { accept_from: "admins" },
  });
  const lines = summarizeConfig(c, {}, "c.json").split("\n");
  for (
    const line of [
      "Matrix: https://matrix.test/ as @bot:matrix.test (password set), E2EE off",
      "  device: DEV123",
      "  rooms to join: #ai:matrix.test",
      "  admins: @a:matrix.test",
      "  allowed rooms: !r:matrix.test",
      "  verification accepted from: admins",
      "Store: /srv/store",
      "MCP servers: (none)",
    ]
  ) ok(lines.includes(line), `missing ${JSON.stringify(line)} in\n${lines.join("\n")}`);
});

Deno.test("summarizeConfig says where the recovery key comes from, never the key", () => {
  const key = "EsTc 1234 5678 9abc defg hijk mnop qrst uvwx yzAB CDEF GHJK";
  const table: Array<[Record<string, unknown>, Env, string]> = [
    [{}, {}, "  recovery key: none configured (<store>/recovery-key.txt is used when present)"],
    [{ recovery_key: key }, {}, "  recovery key: set (matrix.recovery_key)"],
    [
      { recovery_key: key },
      { INFINIGPT_RECOVERY_KEY: key },
      "  recovery key: set (env INFINIGPT_RECOVERY_KEY)",
    ],
    [{ recovery_key_file: "/run/secrets/rk" }, {}, "  recovery key: from /run/secrets/rk"],
    [
      { recovery_key: key, recovery_reset: true },
      {},
      "  recovery key: set (matrix.recovery_key) (recovery_reset: true replaces secret storage it cannot open)",
    ],
  ];
  for (const [matrix, env, line] of table) {
    const text = summarizeConfig(config({ models: { ollama: ["m"] } }, matrix), env, "c.json");
    ok(text.split("\n").includes(line), `missing ${JSON.stringify(line)} in\n${text}`);
    ok(!text.includes(key) && !text.includes(key.replaceAll(" ", "")), text);
  }
});
