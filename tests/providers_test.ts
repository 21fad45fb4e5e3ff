import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { type Config, DEFAULT_OMIT_OPTIONS, validateConfig } from "../lib/config.ts";
import type { Env } from "../lib/env.ts";
import {
  globMatch,
  MAX_RETRY_WAIT_MS,
  omitsOptions,
  providerOf,
  Providers,
  type ProvidersOptions,
  requestOptions,
  routeProvider,
  type ToolDefinition,
} from "../lib/providers.ts";
import { type FailureKind, ProviderError } from "../lib/provider_errors.ts";
import { FakeOpenAI, type FakeReply } from "./fixtures/fake_openai.ts";
import { testConfig } from "./fixtures/harness.ts";

// ---------------------------------------------------------------------------
// Helpers

/** A validated config with only the given `llm` keys (plus the required ones). */
function config(llm: Record<string, unknown>): Config {
  const models = (llm.models ?? { openai: ["gpt-4.1-nano"] }) as Record<string, string[]>;
  const first = Object.values(models).flat()[0];
  return validateConfig({
    llm: { default_model: first, ...llm, models },
    matrix: { server: "http://127.0.0.1:8008", username: "@bot:test", password: "pw-123456" },
  }).config;
}

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  try {
    await promise;
  } catch (error) {
    ok(error instanceof ProviderError, `expected a ProviderError, got ${error}`);
    return error;
  }
  throw new Error("expected the call to fail");
}

function providers(
  fake: FakeOpenAI,
  overrides: Record<string, unknown> = {},
  options: Partial<ProvidersOptions> = {},
): Providers {
  return new Providers({
    config: testConfig(fake.url, overrides),
    env: {},
    retryBaseMs: 1,
    ...options,
  });
}

const hello = [{ role: "user" as const, content: "hello" }];

const CALC_TOOL: ToolDefinition = {
  type: "function",
  function: {
    name: "calculate_expression",
    description: "Evaluates arithmetic",
    parameters: {
      type: "object",
      properties: { expression: { type: "string" } },
      required: ["expression"],
    },
  },
};

// ---------------------------------------------------------------------------
// providerOf

const ROUTING_ORDER = [
  "openai",
  "xai",
  "google",
  "mistral",
  "anthropic",
  "deepseek",
  "qwen",
  "ollama",
  "lmstudio",
];

// Model `m<i>` is listed by provider i and every provider after it in routing
// order; the config lists providers in reverse order, custom ones first, so
// neither config order nor "last list wins" can pass by accident.
function routingModels(): Record<string, string[]> {
  const models: Record<string, string[]> = {
    openrouter: ["shared-custom", "only-openrouter", "m0"],
    groq: ["shared-custom", "only-groq", "m8"],
  };
  for (const name of [...ROUTING_ORDER].reverse()) {
    const i = ROUTING_ORDER.indexOf(name);
    models[name] = ROUTING_ORDER.slice(0, i + 1).map((_, j) => `m${j}`);
  }
  return models;
}

const routingConfig = config({ models: routingModels() });

for (const [i, provider] of ROUTING_ORDER.entries()) {
  Deno.test(`providerOf routes a model listed from ${provider} onwards to ${provider}`, () => {
    strictEqual(providerOf(`m${i}`, routingConfig), provider);
  });
}

const PROVIDER_OF_CASES: Array<[string, string, string]> = [
  ["a model only a custom provider lists", "only-groq", "groq"],
  [
    "a model two custom providers list goes to the first in config order",
    "shared-custom",
    "openrouter",
  ],
  ["a model a custom and a built-in provider list goes to the built-in", "m0", "openai"],
  ["a model listed by lmstudio and a custom provider goes to lmstudio", "m8", "lmstudio"],
  ["an unknown model", "no-such-model", "openai"],
];
for (const [what, model, expected] of PROVIDER_OF_CASES) {
  Deno.test(`providerOf: ${what} → ${expected}`, () => {
    strictEqual(providerOf(model, routingConfig), expected);
  });
}

// ---------------------------------------------------------------------------
// routeProvider: base URLs

const BUILTIN_URLS: Array<[string, string]> = [
  ["openai", "https://api.openai.com/v1"],
  ["xai", "https://api.x.ai/v1"],
  ["google", "https://generativelanguage.googleapis.com/v1beta/openai"],
  ["mistral", "https://api.mistral.ai/v1"],
  ["anthropic", "https://api.anthropic.com/v1"],
  ["deepseek", "https://api.deepseek.com/v1"],
  ["qwen", "https://dashscope.aliyuncs.com/compatible-mode/v1"],
  ["ollama", "http://localhost:11434/v1"],
  ["lmstudio", "http://localhost:1234/v1"],
];
for (const [provider, url] of BUILTIN_URLS) {
  Deno.test(`routeProvider sends ${provider} to ${url} by default`, () => {
    const route = routeProvider(provider, config({}), {});
    strictEqual(route.provider, provider);
    strictEqual(route.baseURL, url);
    strictEqual(route.fallback, false);
  });
}

const LOCAL_URL_CASES: Array<[string, Record<string, string>, string, string]> = [
  ["ollama", { ollama_url: "gpu-box:11434" }, "http://gpu-box:11434/v1", "host:port"],
  ["lmstudio", { lmstudio_url: "127.0.0.1:4321" }, "http://127.0.0.1:4321/v1", "host:port"],
  [
    "ollama",
    { ollama_url: "https://ollama.example.org:8443" },
    "https://ollama.example.org:8443/v1",
    "a URL with scheme",
  ],
  [
    "lmstudio",
    { lmstudio_url: "http://lm.local:1234" },
    "http://lm.local:1234/v1",
    "a URL with scheme",
  ],
];
for (const [provider, llm, url, what] of LOCAL_URL_CASES) {
  Deno.test(`routeProvider builds the ${provider} URL from ${what}: ${url}`, () => {
    strictEqual(routeProvider(provider, config(llm), {}).baseURL, url);
  });
}

for (const provider of ["ollama", "lmstudio"]) {
  Deno.test(`routeProvider gives ${provider} the placeholder key hello_friend`, () => {
    const route = routeProvider(provider, config({}), { OPENAI_API_KEY: "sk-env" });
    strictEqual(route.apiKey, "hello_friend");
    strictEqual(route.fallback, false);
  });
}

Deno.test("routeProvider: llm.base_urls overrides a built-in provider's URL and keeps its key", () => {
  const route = routeProvider(
    "qwen",
    config({
      base_urls: { qwen: "https://dashscope-intl.aliyuncs.com/compatible-mode/v1" },
      api_keys: { qwen: "qwen-key" },
    }),
    {},
  );
  strictEqual(route.baseURL, "https://dashscope-intl.aliyuncs.com/compatible-mode/v1");
  strictEqual(route.apiKey, "qwen-key");
});

Deno.test("routeProvider: llm.base_urls overrides ollama_url for ollama", () => {
  const route = routeProvider(
    "ollama",
    config({ ollama_url: "gpu:11434", base_urls: { ollama: "http://proxy.local/ollama/v1" } }),
    {},
  );
  strictEqual(route.baseURL, "http://proxy.local/ollama/v1");
});

Deno.test("routeProvider: a custom provider with a base URL takes its key from <NAME>_API_KEY", () => {
  const route = routeProvider(
    "groq",
    config({
      base_urls: { groq: "https://api.groq.com/openai/v1" },
      api_keys: { groq: "from-config", openai: "sk-openai" },
    }),
    { GROQ_API_KEY: "from-env", OPENAI_API_KEY: "sk-openai-env" },
  );
  deepStrictEqual(route, {
    provider: "groq",
    baseURL: "https://api.groq.com/openai/v1",
    apiKey: "from-env",
    keySource: "env GROQ_API_KEY",
    fallback: false,
  });
});

Deno.test("routeProvider: a custom provider's env name replaces non-alphanumerics by _", () => {
  const route = routeProvider(
    "together-ai",
    config({ base_urls: { "together-ai": "https://api.together.xyz/v1" } }),
    { TOGETHER_AI_API_KEY: "tg-key" },
  );
  strictEqual(route.apiKey, "tg-key");
  strictEqual(route.keySource, "env TOGETHER_AI_API_KEY");
});

Deno.test("routeProvider: a custom provider also reads INFINIGPT_<NAME>_API_KEY (what release binaries may read)", () => {
  const cfg = config({
    base_urls: { groq: "https://api.groq.com/openai/v1" },
    api_keys: { groq: "from-config" },
  });
  const prefixed = routeProvider("groq", cfg, { INFINIGPT_GROQ_API_KEY: "prefixed" });
  strictEqual(prefixed.apiKey, "prefixed");
  strictEqual(prefixed.keySource, "env INFINIGPT_GROQ_API_KEY");
  const both = routeProvider("groq", cfg, { INFINIGPT_GROQ_API_KEY: "p", GROQ_API_KEY: "plain" });
  strictEqual(both.keySource, "env GROQ_API_KEY", "the plain name wins");
});

Deno.test("routeProvider: a custom provider with a base URL falls back to llm.api_keys.<name>", () => {
  const route = routeProvider(
    "openrouter",
    config({
      base_urls: { openrouter: "https://openrouter.ai/api/v1" },
      api_keys: { openrouter: "or-key", openai: "sk-openai" },
    }),
    { OPENAI_API_KEY: "sk-openai-env" },
  );
  strictEqual(route.baseURL, "https://openrouter.ai/api/v1");
  strictEqual(route.apiKey, "or-key");
  strictEqual(route.keySource, "llm.api_keys.openrouter");
  strictEqual(route.fallback, false);
});

Deno.test("routeProvider: a custom provider without a base URL falls back to OpenAI's URL and key", () => {
  const cfg = config({ api_keys: { openai: "sk-openai", mystery: "never-used" } });
  deepStrictEqual(routeProvider("mystery", cfg, {}), {
    provider: "mystery",
    baseURL: "https://api.openai.com/v1",
    apiKey: "sk-openai",
    keySource: "llm.api_keys.openai",
    fallback: true,
  });
  const fromEnv = routeProvider("mystery", cfg, { OPENAI_API_KEY: "sk-env", MYSTERY_API_KEY: "x" });
  strictEqual(fromEnv.apiKey, "sk-env");
  strictEqual(fromEnv.keySource, "env OPENAI_API_KEY");
});

// ---------------------------------------------------------------------------
// routeProvider: keys (decision 10)

type KeyCase = {
  what: string;
  provider: string;
  env: Env;
  apiKeys?: Record<string, string>;
  key: string;
  source: string;
};
const KEY_CASES: KeyCase[] = [
  {
    what: "OPENAI_API_KEY wins over api_keys.openai",
    provider: "openai",
    env: { OPENAI_API_KEY: "sk-env" },
    apiKeys: { openai: "sk-config" },
    key: "sk-env",
    source: "env OPENAI_API_KEY",
  },
  {
    what: "api_keys.openai is used without OPENAI_API_KEY",
    provider: "openai",
    env: {},
    apiKeys: { openai: "sk-config" },
    key: "sk-config",
    source: "llm.api_keys.openai",
  },
  {
    what: "an empty OPENAI_API_KEY counts as unset",
    provider: "openai",
    env: { OPENAI_API_KEY: "" },
    apiKeys: { openai: "sk-config" },
    key: "sk-config",
    source: "llm.api_keys.openai",
  },
  {
    what: "XAI_API_KEY wins over api_keys.xai",
    provider: "xai",
    env: { XAI_API_KEY: "xai-env" },
    apiKeys: { xai: "xai-config" },
    key: "xai-env",
    source: "env XAI_API_KEY",
  },
  {
    what: "GOOGLE_API_KEY wins over api_keys.google",
    provider: "google",
    env: { GOOGLE_API_KEY: "g-env" },
    apiKeys: { google: "g-config" },
    key: "g-env",
    source: "env GOOGLE_API_KEY",
  },
  {
    what: "GEMINI_API_KEY is accepted for google",
    provider: "google",
    env: { GEMINI_API_KEY: "gem-env" },
    apiKeys: { google: "g-config" },
    key: "gem-env",
    source: "env GEMINI_API_KEY",
  },
  {
    what: "GOOGLE_API_KEY is preferred to GEMINI_API_KEY",
    provider: "google",
    env: { GEMINI_API_KEY: "gem-env", GOOGLE_API_KEY: "g-env" },
    key: "g-env",
    source: "env GOOGLE_API_KEY",
  },
  {
    what: "MISTRAL_API_KEY wins over api_keys.mistral",
    provider: "mistral",
    env: { MISTRAL_API_KEY: "m-env" },
    apiKeys: { mistral: "m-config" },
    key: "m-env",
    source: "env MISTRAL_API_KEY",
  },
  {
    what: "ANTHROPIC_API_KEY wins over api_keys.anthropic",
    provider: "anthropic",
    env: { ANTHROPIC_API_KEY: "a-env" },
    apiKeys: { anthropic: "a-config" },
    key: "a-env",
    source: "env ANTHROPIC_API_KEY",
  },
  {
    what: "DEEPSEEK_API_KEY wins over api_keys.deepseek",
    provider: "deepseek",
    env: { DEEPSEEK_API_KEY: "d-env" },
    apiKeys: { deepseek: "d-config" },
    key: "d-env",
    source: "env DEEPSEEK_API_KEY",
  },
  {
    what: "QWEN_API_KEY wins over api_keys.qwen",
    provider: "qwen",
    env: { QWEN_API_KEY: "q-env" },
    apiKeys: { qwen: "q-config" },
    key: "q-env",
    source: "env QWEN_API_KEY",
  },
  {
    what: "DASHSCOPE_API_KEY is accepted for qwen",
    provider: "qwen",
    env: { DASHSCOPE_API_KEY: "ds-env" },
    apiKeys: { qwen: "q-config" },
    key: "ds-env",
    source: "env DASHSCOPE_API_KEY",
  },
  {
    what: "api_keys.qwen is used without env keys",
    provider: "qwen",
    env: {},
    apiKeys: { qwen: "q-config" },
    key: "q-config",
    source: "llm.api_keys.qwen",
  },
  {
    what: "another provider's env key is not used",
    provider: "mistral",
    env: { OPENAI_API_KEY: "sk-env" },
    key: "",
    source: "missing",
  },
  {
    what: "ollama needs no key",
    provider: "ollama",
    env: {},
    key: "hello_friend",
    source: "none needed",
  },
];
for (const c of KEY_CASES) {
  Deno.test(`routeProvider key: ${c.what}`, () => {
    const route = routeProvider(c.provider, config({ api_keys: c.apiKeys ?? {} }), c.env);
    strictEqual(route.apiKey, c.key);
    strictEqual(route.keySource, c.source);
  });
}

// ---------------------------------------------------------------------------
// globMatch

const GLOB_CASES: Array<[string, string, boolean]> = [
  ["gpt-5*", "gpt-5", true],
  ["gpt-5*", "gpt-5-mini", true],
  ["gpt-5*", "gpt-4.1", false],
  ["gpt-5*", "my-gpt-5", false],
  ["GPT-5*", "gpt-5-nano", true],
  ["o?-mini", "o3-mini", true],
  ["o?-mini", "o-mini", false],
  ["o?-mini", "o10-mini", false],
  ["gpt-4.1", "gpt-4.1", true],
  ["gpt-4.1", "gpt-4x1", false],
  ["a+b", "a+b", true],
  ["a+b", "aab", false],
  ["model(1)", "model(1)", true],
  ["[x]", "[x]", true],
  ["[x]", "x", false],
  ["qwen/*", "qwen/qwen3-8b", true],
  ["*", "anything:at-all", true],
  ["exact", "exactly", false],
];
for (const [pattern, text, expected] of GLOB_CASES) {
  Deno.test(`globMatch("${pattern}", "${text}") is ${expected}`, () => {
    strictEqual(globMatch(pattern, text), expected);
  });
}

// ---------------------------------------------------------------------------
// omitsOptions (decision 4)

Deno.test("the default omit_options list is the one of decision 4", () => {
  deepStrictEqual(
    [...DEFAULT_OMIT_OPTIONS],
    ["provider:google", "gpt-5*", "o1*", "o3*", "o4*", "grok-4*"],
  );
  deepStrictEqual(config({}).llm.omit_options, [...DEFAULT_OMIT_OPTIONS]);
});

const OMIT_CASES: Array<[string, string, boolean]> = [
  ["gemini-2.5-flash", "google", true],
  ["any-model-google-serves", "google", true],
  ["gpt-5", "openai", true],
  ["gpt-5-mini", "openai", true],
  ["o1", "openai", true],
  ["o3-mini", "openai", true],
  ["o4-mini", "openai", true],
  ["grok-4", "xai", true],
  ["grok-4-fast", "xai", true],
  ["gpt-4.1", "openai", false],
  ["gpt-4.1-nano", "openai", false],
  ["grok-3", "xai", false],
  ["mistral-large-latest", "mistral", false],
  ["qwen3:8b", "ollama", false],
];
for (const [model, provider, expected] of OMIT_CASES) {
  Deno.test(`omitsOptions: ${model} on ${provider} is ${expected ? "" : "not "}omitted`, () => {
    strictEqual(omitsOptions(model, provider, DEFAULT_OMIT_OPTIONS), expected);
  });
}

Deno.test("omitsOptions follows a configured list: provider: entries and globs, nothing else", () => {
  const patterns = ["provider:ollama", "llama*"];
  strictEqual(omitsOptions("qwen3:8b", "ollama", patterns), true);
  strictEqual(omitsOptions("llama3.2:3b", "lmstudio", patterns), true);
  strictEqual(omitsOptions("gemini-2.5-flash", "google", patterns), false);
  strictEqual(omitsOptions("gpt-5", "openai", []), false);
});

// ---------------------------------------------------------------------------
// requestOptions (decisions 4 and 27)

const ALL_OPTIONS = {
  temperature: 0.7,
  top_p: 0.9,
  seed: 7,
  reasoning_effort: "low",
  max_tokens: 500,
};
const optionsConfig = config({
  models: {
    openai: ["gpt-4.1-nano", "gpt-5-mini", "o3-mini"],
    xai: ["grok-4", "grok-3"],
    google: ["gemini-2.5-flash"],
  },
  options: ALL_OPTIONS,
});

const REQUEST_OPTION_CASES: Array<[string, string, Record<string, unknown>]> = [
  ["gpt-4.1-nano", "openai", ALL_OPTIONS],
  ["grok-3", "xai", ALL_OPTIONS],
  ["gpt-5-mini", "openai", { reasoning_effort: "low", max_completion_tokens: 500 }],
  ["o3-mini", "openai", { reasoning_effort: "low", max_completion_tokens: 500 }],
  ["grok-4", "xai", { reasoning_effort: "low", max_tokens: 500 }],
  ["gemini-2.5-flash", "google", { reasoning_effort: "low", max_tokens: 500 }],
];
for (const [model, provider, expected] of REQUEST_OPTION_CASES) {
  Deno.test(`requestOptions for ${model} (${provider}) are ${JSON.stringify(expected)}`, () => {
    deepStrictEqual(requestOptions(model, provider, optionsConfig), expected);
  });
}

Deno.test("requestOptions does not change llm.options while renaming max_tokens", () => {
  requestOptions("gpt-5-mini", "openai", optionsConfig);
  strictEqual(optionsConfig.llm.options.max_tokens, 500);
  ok(!("max_completion_tokens" in optionsConfig.llm.options));
});

Deno.test("requestOptions keeps a configured max_completion_tokens over max_tokens", () => {
  const cfg = config({ options: { max_tokens: 500, max_completion_tokens: 900 } });
  deepStrictEqual(requestOptions("gpt-5", "openai", cfg), { max_completion_tokens: 900 });
});

Deno.test("requestOptions sends everything when omit_options is empty", () => {
  const cfg = config({ options: { temperature: 0.2, max_tokens: 100 }, omit_options: [] });
  deepStrictEqual(requestOptions("gpt-5-mini", "openai", cfg), {
    temperature: 0.2,
    max_completion_tokens: 100,
  });
  deepStrictEqual(requestOptions("gemini-2.5-flash", "google", cfg), {
    temperature: 0.2,
    max_tokens: 100,
  });
});

Deno.test("requestOptions adds no max_completion_tokens when no max_tokens is configured", () => {
  const cfg = config({ options: { temperature: 0.2 } });
  deepStrictEqual(requestOptions("gpt-5", "openai", cfg), {});
});

// ---------------------------------------------------------------------------
// Providers.chat against the fake server

Deno.test("chat sends the routed key as the bearer token", async () => {
  await using fake = FakeOpenAI.start();
  const p = providers(fake);
  await p.chat({ model: "gpt-4.1-nano", messages: hello });
  await p.chat({ model: "gemini-2.5-flash", messages: hello });
  strictEqual(fake.chats[0].headers.get("authorization"), "Bearer sk-test-openai-key");
  strictEqual(fake.chats[1].headers.get("authorization"), "Bearer test-google-key");
});

Deno.test("chat prefers the env key over llm.api_keys in the request", async () => {
  await using fake = FakeOpenAI.start({ apiKey: "sk-from-env" });
  const p = providers(fake, {}, { env: { OPENAI_API_KEY: "sk-from-env" } });
  const completion = await p.chat({ model: "gpt-4.1-nano", messages: hello });
  strictEqual(completion.choices[0].message.content, "Echo: hello");
  strictEqual(fake.chats[0].headers.get("authorization"), "Bearer sk-from-env");
});

Deno.test("chat returns the completion with content and usage", async () => {
  await using fake = FakeOpenAI.start();
  fake.enqueue({ content: "Hi!", usage: { prompt_tokens: 11, completion_tokens: 2 } });
  const completion = await providers(fake).chat({ model: "gpt-4.1-nano", messages: hello });
  strictEqual(completion.choices[0].message.content, "Hi!");
  strictEqual(completion.usage?.prompt_tokens, 11);
  strictEqual(completion.usage?.completion_tokens, 2);
  strictEqual(fake.chats[0].path, "/v1/chat/completions");
  deepStrictEqual(fake.chats[0].messages, hello);
});

Deno.test("chat merges llm.options at the top level for gpt-4.1-nano", async () => {
  await using fake = FakeOpenAI.start();
  await providers(fake).chat({ model: "gpt-4.1-nano", messages: hello });
  const body = fake.chats[0].body;
  strictEqual(body.model, "gpt-4.1-nano");
  strictEqual(body.temperature, 0.7);
  strictEqual(body.top_p, 0.9);
  ok(!("options" in body));
  ok(!("stream" in body));
});

for (const model of ["gemini-2.5-flash", "gpt-5-mini"]) {
  Deno.test(`chat sends no llm.options for ${model}`, async () => {
    await using fake = FakeOpenAI.start();
    await providers(fake).chat({ model, messages: hello });
    const body = fake.chats[0].body;
    strictEqual(body.model, model);
    ok(!("temperature" in body), JSON.stringify(body));
    ok(!("top_p" in body), JSON.stringify(body));
  });
}

Deno.test("chat sends tools and tool_choice auto only when tools are given", async () => {
  await using fake = FakeOpenAI.start();
  const p = providers(fake);
  await p.chat({ model: "gpt-4.1-nano", messages: hello });
  await p.chat({ model: "gpt-4.1-nano", messages: hello, tools: [] });
  await p.chat({ model: "gpt-4.1-nano", messages: hello, tools: [CALC_TOOL] });
  await p.chat({ model: "gpt-4.1-nano", messages: hello, tools: [CALC_TOOL], toolChoice: "none" });
  for (const i of [0, 1]) {
    ok(!("tools" in fake.chats[i].body));
    ok(!("tool_choice" in fake.chats[i].body));
  }
  deepStrictEqual(fake.chats[2].body.tools, [CALC_TOOL]);
  strictEqual(fake.chats[2].body.tool_choice, "auto");
  strictEqual(fake.chats[3].body.tool_choice, "none");
});

Deno.test("chat retries a 429 with Retry-After: 0 and succeeds", async () => {
  await using fake = FakeOpenAI.start();
  fake.enqueue(
    { kind: "error", status: 429, headers: { "retry-after": "0" } },
    { content: "after the wait" },
  );
  const completion = await providers(fake).chat({ model: "gpt-4.1-nano", messages: hello });
  strictEqual(completion.choices[0].message.content, "after the wait");
  strictEqual(fake.chats.length, 2);
});

for (const status of [502, 503, 504]) {
  Deno.test(`chat retries HTTP ${status} and succeeds`, async () => {
    await using fake = FakeOpenAI.start();
    fake.enqueue({ kind: "error", status }, { content: "recovered" });
    const completion = await providers(fake).chat({ model: "gpt-4.1-nano", messages: hello });
    strictEqual(completion.choices[0].message.content, "recovered");
    strictEqual(fake.chats.length, 2);
  });
}

const EXHAUSTED: Array<[number, FailureKind]> = [[429, "rate_limited"], [503, "server_error"]];
for (const [status, kind] of EXHAUSTED) {
  Deno.test(`chat gives up on HTTP ${status} after 2 retries (3 requests) with ${kind}`, async () => {
    await using fake = FakeOpenAI.start();
    const error: FakeReply = { kind: "error", status, headers: { "retry-after": "0" } };
    fake.enqueue(error, error, error, { content: "too late" });
    const e = await failure(providers(fake).chat({ model: "gpt-4.1-nano", messages: hello }));
    strictEqual(e.kind, kind);
    strictEqual(e.status, status);
    strictEqual(fake.chats.length, 3);
  });
}

Deno.test("chat honours maxRetries from its options", async () => {
  await using fake = FakeOpenAI.start();
  const error: FakeReply = { kind: "error", status: 503 };
  fake.enqueue(error, error, { content: "too late" });
  const p = providers(fake, {}, { maxRetries: 1 });
  const e = await failure(p.chat({ model: "gpt-4.1-nano", messages: hello }));
  strictEqual(e.kind, "server_error");
  strictEqual(fake.chats.length, 2);
});

const NOT_RETRIED: Array<[number, FailureKind]> = [
  [500, "server_error"],
  [400, "bad_request"],
  [401, "auth"],
  [403, "auth"],
  [404, "not_found"],
  [413, "too_long"],
];
for (const [status, kind] of NOT_RETRIED) {
  Deno.test(`chat does not retry HTTP ${status} and classifies it as ${kind}`, async () => {
    await using fake = FakeOpenAI.start();
    fake.enqueue({ kind: "error", status }, { content: "should not be fetched" });
    const e = await failure(providers(fake).chat({ model: "gpt-4.1-nano", messages: hello }));
    strictEqual(e.kind, kind);
    strictEqual(e.status, status);
    strictEqual(fake.chats.length, 1);
  });
}

Deno.test("chat classifies a 400 about the context length as too_long", async () => {
  await using fake = FakeOpenAI.start();
  fake.enqueue({
    kind: "error",
    status: 400,
    message: "This model's maximum context length is 8192 tokens.",
    code: "context_length_exceeded",
  });
  const e = await failure(providers(fake).chat({ model: "gpt-4.1-nano", messages: hello }));
  strictEqual(e.kind, "too_long");
  strictEqual(fake.chats.length, 1);
});

Deno.test("chat does not wait for a Retry-After longer than MAX_RETRY_WAIT_MS", async () => {
  await using fake = FakeOpenAI.start();
  const seconds = String(Math.ceil(MAX_RETRY_WAIT_MS / 1000) + 40);
  fake.enqueue({ kind: "error", status: 429, headers: { "retry-after": seconds } }, {
    content: "should not be fetched",
  });
  const e = await failure(providers(fake).chat({ model: "gpt-4.1-nano", messages: hello }));
  strictEqual(e.kind, "rate_limited");
  strictEqual(fake.chats.length, 1);
});

Deno.test("chat retries once without options when a 400 names one, and skips them for that model afterwards", async () => {
  await using fake = FakeOpenAI.start();
  fake.enqueue({
    kind: "error",
    status: 400,
    message: "Unsupported parameter: 'temperature' is not supported with this model.",
    param: "temperature",
    code: "unsupported_parameter",
  });
  const p = providers(fake, {
    llm: { models: { openai: ["gpt-4.1-nano", "gpt-4o", "gpt-5-mini"] } },
  });
  const first = await p.chat({ model: "gpt-4.1-nano", messages: hello });
  strictEqual(first.choices[0].message.content, "Echo: hello");
  strictEqual(fake.chats.length, 2);
  strictEqual(fake.chats[0].body.temperature, 0.7);
  ok(!("temperature" in fake.chats[1].body));
  ok(!("top_p" in fake.chats[1].body));

  await p.chat({ model: "gpt-4.1-nano", messages: hello });
  strictEqual(fake.chats.length, 3);
  ok(!("temperature" in fake.chats[2].body));
  ok(!("top_p" in fake.chats[2].body));

  // Only that model loses its options.
  await p.chat({ model: "gpt-4o", messages: hello });
  strictEqual(fake.chats[3].body.temperature, 0.7);
});

Deno.test("chat retries without options only once", async () => {
  await using fake = FakeOpenAI.start();
  const rejected: FakeReply = {
    kind: "error",
    status: 400,
    message: "Unsupported parameter: 'top_p' is not supported with this model.",
  };
  fake.enqueue(rejected, rejected, { content: "should not be fetched" });
  const e = await failure(providers(fake).chat({ model: "gpt-4.1-nano", messages: hello }));
  strictEqual(e.kind, "bad_request");
  strictEqual(fake.chats.length, 2);
});

Deno.test("chat reports a refused connection as unreachable without retrying", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  let calls = 0;
  const counting: typeof fetch = (input, init) => {
    calls++;
    return fetch(input, init);
  };
  const p = new Providers({
    config: testConfig(`http://127.0.0.1:${port}/v1`),
    env: {},
    retryBaseMs: 1,
    fetch: counting,
  });
  const e = await failure(p.chat({ model: "gpt-4.1-nano", messages: hello }));
  strictEqual(e.kind, "unreachable");
  strictEqual(calls, 1);
});

Deno.test("chat retries a connection reset in the middle of the body", async () => {
  await using fake = FakeOpenAI.start();
  fake.enqueue({ kind: "reset" }, { content: "second try" });
  const completion = await providers(fake).chat({ model: "gpt-4.1-nano", messages: hello });
  strictEqual(completion.choices[0].message.content, "second try");
  strictEqual(fake.chats.length, 2);
});

Deno.test("chat reports repeated connection resets as unreachable after 2 retries", async () => {
  await using fake = FakeOpenAI.start();
  fake.enqueue({ kind: "reset" }, { kind: "reset" }, { kind: "reset" }, { content: "too late" });
  const e = await failure(providers(fake).chat({ model: "gpt-4.1-nano", messages: hello }));
  strictEqual(e.kind, "unreachable");
  strictEqual(fake.chats.length, 3);
});

Deno.test("chat reports a provider that never answers within llm.timeout as timeout", async () => {
  await using fake = FakeOpenAI.start();
  fake.enqueue({ kind: "hang" });
  const p = providers(fake, { llm: { timeout: 1 } });
  const e = await failure(p.chat({ model: "gpt-4.1-nano", messages: hello }));
  strictEqual(e.kind, "timeout");
  strictEqual(fake.chats.length, 1);
});

Deno.test("chat reports an aborted request as aborted without retrying", async () => {
  await using fake = FakeOpenAI.start();
  fake.enqueue({ kind: "hang" });
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 100);
  try {
    const e = await failure(
      providers(fake).chat({ model: "gpt-4.1-nano", messages: hello, signal: controller.signal }),
    );
    strictEqual(e.kind, "aborted");
    strictEqual(fake.chats.length, 1);
  } finally {
    clearTimeout(timer);
  }
});

const INVALID_BODIES: Array<[string, FakeReply]> = [
  ["a non-JSON body", { kind: "raw", body: "<html>Bad gateway</html>" }],
  ["an HTML page", { kind: "raw", body: "<html>hi</html>", contentType: "text/html" }],
  ["JSON without choices", { kind: "raw", body: JSON.stringify({ id: "x", object: "chat" }) }],
  [
    "JSON with empty choices",
    { kind: "raw", body: JSON.stringify({ id: "x", object: "chat.completion", choices: [] }) },
  ],
  [
    "a choice without message",
    { kind: "raw", body: JSON.stringify({ id: "x", choices: [{ index: 0 }] }) },
  ],
];
for (const [what, reply] of INVALID_BODIES) {
  Deno.test(`chat reports ${what} as invalid_response`, async () => {
    await using fake = FakeOpenAI.start();
    fake.enqueue(reply, { content: "should not be fetched" });
    const e = await failure(providers(fake).chat({ model: "gpt-4.1-nano", messages: hello }));
    strictEqual(e.kind, "invalid_response");
    strictEqual(fake.chats.length, 1);
  });
}

Deno.test("chat keeps at most llm.max_concurrency provider calls in flight", async () => {
  await using fake = FakeOpenAI.start({ latencyMs: 200 });
  const p = providers(fake, { llm: { max_concurrency: 2 } });
  const answers = await Promise.all(
    Array.from(
      { length: 6 },
      (_, i) => p.chat({ model: "gpt-4.1-nano", messages: [{ role: "user", content: `q${i}` }] }),
    ),
  );
  deepStrictEqual(
    answers.map((a) => a.choices[0].message.content),
    ["Echo: q0", "Echo: q1", "Echo: q2", "Echo: q3", "Echo: q4", "Echo: q5"],
  );
  strictEqual(fake.chats.length, 6);
  strictEqual(fake.maxInFlight, 2);
});

Deno.test("chat's maxConcurrency option overrides llm.max_concurrency", async () => {
  await using fake = FakeOpenAI.start({ latencyMs: 150 });
  const p = providers(fake, { llm: { max_concurrency: 4 } }, { maxConcurrency: 1 });
  await Promise.all(
    Array.from({ length: 3 }, () => p.chat({ model: "gpt-4.1-nano", messages: hello })),
  );
  strictEqual(fake.maxInFlight, 1);
});
