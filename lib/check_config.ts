/**
 * The redacted summary `check-config` prints, and the warnings about
 * providers that cannot work as configured. No secret is ever included.
 *
 * @module
 */
import type { Config, McpServerSpec } from "./config.ts";
import type { Env } from "./env.ts";
import { BUILTIN_PROVIDERS, envKeyNames, routeProvider } from "./providers.ts";

/** Removes `user:password@` from a URL and replaces its query string with `?…`. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = "";
      u.password = "";
    }
    // Set as a string afterwards: `u.search = "?…"` would percent-encode the ellipsis.
    const hadQuery = u.search !== "";
    u.search = "";
    const hash = u.hash;
    u.hash = "";
    return u.toString() + (hadQuery ? "?…" : "") + hash;
  } catch {
    return url;
  }
}

// A provider added through llm.base_urls may be a local server that needs no
// key (vLLM, llama.cpp); the summary still shows "key: missing" for it.
function isCustomWithBaseUrl(provider: string, config: Config): boolean {
  return !BUILTIN_PROVIDERS.some((p) => p.name === provider) && !!config.llm.base_urls[provider];
}

/** Warnings about providers: a missing key, an unknown provider without a base URL. */
export function providerWarnings(config: Config, env: Env): string[] {
  const warnings: string[] = [];
  for (const [provider, models] of Object.entries(config.llm.models)) {
    if (!models.length) continue;
    const route = routeProvider(provider, config, env);
    if (route.fallback) {
      warnings.push(
        `Provider "${provider}" is not built in and has no llm.base_urls.${provider}; its models go to OpenAI with the OpenAI key`,
      );
    } else if (route.keySource === "missing" && !isCustomWithBaseUrl(provider, config)) {
      const vars = envKeyNames(provider).join(" or ");
      warnings.push(
        `No API key for provider "${provider}" (set ${vars} or llm.api_keys.${provider})`,
      );
    }
  }
  return warnings;
}

function describeMcp(spec: McpServerSpec): string {
  if (spec.kind === "disabled") return "disabled";
  const allowed = spec.allowed_tools ? `, only ${spec.allowed_tools.join(", ")}` : "";
  if (spec.kind === "stdio") {
    const env = spec.env ? `, env ${Object.keys(spec.env).join(", ")}` : "";
    return `stdio: ${spec.command} (${spec.args.length} args${env})${allowed}`;
  }
  const headers = spec.headers ? `, headers ${Object.keys(spec.headers).join(", ")}` : "";
  return `${spec.transport === "auto" ? "http" : spec.transport}: ${
    redactUrl(spec.url)
  }${headers}${allowed}`;
}

/** Where the recovery key comes from, never the key itself. */
function recoveryKeySource(m: Config["matrix"], env: Env): string {
  const reset = m.recovery_reset
    ? " (recovery_reset: true replaces secret storage it cannot open)"
    : "";
  if (env.INFINIGPT_RECOVERY_KEY) return `set (env INFINIGPT_RECOVERY_KEY)${reset}`;
  if (m.recovery_key) return `set (matrix.recovery_key)${reset}`;
  if (m.recovery_key_file) return `from ${m.recovery_key_file}${reset}`;
  return `none configured (<store>/recovery-key.txt is used when present)${reset}`;
}

/** A multi-line, secret-free description of a valid config. */
export function summarizeConfig(config: Config, env: Env, path: string): string {
  const lines: string[] = [`Config OK: ${path}`];
  const m = config.matrix;
  lines.push(`Default model: ${config.llm.default_model}`);
  lines.push("Providers:");
  const order = [
    ...BUILTIN_PROVIDERS.map((p) => p.name).filter((n) => n in config.llm.models),
    ...Object.keys(config.llm.models).filter((n) => !BUILTIN_PROVIDERS.some((p) => p.name === n)),
  ];
  for (const provider of order) {
    const models = config.llm.models[provider];
    const route = routeProvider(provider, config, env);
    lines.push(
      `  ${provider}: ${models.length} model(s), ${
        redactUrl(route.baseURL)
      }, key: ${route.keySource}`,
    );
  }
  const auth = m.access_token ? "access token set" : "password set";
  lines.push(
    `Matrix: ${redactUrl(m.server)} as ${m.username} (${auth}), E2EE ${m.e2e ? "on" : "off"}`,
  );
  lines.push(`  device: ${m.device_id || "(assigned at first login)"}`);
  lines.push(
    `  rooms to join: ${m.channels.length ? m.channels.join(", ") : "(none; invites from admins)"}`,
  );
  lines.push(`  admins: ${m.admins.length ? m.admins.join(", ") : "(none)"}`);
  if (m.allowed_rooms) lines.push(`  allowed rooms: ${m.allowed_rooms.join(", ")}`);
  if (m.allowed_users) lines.push(`  allowed users: ${m.allowed_users.join(", ")}`);
  lines.push(`  verification accepted from: ${m.verification.accept_from}`);
  if (m.e2e) lines.push(`  recovery key: ${recoveryKeySource(m, env)}`);
  lines.push(`Store: ${m.store_path}`);
  const servers = Object.entries(config.llm.mcp_servers);
  lines.push(`MCP servers: ${servers.length ? "" : "(none)"}`.trimEnd());
  for (const [name, spec] of servers) lines.push(`  ${name}: ${describeMcp(spec)}`);
  lines.push(
    `Tools: ${
      config.tools.enabled ? "on" : "off"
    }, timeout ${config.llm.tool_timeout} s, at most ${config.llm.max_tool_rounds} rounds, private URLs ${
      config.tools.allow_private_urls ? "allowed" : "refused"
    }`,
  );
  lines.push(
    `History: ${config.llm.history_size} messages; LLM timeout ${config.llm.timeout} s; ${config.llm.max_concurrency} calls at once; markdown ${
      config.markdown ? "on" : "off"
    }`,
  );
  return lines.join("\n");
}

/** Host names the starter config uses (RFC 2606 example domains). */
const EXAMPLE_HOST = /(^|[@:/.#!])example\.(org|com|net)($|[:/])/i;

/** Values of the starter config that must be replaced: where a real value belongs. */
const PLACEHOLDER_HINTS: Record<string, string> = {
  "matrix.server": "your homeserver's URL or server name",
  "matrix.username": "the bot account's Matrix ID",
  "matrix.password": "the bot account's password (or INFINIGPT_MATRIX_PASSWORD)",
  "matrix.channels": "a room on your homeserver (or remove it)",
  "matrix.admins": "your own Matrix ID",
  "matrix.allowed_rooms": "a room on your homeserver (or remove it)",
  "matrix.allowed_users": "a Matrix ID on your homeserver (or remove it)",
};

/** Paths whose values are secrets: named, never shown. */
const SECRET_PATH = /(^|\.)(password|access_token|api_keys\.[^.]+|headers\.[^.]+|env\.[^.]+)$/;

/**
 * The placeholder values `init` writes (`example.org` addresses, the
 * password `change-me`) still in the config, as `- <key>: <problem>` lines
 * like other configuration errors. Secrets are named, never shown.
 */
export function placeholderErrors(config: Config): string[] {
  const errors: string[] = [];
  const visit = (value: unknown, path: string): void => {
    if (typeof value === "string") {
      if (!EXAMPLE_HOST.test(value) && !/^change-?me$/i.test(value.trim())) return;
      const top = path.replace(/\[\d+\]$/, "");
      const shown = SECRET_PATH.test(top) ? "" : ` "${value}"`;
      const hint = PLACEHOLDER_HINTS[top] ?? "a real value";
      errors.push(
        `- ${path}:${shown} is the starter config's placeholder; replace it with ${hint}`,
      );
    } else if (Array.isArray(value)) {
      value.forEach((v, i) => visit(v, `${path}[${i}]`));
    } else if (value && typeof value === "object") {
      for (const [k, v] of Object.entries(value)) visit(v, path ? `${path}.${k}` : k);
    }
  };
  visit(config, "");
  return errors;
}
