/**
 * The built-in tools: their definitions from `schema.json` joined with their
 * implementations. A definition without an implementation is not offered.
 *
 * @module
 */
import schema from "../../schema.json" with { type: "json" };
import type { ToolDefinition } from "../providers.ts";
import { calculateExpression } from "./calculator.ts";
import type { Tool, ToolCallOptions } from "./registry.ts";

/** Everything built-in tools may need; tests point these at local servers. */
export interface BuiltinOptions {
  /** fetch used for remote APIs (tests substitute a local server). */
  fetch?: typeof fetch;
}

type Implementation = (
  args: Record<string, unknown>,
  call: ToolCallOptions,
  options: BuiltinOptions,
) => Promise<unknown>;

const IMPLEMENTATIONS: Record<string, Implementation> = {
  calculate_expression: (args) => Promise.resolve(calculateExpression(args.expression)),
};

/** The definitions in `schema.json`. */
export const BUILTIN_DEFINITIONS = schema as unknown as ToolDefinition[];

/** The built-in tools with implementations, bound to `options`. */
export function builtinTools(options: BuiltinOptions = {}): Tool[] {
  return BUILTIN_DEFINITIONS.flatMap((definition) => {
    const impl = IMPLEMENTATIONS[definition.function.name];
    if (!impl) return [];
    return [{
      definition,
      source: "builtin" as const,
      validate: true,
      call: (args, call) => impl(args, call, options),
    }];
  });
}
