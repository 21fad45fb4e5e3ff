/**
 * The secret values a config brings, so that the log can mask them wherever
 * they appear (`registerSecret`). Not re-exported from `config.ts`: it
 * needs the providers' key names, and `providers.ts` imports the config
 * types.
 *
 * @module
 */
import type { Config } from "./config_types.ts";
import type { Env } from "./env.ts";
import { BUILTIN_PROVIDERS, envKeyNames } from "./providers.ts";

/**
 * Every secret value the config brings: password, token, API keys from the
 * file and from the environment (which win), the store key, and MCP header
 * and environment values (tokens, mostly).
 */
export function configSecrets(config: Config, env: Env): string[] {
  const out = [config.matrix.password, config.matrix.access_token, env.INFINIGPT_STORE_KEY];
  // The recovery key as written and without its spaces (Element shows it in groups of four).
  for (const key of [config.matrix.recovery_key, env.INFINIGPT_RECOVERY_KEY]) {
    out.push(key, key?.replace(/\s+/g, ""));
  }
  out.push(...Object.values(config.llm.api_keys));
  const providers = new Set([
    ...BUILTIN_PROVIDERS.map((p) => p.name),
    ...Object.keys(config.llm.models),
  ]);
  for (const provider of providers) for (const name of envKeyNames(provider)) out.push(env[name]);
  for (const spec of Object.values(config.llm.mcp_servers)) {
    if (spec.kind === "disabled") continue;
    const values = spec.kind === "stdio"
      ? Object.values(spec.env ?? {})
      : Object.values(spec.headers ?? {});
    for (const value of values) {
      out.push(value);
      for (const m of value.matchAll(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g)) out.push(env[m[1]]);
      // "Bearer <token>": the token alone appears in logs too.
      out.push(value.replace(/^\s*(Bearer|Basic|Token)\s+/i, ""));
    }
  }
  return out.filter((v): v is string => typeof v === "string" && v.length >= 4);
}
