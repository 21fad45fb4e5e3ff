import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import type { Config } from "../lib/config_types.ts";
import { DEFAULT_OMIT_OPTIONS, DEFAULT_PERSONALITY, DEFAULT_PROMPT } from "../lib/config_schema.ts";
import { validateConfig } from "../lib/config_validate.ts";
import { DELETE, errorsOf, raw, valid } from "./fixtures/config_raw.ts";

// ---------------------------------------------------------------------------
// Rejected values: every rule, with the exact "<key path>: <problem>" line.

const REJECTED: Array<{ name: string; set: Record<string, unknown>; errors: string[] }> = [
  // Sections
  { name: "a missing llm section", set: { llm: DELETE }, errors: ["llm: is required"] },
  {
    name: "an llm section that is not an object",
    set: { llm: "gpt" },
    errors: ['llm: must be an object (got string "gpt")'],
  },
  { name: "a missing matrix section", set: { matrix: DELETE }, errors: ["matrix: is required"] },
  {
    name: "a matrix section that is an array",
    set: { matrix: [] },
    errors: ["matrix: must be an object (got an array)"],
  },
  // llm.models
  {
    name: "missing llm.models",
    set: { "llm.models": DELETE },
    errors: ["llm.models: is required"],
  },
  {
    name: "llm.models as an array",
    set: { "llm.models": ["gpt-4o"] },
    errors: ["llm.models: must be an object (got an array)"],
  },
  {
    name: "a model list that is a string (and no misleading default_model error)",
    set: { "llm.models.openai": "gpt-4.1-nano" },
    errors: ['llm.models.openai: must be an array (got string "gpt-4.1-nano")'],
  },
  {
    name: "an empty model id",
    set: { "llm.models.openai": ["gpt-4.1-nano", " "] },
    errors: ["llm.models.openai[1]: must not be empty"],
  },
  {
    name: "a model id that is a number",
    set: { "llm.models.ollama": [7] },
    errors: ["llm.models.ollama[0]: must be a string (got number 7)"],
  },
  // api_keys, base_urls
  {
    name: "an api key that is a number",
    set: { "llm.api_keys": { openai: 5 } },
    errors: ["llm.api_keys.openai: must be a string (got number 5)"],
  },
  {
    name: "llm.api_keys as an array",
    set: { "llm.api_keys": ["sk"] },
    errors: ["llm.api_keys: must be an object (got an array)"],
  },
  {
    name: "a base URL with an ftp scheme",
    set: { "llm.base_urls": { openrouter: "ftp://openrouter.ai/api/v1" } },
    errors: ["llm.base_urls.openrouter: must be an http:// or https:// URL"],
  },
  {
    name: "a base URL without a scheme",
    set: { "llm.base_urls": { qwen: "dashscope-intl.aliyuncs.com/v1" } },
    errors: ["llm.base_urls.qwen: must be an http:// or https:// URL"],
  },
  // default_model
  {
    name: "a missing default_model",
    set: { "llm.default_model": DELETE },
    errors: ["llm.default_model: is required"],
  },
  {
    name: "an empty default_model",
    set: { "llm.default_model": "  " },
    errors: ["llm.default_model: must not be empty"],
  },
  {
    name: "a default_model that is in no model list",
    set: { "llm.default_model": "gpt-9" },
    errors: [
      'llm.default_model: "gpt-9" is not in any list of llm.models (available: gpt-4.1-nano, gpt-4o, qwen3:8b)',
    ],
  },
  {
    name: "a default_model when every model list is empty",
    set: { "llm.models": { openai: [] } },
    errors: [
      'llm.default_model: "gpt-4.1-nano" is not in any list of llm.models (llm.models is empty)',
    ],
  },
  // personality, prompt
  {
    name: "a personality that is not a string",
    set: { "llm.personality": 3 },
    errors: ["llm.personality: must be a string (got number 3)"],
  },
  {
    name: "an empty prompt",
    set: { "llm.prompt": [] },
    errors: ["llm.prompt: needs 1 to 3 strings"],
  },
  {
    name: "a prompt with four strings",
    set: { "llm.prompt": ["a", "b", "c", "d"] },
    errors: ["llm.prompt: needs 1 to 3 strings"],
  },
  {
    name: "a prompt element that is not a string",
    set: { "llm.prompt": ["you are ", 1] },
    errors: ["llm.prompt[1]: must be a string (got number 1)"],
  },
  {
    name: "a prompt given as one string",
    set: { "llm.prompt": "you are " },
    errors: ['llm.prompt: must be an array (got string "you are ")'],
  },
  {
    name: "a long prompt string with only the type error, not a length error too",
    set: { "llm.prompt": "assume the personality of " },
    errors: ['llm.prompt: must be an array (got string "assume the personality of ")'],
  },
  {
    name: "a default_model given as an empty array with only the type error",
    set: { "llm.default_model": [] },
    errors: ["llm.default_model: must be a string (got an array)"],
  },
  {
    name: "an MCP command given as an empty array with only the type error",
    set: { "llm.mcp_servers": { a: { command: [] } } },
    errors: ["llm.mcp_servers.a.command: must be a string (got an array)"],
  },
  // options
  {
    name: "llm.options that is not an object",
    set: { "llm.options": "hot" },
    errors: ['llm.options: must be an object (got string "hot")'],
  },
  {
    name: "a temperature above 2",
    set: { "llm.options": { temperature: 2.5 } },
    errors: ["llm.options.temperature: must be at most 2 (got number 2.5)"],
  },
  {
    name: "a negative temperature",
    set: { "llm.options": { temperature: -0.1 } },
    errors: ["llm.options.temperature: must be at least 0 (got number -0.1)"],
  },
  {
    name: "a temperature given as a string",
    set: { "llm.options": { temperature: "0.7" } },
    errors: ['llm.options.temperature: must be a number (got string "0.7")'],
  },
  {
    name: "a top_p of 0",
    set: { "llm.options": { top_p: 0 } },
    errors: ["llm.options.top_p: must be greater than 0 (got number 0)"],
  },
  {
    name: "a top_p above 1",
    set: { "llm.options": { top_p: 1.1 } },
    errors: ["llm.options.top_p: must be at most 1 (got number 1.1)"],
  },
  {
    name: "a frequency_penalty below -2",
    set: { "llm.options": { frequency_penalty: -2.5 } },
    errors: ["llm.options.frequency_penalty: must be at least -2 (got number -2.5)"],
  },
  {
    name: "a frequency_penalty above 2",
    set: { "llm.options": { frequency_penalty: 2.5 } },
    errors: ["llm.options.frequency_penalty: must be at most 2 (got number 2.5)"],
  },
  {
    name: "a presence_penalty below -2",
    set: { "llm.options": { presence_penalty: -3 } },
    errors: ["llm.options.presence_penalty: must be at least -2 (got number -3)"],
  },
  {
    name: "a presence_penalty above 2",
    set: { "llm.options": { presence_penalty: 3 } },
    errors: ["llm.options.presence_penalty: must be at most 2 (got number 3)"],
  },
  {
    name: "an unknown reasoning_effort",
    set: { "llm.options": { reasoning_effort: "max" } },
    errors: [
      'llm.options.reasoning_effort: must be one of "none", "minimal", "low", "medium", "high", "xhigh"',
    ],
  },
  {
    name: "omit_options that is a string",
    set: { "llm.omit_options": "gpt-5*" },
    errors: ['llm.omit_options: must be an array (got string "gpt-5*")'],
  },
  // history_size (decision 25: 2..1000)
  {
    name: "a history_size below 2",
    set: { "llm.history_size": 1 },
    errors: ["llm.history_size: must be at least 2 (got number 1)"],
  },
  {
    name: "a history_size above 1000",
    set: { "llm.history_size": 1001 },
    errors: ["llm.history_size: must be at most 1000 (got number 1001)"],
  },
  {
    name: "a fractional history_size",
    set: { "llm.history_size": 2.5 },
    errors: ["llm.history_size: must be an integer (got number 2.5)"],
  },
  {
    name: "a history_size given as a string",
    set: { "llm.history_size": "24" },
    errors: ['llm.history_size: must be a number (got string "24")'],
  },
  // ollama_url, lmstudio_url
  {
    name: "an empty ollama_url (one error, not two)",
    set: { "llm.ollama_url": "" },
    errors: ["llm.ollama_url: must not be empty"],
  },
  {
    name: "an ollama_url with a space",
    set: { "llm.ollama_url": "local host:11434" },
    errors: ["llm.ollama_url: must be host:port without spaces"],
  },
  {
    name: "an lmstudio_url that is a number",
    set: { "llm.lmstudio_url": 1234 },
    errors: ["llm.lmstudio_url: must be a string (got number 1234)"],
  },
  // timeouts, rounds, concurrency
  {
    name: "a zero timeout",
    set: { "llm.timeout": 0 },
    errors: ["llm.timeout: must be greater than 0 (got number 0)"],
  },
  {
    name: "a timeout above an hour",
    set: { "llm.timeout": 3601 },
    errors: ["llm.timeout: must be at most 3600 (got number 3601)"],
  },
  {
    name: "a negative tool_timeout",
    set: { "llm.tool_timeout": -1 },
    errors: ["llm.tool_timeout: must be greater than 0 (got number -1)"],
  },
  {
    name: "max_tool_rounds of 0",
    set: { "llm.max_tool_rounds": 0 },
    errors: ["llm.max_tool_rounds: must be at least 1 (got number 0)"],
  },
  {
    name: "max_tool_rounds above 50",
    set: { "llm.max_tool_rounds": 51 },
    errors: ["llm.max_tool_rounds: must be at most 50 (got number 51)"],
  },
  {
    name: "max_concurrency of 0",
    set: { "llm.max_concurrency": 0 },
    errors: ["llm.max_concurrency: must be at least 1 (got number 0)"],
  },
  {
    name: "a fractional max_concurrency",
    set: { "llm.max_concurrency": 1.5 },
    errors: ["llm.max_concurrency: must be an integer (got number 1.5)"],
  },
  // flags
  {
    name: 'a verbose flag of "maybe"',
    set: { "llm.verbose": "maybe" },
    errors: ['llm.verbose: must be true or false (got string "maybe")'],
  },
  {
    name: "a thinking flag of 2",
    set: { "llm.thinking": 2 },
    errors: ["llm.thinking: must be true or false (got number 2)"],
  },
  {
    name: "an e2e flag that is an object",
    set: { "matrix.e2e": {} },
    errors: ["matrix.e2e: must be true or false (got an object)"],
  },
  {
    name: "a markdown flag of null",
    set: { markdown: null },
    errors: ["markdown: must be true or false (got null)"],
  },
  // rate_limit
  {
    name: "a negative requests_per_minute",
    set: { "llm.rate_limit": { requests_per_minute: -1 } },
    errors: ["llm.rate_limit.requests_per_minute: must be at least 0 (got number -1)"],
  },
  {
    name: "fractional daily_tokens",
    set: { "llm.rate_limit": { daily_tokens: 1.5 } },
    errors: ["llm.rate_limit.daily_tokens: must be an integer (got number 1.5)"],
  },
  // mcp_servers
  {
    name: "mcp_servers as an array",
    set: { "llm.mcp_servers": [] },
    errors: ["llm.mcp_servers: must be an object (got an array)"],
  },
  {
    name: "an MCP server given as a number",
    set: { "llm.mcp_servers": { a: 5 } },
    errors: [
      "llm.mcp_servers.a: must be a URL string, {command, args?, env?, cwd?} or {url, headers?, transport?}",
    ],
  },
  {
    name: "an MCP server given as an array",
    set: { "llm.mcp_servers": { a: ["npx"] } },
    errors: [
      "llm.mcp_servers.a: must be a URL string, {command, args?, env?, cwd?} or {url, headers?, transport?}",
    ],
  },
  {
    name: "an MCP server object with neither command nor url",
    set: { "llm.mcp_servers": { a: { cmd: "npx" } } },
    errors: ['llm.mcp_servers.a: needs either "command" (stdio) or "url" (HTTP)'],
  },
  {
    name: "an MCP bare string that is not an http URL",
    set: { "llm.mcp_servers": { a: "ws://127.0.0.1:9000/mcp" } },
    errors: ["llm.mcp_servers.a: must be an http:// or https:// URL"],
  },
  {
    name: "an MCP stdio server with an empty command",
    set: { "llm.mcp_servers": { a: { command: " " } } },
    errors: ["llm.mcp_servers.a.command: must not be empty"],
  },
  {
    name: "MCP stdio args given as a string",
    set: { "llm.mcp_servers": { a: { command: "npx", args: "-y server" } } },
    errors: ['llm.mcp_servers.a.args: must be an array (got string "-y server")'],
  },
  {
    name: "an MCP stdio env value that is a number",
    set: { "llm.mcp_servers": { a: { command: "npx", env: { PORT: 80 } } } },
    errors: ["llm.mcp_servers.a.env.PORT: must be a string (got number 80)"],
  },
  {
    name: "an MCP HTTP server with a bad url",
    set: { "llm.mcp_servers": { a: { url: "127.0.0.1:9000" } } },
    errors: ["llm.mcp_servers.a.url: must be an http:// or https:// URL"],
  },
  {
    name: "an MCP HTTP server with an unknown transport",
    set: { "llm.mcp_servers": { a: { url: "http://127.0.0.1:9000/mcp", transport: "ws" } } },
    errors: [
      'llm.mcp_servers.a.transport: must be one of "auto", "streamable-http", "http", "sse"',
    ],
  },
  {
    name: "MCP headers given as a string",
    set: { "llm.mcp_servers": { a: { url: "http://127.0.0.1:9000/mcp", headers: "x" } } },
    errors: ['llm.mcp_servers.a.headers: must be an object (got string "x")'],
  },
  {
    name: "a top-level MCP server in a bad form",
    set: { mcp_servers: { legacy: 5 } },
    errors: [
      "mcp_servers.legacy: must be a URL string, {command, args?, env?, cwd?} or {url, headers?, transport?}",
    ],
  },
  // matrix
  {
    name: "a missing matrix.server",
    set: { "matrix.server": DELETE },
    errors: ["matrix.server: is required"],
  },
  {
    name: "a matrix.server that is neither a URL nor a server name",
    set: { "matrix.server": "matrix.org/path" },
    errors: [
      "matrix.server: must be the homeserver's URL (https://matrix.example.org) or a server name (example.org)",
    ],
  },
  {
    name: "a username that is not an mxid",
    set: { "matrix.username": "infinigpt" },
    errors: ["matrix.username: must be a full Matrix user ID like @name:server"],
  },
  {
    name: "a username without a server part",
    set: { "matrix.username": "@infinigpt" },
    errors: ["matrix.username: must be a full Matrix user ID like @name:server"],
  },
  {
    name: "neither password nor access_token",
    set: { "matrix.password": DELETE },
    errors: ["matrix.password: is required (or set matrix.access_token)"],
  },
  {
    name: "an empty password and a null access_token",
    set: { "matrix.password": "", "matrix.access_token": null },
    errors: ["matrix.password: is required (or set matrix.access_token)"],
  },
  {
    name: "a password that is a number",
    set: { "matrix.password": 1234 },
    errors: ["matrix.password: must be a string (got number 1234)"],
  },
  {
    name: "a channel without # or !",
    set: { "matrix.channels": ["#ok:matrix.test", "room:matrix.test"] },
    errors: [
      "matrix.channels[1]: must be a room alias (#room:server) or room ID (!id:server, or !id in room version 12)",
    ],
  },
  {
    name: "a channel that is a user id",
    set: { "matrix.channels": ["@user:matrix.test"] },
    errors: [
      "matrix.channels[0]: must be a room alias (#room:server) or room ID (!id:server, or !id in room version 12)",
    ],
  },
  {
    name: "a room version 12 ID cut short (no server part, not 43 characters)",
    set: { "matrix.channels": ["!pbPNIxnaXPE-mgjkvK2X0Pytc1LxC48ysmWw"] },
    errors: [
      "matrix.channels[0]: must be a room alias (#room:server) or room ID (!id:server, or !id in room version 12)",
    ],
  },
  {
    name: "a room version 12 ID in standard (not URL-safe) base64",
    set: { "matrix.allowed_rooms": ["!pbPNIxnaXPE+mgjkvK2X0Pytc1LxC48ysmWwZJkVZ/w"] },
    errors: [
      "matrix.allowed_rooms[0]: must be a room alias (#room:server) or room ID (!id:server, or !id in room version 12)",
    ],
  },
  {
    name: "a negative catch_up_seconds",
    set: { "matrix.catch_up_seconds": -1 },
    errors: ["matrix.catch_up_seconds: must be at least 0 (got number -1)"],
  },
  {
    name: "a catch_up_seconds that is not a whole number",
    set: { "matrix.catch_up_seconds": 1.5 },
    errors: ["matrix.catch_up_seconds: must be an integer (got number 1.5)"],
  },
  {
    name: "an unknown llm.timezone",
    set: { "llm.timezone": "Mars/Olympus" },
    errors: ["llm.timezone: is not a known time zone (IANA name, e.g. Europe/Berlin)"],
  },
  {
    name: "a negative llm.context_tokens",
    set: { "llm.context_tokens": -5 },
    errors: ["llm.context_tokens: must be at least 0 (got number -5)"],
  },
  {
    name: "a matrix.answer switch that is not a flag",
    set: { "matrix.answer.dm": "maybe" },
    errors: ['matrix.answer.dm: must be true or false (got string "maybe")'],
  },
  {
    name: "channels given as one string",
    set: { "matrix.channels": "#ai:matrix.test" },
    errors: ['matrix.channels: must be an array (got string "#ai:matrix.test")'],
  },
  {
    name: "admins given as one string",
    set: { "matrix.admins": "@admin:matrix.test" },
    errors: ['matrix.admins: must be an array (got string "@admin:matrix.test")'],
  },
  {
    name: "a device_id that is a number",
    set: { "matrix.device_id": 5 },
    errors: ["matrix.device_id: must be a string (got number 5)"],
  },
  {
    name: "a blank store_path",
    set: { "matrix.store_path": "  " },
    errors: ["matrix.store_path: must not be empty"],
  },
  {
    name: "an allowed_rooms entry that is not a room",
    set: { "matrix.allowed_rooms": ["ai"] },
    errors: [
      "matrix.allowed_rooms[0]: must be a room alias (#room:server) or room ID (!id:server, or !id in room version 12)",
    ],
  },
  {
    name: "an allowed_users entry that is not an mxid",
    set: { "matrix.allowed_users": ["Bob"] },
    errors: ["matrix.allowed_users[0]: must be a full Matrix user ID like @name:server"],
  },
  {
    name: "an unknown verification.accept_from",
    set: { "matrix.verification": { accept_from: "everyone" } },
    errors: ['matrix.verification.accept_from: must be one of "anyone", "admins", "nobody"'],
  },
  // tools
  {
    name: 'a tools.enabled of "sometimes"',
    set: { "tools.enabled": "sometimes" },
    errors: ['tools.enabled: must be true or false (got string "sometimes")'],
  },
  {
    name: "a zero fetch_max_bytes",
    set: { "tools.fetch_max_bytes": 0 },
    errors: ["tools.fetch_max_bytes: must be greater than 0 (got number 0)"],
  },
  {
    name: "a result_max_chars below 1000",
    set: { "tools.result_max_chars": 10 },
    errors: ["tools.result_max_chars: must be at least 1000 (got number 10)"],
  },
];

for (const { name, set, errors } of REJECTED) {
  Deno.test(`rejects ${name}`, () => {
    deepStrictEqual(errorsOf(raw(set)), errors);
  });
}

Deno.test("matrix.server may be the homeserver's URL or a server name (found through .well-known)", () => {
  for (
    const server of [
      "https://matrix.example.org",
      "http://127.0.0.1:8008/",
      "https://example.org/matrix",
      "example.org",
      "example.org:8448",
      "127.0.0.1:8448",
      "[::1]:8448",
      " example.org ",
    ]
  ) {
    strictEqual(
      validateConfig(raw({ "matrix.server": server })).config.matrix.server,
      server.trim(),
    );
  }
  for (const server of ["ftp://example.org", "example.org:99999", "exa mple.org", "https://"]) {
    ok(errorsOf(raw({ "matrix.server": server }))[0].startsWith("matrix.server: "), server);
  }
});

// ---------------------------------------------------------------------------
// Accepted values.

const ACCEPTED: Array<{ name: string; set: Record<string, unknown>; check: (c: Config) => void }> =
  [
    {
      name: "the bounds of the options ranges",
      set: {
        "llm.options": {
          temperature: 2,
          top_p: 1,
          frequency_penalty: -2,
          presence_penalty: 2,
          reasoning_effort: "high",
        },
      },
      check: (c) =>
        deepStrictEqual(c.llm.options, {
          temperature: 2,
          top_p: 1,
          frequency_penalty: -2,
          presence_penalty: 2,
          reasoning_effort: "high",
        }),
    },
    {
      name: "a temperature of 0",
      set: { "llm.options": { temperature: 0 } },
      check: (c) => strictEqual(c.llm.options.temperature, 0),
    },
    {
      name: "provider-specific options, passed through untouched",
      set: { "llm.options": { num_ctx: 8192, stop: ["\n\n"] } },
      check: (c) => deepStrictEqual(c.llm.options, { num_ctx: 8192, stop: ["\n\n"] }),
    },
    {
      name: "a history_size of 2",
      set: { "llm.history_size": 2 },
      check: (c) => strictEqual(c.llm.history_size, 2),
    },
    {
      name: "a history_size of 1000",
      set: { "llm.history_size": 1000 },
      check: (c) => strictEqual(c.llm.history_size, 1000),
    },
    {
      name: "max_tool_rounds of 1 and 50",
      set: { "llm.max_tool_rounds": 50, "llm.max_concurrency": 1 },
      check: (c) => {
        strictEqual(c.llm.max_tool_rounds, 50);
        strictEqual(c.llm.max_concurrency, 1);
      },
    },
    {
      name: "fractional timeouts",
      set: { "llm.timeout": 0.5, "llm.tool_timeout": 2.5 },
      check: (c) => {
        strictEqual(c.llm.timeout, 0.5);
        strictEqual(c.llm.tool_timeout, 2.5);
      },
    },
    {
      name: "an ollama_url given as a full URL, and an lmstudio host:port",
      set: { "llm.ollama_url": "http://gpu-box:11434", "llm.lmstudio_url": "10.0.0.5:1234" },
      check: (c) => {
        strictEqual(c.llm.ollama_url, "http://gpu-box:11434");
        strictEqual(c.llm.lmstudio_url, "10.0.0.5:1234");
      },
    },
    {
      name: "a default_model with surrounding spaces, trimmed",
      set: { "llm.default_model": " gpt-4o " },
      check: (c) => strictEqual(c.llm.default_model, "gpt-4o"),
    },
    {
      name: "a default_model from a custom provider",
      set: {
        "llm.models.openrouter": ["meta/llama-4"],
        "llm.base_urls": { openrouter: "https://openrouter.ai/api/v1" },
        "llm.default_model": "meta/llama-4",
      },
      check: (c) => {
        strictEqual(c.llm.default_model, "meta/llama-4");
        strictEqual(c.llm.base_urls.openrouter, "https://openrouter.ai/api/v1");
      },
    },
    {
      name: "an access_token instead of a password",
      set: { "matrix.password": DELETE, "matrix.access_token": "syt_token" },
      check: (c) => {
        strictEqual(c.matrix.access_token, "syt_token");
        strictEqual(c.matrix.password, undefined);
      },
    },
    {
      name: "room aliases and room IDs as channels",
      set: { "matrix.channels": ["#ai:matrix.test", "!abcDEF:matrix.test"] },
      check: (c) => deepStrictEqual(c.matrix.channels, ["#ai:matrix.test", "!abcDEF:matrix.test"]),
    },
    {
      name: "room version 12 IDs (no server part) as channels and allowed_rooms",
      set: {
        "matrix.channels": ["!pbPNIxnaXPE-mgjkvK2X0Pytc1LxC48ysmWwZJkVZ-w", "#ai:matrix.test"],
        "matrix.allowed_rooms": ["!pbPNIxnaXPE-mgjkvK2X0Pytc1LxC48ysmWwZJkVZ-w"],
      },
      check: (c) => {
        deepStrictEqual(c.matrix.channels, [
          "!pbPNIxnaXPE-mgjkvK2X0Pytc1LxC48ysmWwZJkVZ-w",
          "#ai:matrix.test",
        ]);
        deepStrictEqual(c.matrix.allowed_rooms, ["!pbPNIxnaXPE-mgjkvK2X0Pytc1LxC48ysmWwZJkVZ-w"]);
      },
    },
    {
      name: "catch_up_seconds defaults to 600 and accepts 0",
      set: {},
      check: (c) => strictEqual(c.matrix.catch_up_seconds, 600),
    },
    {
      name: "catch_up_seconds 0 answers none",
      set: { "matrix.catch_up_seconds": 0 },
      check: (c) => strictEqual(c.matrix.catch_up_seconds, 0),
    },
    {
      name: "allowed_rooms and allowed_users lists",
      set: {
        "matrix.allowed_rooms": ["!r:matrix.test"],
        "matrix.allowed_users": ["@u:matrix.test"],
      },
      check: (c) => {
        deepStrictEqual(c.matrix.allowed_rooms, ["!r:matrix.test"]);
        deepStrictEqual(c.matrix.allowed_users, ["@u:matrix.test"]);
      },
    },
    {
      name: "every verification.accept_from value",
      set: { "matrix.verification": { accept_from: "admins" } },
      check: (c) => strictEqual(c.matrix.verification.accept_from, "admins"),
    },
    {
      name: "verification.accept_from nobody",
      set: { "matrix.verification": { accept_from: "nobody" } },
      check: (c) => strictEqual(c.matrix.verification.accept_from, "nobody"),
    },
    {
      name: "a device_id and a store_path",
      set: { "matrix.device_id": "ABCDEFGH", "matrix.store_path": "/var/lib/infinigpt" },
      check: (c) => {
        strictEqual(c.matrix.device_id, "ABCDEFGH");
        strictEqual(c.matrix.store_path, "/var/lib/infinigpt");
      },
    },
    {
      name: "a tools section",
      set: {
        tools: {
          enabled: "off",
          allow_private_urls: 1,
          images_dir: "/tmp/img",
          fetch_max_bytes: 1000,
          result_max_chars: 5000,
          endpoints: { coinbase: "http://127.0.0.1:9/products" },
        },
      },
      check: (c) =>
        deepStrictEqual(c.tools, {
          endpoints: { coinbase: "http://127.0.0.1:9/products" },
          enabled: false,
          allow_private_urls: true,
          images_dir: "/tmp/img",
          fetch_max_bytes: 1000,
          result_max_chars: 5000,
        }),
    },
    {
      name: "a rate_limit section",
      set: { "llm.rate_limit": { requests_per_minute: 6 } },
      check: (c) => deepStrictEqual(c.llm.rate_limit, { requests_per_minute: 6, daily_tokens: 0 }),
    },
    {
      name: "a one-element prompt",
      set: { "llm.prompt": ["you are "] },
      check: (c) => deepStrictEqual(c.llm.prompt, ["you are "]),
    },
    {
      name: "an empty personality",
      set: { "llm.personality": "" },
      check: (c) => strictEqual(c.llm.personality, ""),
    },
  ];

for (const { name, set, check } of ACCEPTED) {
  Deno.test(`accepts ${name}`, () => check(valid(raw(set)).config));
}

// Booleans as the reference's truthiness allowed them.
const FLAGS: Array<[unknown, boolean]> = [
  [true, true],
  [false, false],
  [1, true],
  [0, false],
  ["true", true],
  ["false", false],
  ["1", true],
  ["0", false],
  ["yes", true],
  ["no", false],
  ["on", true],
  ["off", false],
  [" YES ", true],
  ["Off", false],
];

for (const key of ["llm.verbose", "llm.thinking", "matrix.e2e", "markdown"]) {
  Deno.test(`accepts true/false/0/1/yes/no/on/off for ${key}`, async (t) => {
    for (const [input, expected] of FLAGS) {
      await t.step(`${JSON.stringify(input)} → ${expected}`, () => {
        const c = valid(raw({ [key]: input })).config as unknown as Record<string, unknown>;
        const [section, name] = key.includes(".") ? key.split(".") : [undefined, key];
        const value = section ? (c[section] as Record<string, unknown>)[name] : c[name];
        strictEqual(value, expected);
      });
    }
  });
}

Deno.test("fills in the documented defaults", () => {
  const { config, warnings } = valid(raw());
  deepStrictEqual(warnings, []);
  strictEqual(config.llm.history_size, 24);
  strictEqual(config.llm.context_tokens, 0);
  strictEqual(config.llm.timezone, "UTC");
  deepStrictEqual(config.matrix.answer, { dm: true, replies: true, mentions: true, threads: true });
  strictEqual(config.llm.timeout, 180);
  strictEqual(config.llm.tool_timeout, 60);
  strictEqual(config.llm.max_tool_rounds, 10);
  strictEqual(config.llm.max_concurrency, 8);
  strictEqual(config.llm.ollama_url, "localhost:11434");
  strictEqual(config.llm.lmstudio_url, "localhost:1234");
  deepStrictEqual(config.llm.omit_options, [...DEFAULT_OMIT_OPTIONS]);
  deepStrictEqual(config.llm.omit_options, [
    "provider:google",
    "gpt-5*",
    "o1*",
    "o3*",
    "o4*",
    "grok-4*",
  ]);
  strictEqual(config.llm.thinking, true);
  strictEqual(config.llm.verbose, false);
  strictEqual(config.llm.personality, DEFAULT_PERSONALITY);
  deepStrictEqual(config.llm.prompt, [...DEFAULT_PROMPT]);
  strictEqual(config.llm.prompt.length, 3);
  deepStrictEqual(config.llm.options, {});
  deepStrictEqual(config.llm.api_keys, {});
  deepStrictEqual(config.llm.base_urls, {});
  deepStrictEqual(config.llm.mcp_servers, {});
  deepStrictEqual(config.llm.rate_limit, { requests_per_minute: 0, daily_tokens: 0 });
  strictEqual(config.markdown, true);
  strictEqual(config.matrix.e2e, true);
  strictEqual(config.matrix.store_path, "store");
  strictEqual(config.matrix.device_id, "");
  strictEqual(config.matrix.device_name, "infinigpt");
  deepStrictEqual(config.matrix.channels, []);
  deepStrictEqual(config.matrix.admins, []);
  deepStrictEqual(config.matrix.verification, { accept_from: "anyone" });
  deepStrictEqual(config.tools, {
    enabled: true,
    allow_private_urls: false,
    fetch_max_bytes: 2_000_000,
    result_max_chars: 100_000,
    endpoints: {},
  });
});

Deno.test("normalises every accepted MCP server form", () => {
  const { config } = valid(raw({
    "llm.mcp_servers": {
      stdio: {
        command: "npx",
        args: ["-y", "@modelcontextprotocol/server-everything"],
        env: { TOKEN: "${env:MCP_TOKEN}" },
        cwd: "/tmp",
        allowed_tools: ["echo"],
      },
      bare_command: { command: "mcp-server" },
      http: {
        url: "https://mcp.example.org/mcp",
        headers: { Authorization: "Bearer x" },
        transport: "sse",
        timeout: 5,
      },
      http_default: { url: "http://127.0.0.1:9000/mcp" },
      plain: "http://127.0.0.1:9001/mcp",
      off_null: null,
      off_false: false,
      off_empty: "",
    },
  }));
  deepStrictEqual(config.llm.mcp_servers, {
    stdio: {
      kind: "stdio",
      command: "npx",
      args: ["-y", "@modelcontextprotocol/server-everything"],
      env: { TOKEN: "${env:MCP_TOKEN}" },
      cwd: "/tmp",
      allowed_tools: ["echo"],
    },
    bare_command: { kind: "stdio", command: "mcp-server", args: [] },
    http: {
      kind: "http",
      url: "https://mcp.example.org/mcp",
      headers: { Authorization: "Bearer x" },
      transport: "sse",
      timeout: 5,
    },
    http_default: { kind: "http", url: "http://127.0.0.1:9000/mcp", transport: "auto" },
    plain: { kind: "http", url: "http://127.0.0.1:9001/mcp", transport: "auto" },
    off_null: { kind: "disabled" },
    off_false: { kind: "disabled" },
    off_empty: { kind: "disabled" },
  });
});
