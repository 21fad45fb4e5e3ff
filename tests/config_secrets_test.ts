import { ok } from "node:assert/strict";
import { configSecrets } from "../lib/config_secrets.ts";
import { validateConfig } from "../lib/config_validate.ts";

Deno.test("configSecrets lists config and environment keys, tokens and MCP header values", () => {
  const { config } = validateConfig({
    llm: {
      models: { openai: ["m"], openrouter: ["r"] },
      api_keys: { openai: "sk-file-key" },
      base_urls: { openrouter: "https://openrouter.ai/api/v1" },
      default_model: "m",
      mcp_servers: {
        web: {
          url: "https://mcp.example.org/mcp",
          headers: { Authorization: "Bearer literal-token-1" },
        },
        env: { command: "x", env: { TOKEN: "${env:MY_MCP_TOKEN}" } },
      },
    },
    matrix: { server: "https://hs.example", username: "@b:hs.example", password: "pw-secret-1" },
  });
  const secrets = configSecrets(config, {
    OPENAI_API_KEY: "sk-env-key",
    OPENROUTER_API_KEY: "or-env-key",
    MY_MCP_TOKEN: "mcp-env-token",
    INFINIGPT_STORE_KEY: "a".repeat(64),
  });
  for (
    const s of [
      "sk-file-key",
      "sk-env-key",
      "or-env-key",
      "pw-secret-1",
      "literal-token-1",
      "mcp-env-token",
      "a".repeat(64),
    ]
  ) {
    ok(secrets.includes(s), `${s} is registered`);
  }
});

Deno.test("the recovery key is a secret, as written and without its spaces", () => {
  const key = "EsTc 1234 5678 9abc defg hijk mnop qrst uvwx yzAB CDEF GHJK";
  const config = validateConfig({
    llm: { default_model: "m", models: { ollama: ["m"] } },
    matrix: {
      server: "https://hs.test",
      username: "@b:hs.test",
      password: "pw-1234",
      recovery_key: key,
    },
  }).config;
  const secrets = configSecrets(config, {});
  ok(secrets.includes(key) && secrets.includes(key.replaceAll(" ", "")), secrets.join("|"));
});
