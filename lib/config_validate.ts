/**
 * Validating a raw config: the schema, the checks across keys, warnings for
 * unknown keys and for admins that are not Matrix IDs, and the final shape
 * (legacy keys folded in). Every problem is reported at once.
 *
 * @module
 */
import type { z } from "zod";
import { isObject } from "./json.ts";
import { isMxid } from "./mxid.ts";
import type { Config } from "./config_types.ts";
import {
  ConfigError,
  formatPath,
  issueMessage,
  truncate,
  withoutShadowed,
} from "./config_errors.ts";
import { configSchema, mcpHttp, mcpSpec, mcpStdio } from "./config_schema.ts";

/** A loaded config and the warnings worth showing the operator. */
export interface LoadedConfig {
  /** The validated config, environment and flags applied. */
  config: Config;
  /** What the operator should know but does not stop the bot (unknown keys, ignored admins). */
  warnings: string[];
  /** The file it was read from. */
  path: string;
}

/**
 * Validates a raw config object (already merged with overrides).
 * Throws {@link ConfigError} listing every problem.
 */
export function validateConfig(raw: unknown, path = "config.json"): LoadedConfig {
  if (!isObject(raw)) {
    throw new ConfigError(path, ["(root): must be a JSON object"]);
  }
  const result = configSchema.safeParse(raw, { error: issueMessage });
  const issues = result.success ? [] : withoutShadowed(result.error.issues);
  const errors = [
    ...issues.map((i) => `${formatPath(i.path)}: ${i.message}`),
    ...crossChecks(raw as Record<string, unknown>),
  ];
  if (errors.length || !result.success) throw new ConfigError(path, [...new Set(errors)]);
  const parsed = result.data;

  const unknown: string[] = [];
  unknownKeys(configSchema, raw, [], unknown);
  const warnings = unknown.map((key) => `Unknown config key "${key}" is ignored`);
  const { daily_tokens: budgetDaily } = parsed.llm.budget;
  const legacyDaily = parsed.llm.rate_limit.daily_tokens;
  if (budgetDaily !== undefined && legacyDaily !== 0 && legacyDaily !== budgetDaily) {
    warnings.push(
      `llm.rate_limit.daily_tokens (${legacyDaily}) is ignored: llm.budget.daily_tokens (${budgetDaily}) is set`,
    );
  }
  const { admins: adminList, admin, ...matrixRest } = parsed.matrix;
  const admins = adminIds(adminList ?? (admin ? [admin] : []), warnings);

  const { mcp_servers: topLevelMcp, ...rest } = parsed;
  const config: Config = {
    ...rest,
    llm: {
      ...parsed.llm,
      mcp_servers: { ...parsed.llm.mcp_servers, ...topLevelMcp },
      budget: {
        ...parsed.llm.budget,
        daily_tokens: budgetDaily ?? legacyDaily,
      },
    },
    matrix: { ...matrixRest, admins },
  };
  return { config, warnings, path };
}

// Admins are matched by Matrix ID only; a display name in the list is a
// mistake worth a warning, not a reason to refuse the config.
function adminIds(entries: readonly string[], warnings: string[]): string[] {
  const admins: string[] = [];
  for (const entry of entries) {
    if (isMxid(entry)) admins.push(entry);
    else {
      warnings.push(
        `matrix.admins entry "${entry}" is ignored: admins are matched by Matrix ID ` +
          `(@name:server) only, because anyone can copy a display name`,
      );
    }
  }
  return admins;
}

// Unknown keys are warnings, not errors, so that a typo is visible without
// refusing configs written for other versions.
function unknownKeys(schema: z.ZodType, value: unknown, path: string[], out: string[]): void {
  if (schema === mcpSpec) {
    // The hand-written union: check the keys of the form that was picked.
    if (!isObject(value)) return;
    const form = "command" in value ? mcpStdio : "url" in value ? mcpHttp : undefined;
    if (form) unknownKeys(form, value, path, out);
    return;
  }
  let node = schema;
  for (;;) {
    const def = node.def as { type: string; innerType?: z.ZodType; in?: z.ZodType };
    if (def.type === "optional" || def.type === "default" || def.type === "nullable") {
      node = def.innerType!;
    } else if (def.type === "pipe" && def.in) node = def.in;
    else break;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return;
  const def = node.def as { type: string; catchall?: z.ZodType; valueType?: z.ZodType };
  if (def.type === "record" && def.valueType) {
    for (const [key, child] of Object.entries(value)) {
      unknownKeys(def.valueType, child, [...path, key], out);
    }
    return;
  }
  if (def.type !== "object" || def.catchall) return;
  const shape = (node as z.ZodObject).shape as Record<string, z.ZodType>;
  for (const [key, child] of Object.entries(value)) {
    if (key.startsWith("_") || key.startsWith("$")) continue; // comment keys
    if (!(key in shape)) out.push([...path, key].join("."));
    else unknownKeys(shape[key], child, [...path, key], out);
  }
}

// Checks across keys, run on the raw input so they are reported together
// with type errors elsewhere (every problem at once, not the first).
function crossChecks(raw: Record<string, unknown>): string[] {
  const errors: string[] = [];
  const llm = isObject(raw.llm) ? raw.llm : undefined;
  const models = llm && isObject(llm.models) ? llm.models : undefined;
  // A list that is not an array is reported by the schema; "not in any list"
  // would only add a misleading second error for the same mistake.
  const listsValid = models && Object.values(models).every(Array.isArray);
  if (models && listsValid && typeof llm?.default_model === "string" && llm.default_model.trim()) {
    const all = Object.values(models).flatMap((list) =>
      Array.isArray(list) ? list.filter((m): m is string => typeof m === "string") : []
    );
    const wanted = llm.default_model.trim();
    if (!all.map((m) => m.trim()).includes(wanted)) {
      errors.push(
        `llm.default_model: "${wanted}" is not in any list of llm.models` +
          (all.length
            ? ` (available: ${truncate(all.join(", "), 200)})`
            : " (llm.models is empty)"),
      );
    }
  }
  const matrix = isObject(raw.matrix) ? raw.matrix : undefined;
  if (matrix && !matrix.password && !matrix.access_token) {
    errors.push("matrix.password: is required (or set matrix.access_token)");
  }
  return errors;
}
