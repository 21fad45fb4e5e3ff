import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import { builtinTools } from "../../lib/tools/builtins.ts";
import type { BuiltinOptions } from "../../lib/tools/options.ts";
import { ToolRegistry } from "../../lib/tools/registry.ts";
import { openaiSearch } from "../../lib/tools/search.ts";
import { LocalApi, type LocalHandler } from "../fixtures/local_api.ts";

const KEY = "sk-search-SECRET-4444";

/** A completion as the search model sends it, with the formatting kept as is. */
const COMPLETION = `{
  "id": "chatcmpl-search-1",
  "object": "chat.completion",
  "model": "gpt-4o-mini-search-preview",
  "choices": [{
    "index": 0,
    "message": {
      "role": "assistant",
      "content": "{\\"query\\":\\"deno\\",\\"total_results\\":1,\\"results\\":[{\\"title\\":\\"Deno\\",\\"url\\":\\"https://deno.com\\",\\"snippet\\":\\"A runtime\\"}],\\"timestamp\\":\\"2026-01-01T00:00:00Z\\"}",
      "annotations": []
    },
    "finish_reason": "stop"
  }],
  "usage": { "prompt_tokens": 9, "completion_tokens": 40, "total_tokens": 49 }
}`;

interface Env extends AsyncDisposable {
  server: LocalApi;
  options: BuiltinOptions;
}

function setup(handler?: LocalHandler, extra: Partial<BuiltinOptions> = {}): Env {
  const server = LocalApi.start(handler);
  return {
    server,
    options: {
      endpoints: { openai: `${server.origin}/v1` },
      key: (name) => (name === "openai" ? KEY : undefined),
      ...extra,
    },
    [Symbol.asyncDispose]: () => server.close(),
  };
}

function call(signal: AbortSignal = new AbortController().signal) {
  return { signal };
}

const completion = () =>
  new Response(COMPLETION, { headers: { "content-type": "application/json" } });

Deno.test("openai_search returns the raw completion JSON text unchanged", async () => {
  await using env = setup(completion);
  const value = await openaiSearch.run({ query: "deno" }, call(), env.options);
  strictEqual(value, COMPLETION);
});

Deno.test("openai_search asks the search model for strict structured results with web search options", async () => {
  await using env = setup(completion);
  await openaiSearch.run({ query: "latest deno release" }, call(), env.options);
  strictEqual(env.server.requests.length, 1);
  const [req] = env.server.requests;
  strictEqual(req.method, "POST");
  strictEqual(req.url.pathname, "/v1/chat/completions");
  strictEqual(req.headers.get("authorization"), `Bearer ${KEY}`);
  match(req.headers.get("content-type") ?? "", /^application\/json/);
  deepStrictEqual(req.json, {
    model: "gpt-4o-mini-search-preview",
    messages: [{ role: "user", content: "latest deno release" }],
    response_format: {
      type: "json_schema",
      json_schema: {
        name: "search_results",
        strict: true,
        schema: {
          type: "object",
          properties: {
            query: { type: "string" },
            total_results: { type: "number" },
            results: {
              type: "array",
              items: {
                type: "object",
                properties: {
                  title: { type: "string" },
                  url: { type: "string" },
                  snippet: { type: "string" },
                },
                required: ["title", "url", "snippet"],
                additionalProperties: false,
              },
            },
            timestamp: { type: "string" },
          },
          required: ["query", "total_results", "results", "timestamp"],
          additionalProperties: false,
        },
      },
    },
    web_search_options: {
      search_context_size: "medium",
      user_location: {
        type: "approximate",
        approximate: { country: "", timezone: "America/New_York" },
      },
    },
    store: false,
  });
});

for (const status of [400, 401, 500]) {
  Deno.test(`openai_search reports HTTP ${status} with the provider's body`, async () => {
    const body = `{"error":{"message":"failure ${status}"}}`;
    await using env = setup(() => new Response(body, { status }));
    const value = await openaiSearch.run({ query: "q" }, call(), env.options);
    deepStrictEqual(value, { error: `HTTP error: ${status} - ${body}` });
  });
}

Deno.test("openai_search does not leak the key when a 401 body echoes it", async () => {
  await using env = setup(() =>
    new Response(`Incorrect API key provided: ${KEY}`, { status: 401 })
  );
  const value = await openaiSearch.run({ query: "q" }, call(), env.options);
  deepStrictEqual(value, { error: "HTTP error: 401 - Incorrect API key provided: ***" });
});

Deno.test("openai_search cuts a long error body to 500 characters", async () => {
  await using env = setup(() => new Response("y".repeat(1200), { status: 502 }));
  const value = await openaiSearch.run({ query: "q" }, call(), env.options);
  deepStrictEqual(value, { error: `HTTP error: 502 - ${"y".repeat(500)}` });
});

Deno.test("openai_search without a key says which settings give one and sends nothing", async () => {
  await using env = setup(completion, { key: () => undefined });
  const value = await openaiSearch.run({ query: "q" }, call(), env.options);
  deepStrictEqual(value, {
    error: "Missing OpenAI API key (OPENAI_API_KEY or llm.api_keys.openai)",
  });
  strictEqual(env.server.requests.length, 0);
});

Deno.test("openai_search reports an unreachable provider as unexpected", async () => {
  const dead = LocalApi.start();
  const origin = dead.origin;
  await dead.close();
  const value = await openaiSearch.run({ query: "q" }, call(), {
    endpoints: { openai: `${origin}/v1` },
    key: () => KEY,
  }) as { error: string };
  match(value.error, /^Unexpected: ./);
});

Deno.test("openai_search keeps the key out of an unexpected error that quotes it", async () => {
  const failing: typeof fetch = () => Promise.reject(new TypeError(`bad header Bearer ${KEY}`));
  const value = await openaiSearch.run({ query: "q" }, call(), { key: () => KEY, fetch: failing });
  deepStrictEqual(value, { error: "Unexpected: bad header Bearer ***" });
});

Deno.test("openai_search gives up when the call is cancelled while the provider never answers", async () => {
  await using env = setup((_req, server) => server.hang());
  const value = await openaiSearch.run({ query: "q" }, call(AbortSignal.timeout(100)), env.options);
  deepStrictEqual(value, { error: "Unexpected: cancelled" });
  strictEqual(env.server.requests.length, 1);
});

Deno.test("openai_search through the registry: the model gets the raw completion and no images", async () => {
  await using env = setup(completion);
  const result = await new ToolRegistry(builtinTools(env.options)).call("openai_search", {
    query: "deno",
  });
  strictEqual(result.ok, true);
  strictEqual(result.content, COMPLETION);
  deepStrictEqual(result.images, []);
  ok(!result.content.includes(KEY));
});

Deno.test("openai_search through the registry: an HTTP error becomes the model's error result", async () => {
  await using env = setup(() => new Response("rate limited", { status: 429 }));
  const result = await new ToolRegistry(builtinTools(env.options)).call("openai_search", {
    query: "deno",
  });
  deepStrictEqual(JSON.parse(result.content), { error: "HTTP error: 429 - rate limited" });
});
