/**
 * What the operator reads about a bad config: {@link ConfigError} and the
 * wording of zod's issues as `key path: problem` lines.
 *
 * @module
 */
import type { z } from "zod";

/** A config that cannot be used; `message` is what the operator sees. */
export class ConfigError extends Error {
  /** Every problem found, one line each (`key: what is wrong`). */
  readonly errors: readonly string[];
  /** The config file. */
  readonly path: string;
  /** The problems of the file at `path`; `notFound` when there is no such file. */
  constructor(path: string, errors: readonly string[], notFound = false) {
    super(
      notFound
        ? `Config file not found: ${path}`
        : `Configuration errors:\n${errors.map((e) => `- ${oneLine(e)}`).join("\n")}`,
    );
    this.name = "ConfigError";
    this.path = path;
    this.errors = errors.map(oneLine);
  }
}

/** `text` cut to `max` characters, with an ellipsis when cut. */
export function truncate(text: string, max: number): string {
  return text.length > max ? text.slice(0, max) + "…" : text;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  if (typeof value === "string") return `string ${JSON.stringify(truncate(value, 40))}`;
  return `${typeof value} ${String(value)}`;
}

const EXPECTED: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "an integer",
  boolean: "true or false",
  object: "an object",
  array: "an array",
  record: "an object",
};

/**
 * The operator's wording of a zod issue ("is required", "must be a string"),
 * or `undefined` for zod's own. zod's defaults ("Invalid input: expected
 * string, received number") are written for developers.
 */
export function issueMessage(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code === "invalid_type") {
    if (issue.input === undefined) return "is required";
    const expected = EXPECTED[issue.expected as string] ?? String(issue.expected);
    return `must be ${expected} (got ${describe(issue.input)})`;
  }
  if (issue.code === "too_small" && issue.origin === "string" && issue.minimum === 1) {
    return "must not be empty";
  }
  if (issue.code === "invalid_value") {
    return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
  }
  if (issue.code === "too_small" || issue.code === "too_big") {
    const bound = issue.code === "too_small" ? issue.minimum : issue.maximum;
    const word = issue.code === "too_small"
      ? (issue.inclusive === false ? "greater than" : "at least")
      : (issue.inclusive === false ? "less than" : "at most");
    if (issue.origin === "array") return undefined;
    return `must be ${word} ${String(bound)} (got ${describe(issue.input)})`;
  }
  return undefined;
}

/**
 * The issues without those a type error at the same path already explains:
 * zod still runs length checks on a value of the wrong type (a string given
 * for an array, an array for a string); the type error alone says what is wrong.
 */
export function withoutShadowed(issues: z.core.$ZodIssue[]): z.core.$ZodIssue[] {
  const wrongType = new Set(
    issues.filter((i) => i.code === "invalid_type").map((i) => formatPath(i.path)),
  );
  return issues.filter((i) => i.code === "invalid_type" || !wrongType.has(formatPath(i.path)));
}

/** A key path as the operator writes it: `llm.models.openai[1]`, `(root)` for none. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.map((p, i) => {
    if (typeof p === "number") return `[${p}]`;
    const key = String(p);
    // Keys with odd characters (even newlines) are shown quoted, on one line.
    if (!/^[\w$-]+$/.test(key)) return `[${JSON.stringify(key)}]`;
    return i === 0 ? key : `.${key}`;
  }).join("") || "(root)";
}

/** One line: control characters (newlines too) escaped as in JSON. */
function oneLine(text: string): string {
  // deno-lint-ignore no-control-regex -- control characters are what is escaped
  return text.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => JSON.stringify(c).slice(1, -1));
}
