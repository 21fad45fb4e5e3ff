/**
 * The tool registry: the built-in and MCP tools offered to the model, merged
 * and deduplicated, with argument checks, timeouts, logging, and the
 * normalising of every result into the string the model sees.
 *
 * @module
 */
import { z } from "zod";
import { deadline, DeadlineError } from "../async.ts";
import { metrics } from "../bot_metrics.ts";
import { getLogger } from "../log.ts";
import { readImageFrom, type ToolImage } from "./image_files.ts";

export type { ToolImage } from "./image_files.ts";
import type { ToolDefinition } from "../providers.ts";

const log = getLogger("tools");

/**
 * A result that is already in its final form (MCP tools, image tools):
 * the registry passes `content` through instead of normalising a value.
 */
export class ToolOutput {
  /** The tool-result string the model sees. */
  readonly content: string;
  /** Images to post with the answer. */
  readonly images: readonly ToolImage[];
  /** A result `content`, with the images it produced. */
  constructor(content: string, images: readonly ToolImage[] = []) {
    this.content = content;
    this.images = images;
  }
}

/** Thrown by a tool whose arguments are wrong; reported as "Invalid arguments". */
export class ToolArgumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ToolArgumentError";
  }
}

/** What every tool call gets besides its arguments. */
export interface ToolCallOptions {
  /** Aborted when the call times out or the bot shuts down. */
  signal: AbortSignal;
}

/** A tool the model can call. */
export interface Tool {
  /** Name, description and JSON schema of the arguments, as sent to the model. */
  definition: ToolDefinition;
  /** Where the tool comes from (built-ins win over MCP tools of the same name). */
  source: "builtin" | "mcp";
  /** The MCP server name, for MCP tools. */
  server?: string;
  /** Validate arguments against the schema before calling (built-ins). */
  validate?: boolean;
  /** This tool's own timeout (image generation is slow); the registry default otherwise. */
  timeoutMs?: number;
  /** Returns a value to normalise, or a {@link ToolOutput}. */
  call(args: Record<string, unknown>, options: ToolCallOptions): Promise<unknown>;
}

/** The result of one call, as appended to the working message list. */
export interface ToolCallResult {
  /** The tool-result string the model sees (an error result when the call failed). */
  content: string;
  /** Images to post with the answer. */
  images: readonly ToolImage[];
  /** False when the call failed (unknown tool, bad arguments, error, timeout). */
  ok: boolean;
}

/** Options for {@link ToolRegistry}. */
export interface RegistryOptions {
  /** Per-call timeout in milliseconds (`llm.tool_timeout`). */
  timeoutMs?: number;
  /** Longest result handed to the model (`tools.result_max_chars`). */
  maxResultChars?: number;
  /**
   * The images directory: a result naming an image file by path
   * (`{"result": "x.png"}` or `{"path": ...}`) is posted only when the file
   * lives here (decision 13).
   */
  imagesDir?: string;
}

/** The JSON text of a value, with non-ASCII kept as is. */
function json(value: unknown): string {
  return JSON.stringify(value) ?? "null";
}

/** Whether a result is an {@link errorResult} (MCP servers' failures come back as one). */
function isErrorResult(content: string): boolean {
  return content.startsWith('{"error":');
}

/** An error result in the shape the reference used: `{"error": "..."}`. */
export function errorResult(message: string): string {
  return json({ error: message });
}

/**
 * Turns a tool's return value into the string the model sees (reference
 * §5.4): JSON for non-strings; JSON strings unchanged; other strings wrapped
 * as `{"result": "..."}`.
 */
export function normaliseResult(value: unknown): string {
  if (typeof value === "string") {
    try {
      JSON.parse(value);
      return value;
    } catch {
      return json({ result: value });
    }
  }
  if (value === undefined) return json({ result: null });
  if (typeof value === "bigint") return json({ result: value.toString() });
  try {
    return json(value);
  } catch {
    return json({ result: String(value) });
  }
}

/** Cuts an argument dump for the log line. */
export function logArgs(args: unknown, max = 800): string {
  const text = json(args);
  return text.length > max ? text.slice(0, max) + "…" : text;
}

type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
};

const TRUE = new Set(["true", "1", "yes", "on"]);
const FALSE = new Set(["false", "0", "no", "off"]);

/**
 * Normalises model-produced arguments before validation (decision 26): blank
 * strings count as not given; booleans accept true/false/1/0/yes/no/on/off;
 * numbers accept numeric strings; arrays accept a comma-separated string.
 */
export function normaliseArgs(
  args: Record<string, unknown>,
  schema: JsonSchema,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(args)) {
    const prop = schema.properties?.[key];
    const type = Array.isArray(prop?.type) ? prop?.type[0] : prop?.type;
    let value = raw;
    if (typeof value === "string" && value.trim() === "") continue;
    if (typeof value === "string" && prop) {
      const v = value.trim();
      if (type === "boolean") {
        if (TRUE.has(v.toLowerCase())) value = true;
        else if (FALSE.has(v.toLowerCase())) value = false;
      } else if (
        (type === "number" || type === "integer") && v !== "" && Number.isFinite(Number(v))
      ) {
        value = Number(v);
      } else if (type === "array") {
        value = v.split(",").map((s) => s.trim()).filter(Boolean);
      }
    }
    if (type === "array" && Array.isArray(value) && prop?.items?.type === "string") {
      value = value.map((x) => (typeof x === "number" ? String(x) : x));
    }
    if (value === null && prop && type !== "null") continue;
    out[key] = value;
  }
  return out;
}

type Validator = (args: Record<string, unknown>) => Record<string, unknown>;

function makeValidator(schema: unknown): Validator {
  let zodSchema: z.ZodType;
  try {
    zodSchema = z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]);
  } catch (error) {
    // A schema zod cannot read is the server's business; do not block calls.
    log.debug(`tool schema not checkable here: ${(error as Error).message}`);
    return (args) => args;
  }
  return (args) => {
    const result = zodSchema.safeParse(args);
    if (result.success) return args;
    const problems = result.error.issues.map((issue) => {
      const where = issue.path.length ? `${issue.path.join(".")}: ` : "";
      if (issue.code === "invalid_type" && issue.input === undefined) return `${where}is required`;
      if (issue.code === "unrecognized_keys") return `unknown argument(s) ${issue.keys.join(", ")}`;
      return `${where}${issue.message}`;
    });
    throw new ToolArgumentError(problems.join("; "));
  };
}

/**
 * Merges MCP and built-in tools (decision 11): MCP tools first in server
 * order; a name offered by two servers goes to the first; a built-in whose
 * name an MCP server offers is replaced. Each loser is reported.
 */
export function mergeTools(
  mcp: readonly Tool[],
  builtins: readonly Tool[],
): { tools: Tool[]; dropped: string[] } {
  const byName = new Map<string, Tool>();
  const dropped: string[] = [];
  for (const tool of mcp) {
    const name = tool.definition.function.name;
    const winner = byName.get(name);
    if (winner) {
      dropped.push(
        `MCP tool "${name}" of server "${tool.server}" is ignored: server "${winner.server}" offers it first`,
      );
    } else byName.set(name, tool);
  }
  for (const tool of builtins) {
    const name = tool.definition.function.name;
    const winner = byName.get(name);
    if (winner) {
      dropped.push(
        `Built-in tool "${name}" is replaced by the MCP tool of server "${winner.server}"`,
      );
    } else byName.set(name, tool);
  }
  return { tools: [...byName.values()], dropped };
}

/** The tools offered to the model, and the dispatcher for their calls. */
export class ToolRegistry {
  readonly #tools = new Map<string, Tool>();
  readonly #validators = new Map<string, Validator>();
  readonly #options: RegistryOptions;

  /** A registry offering `tools`. */
  constructor(tools: readonly Tool[] = [], options: RegistryOptions = {}) {
    this.#options = options;
    this.setTools(tools);
  }

  /** Replaces the tool set (an MCP server connected late, a tool list changed). */
  setTools(tools: readonly Tool[]): void {
    this.#tools.clear();
    this.#validators.clear();
    for (const tool of tools) this.#tools.set(tool.definition.function.name, tool);
  }

  /** Number of tools. */
  get size(): number {
    return this.#tools.size;
  }

  /** Counts by source, for the startup log. */
  counts(): { mcp: number; builtin: number } {
    let mcp = 0;
    for (const t of this.#tools.values()) if (t.source === "mcp") mcp++;
    return { mcp, builtin: this.#tools.size - mcp };
  }

  /** The definitions sent to the model. */
  definitions(): ToolDefinition[] {
    return [...this.#tools.values()].map((t) => t.definition);
  }

  /** Tool names. */
  names(): string[] {
    return [...this.#tools.keys()];
  }

  #validator(tool: Tool): Validator {
    const name = tool.definition.function.name;
    let v = this.#validators.get(name);
    if (!v) {
      v = makeValidator(tool.definition.function.parameters ?? { type: "object" });
      this.#validators.set(name, v);
    }
    return v;
  }

  /**
   * Runs a call and returns the string for the model. Never throws: unknown
   * tools, bad arguments, failures and timeouts become `{"error": ...}`.
   */
  async call(
    name: string,
    rawArgs: Record<string, unknown>,
    options: { signal?: AbortSignal } = {},
  ): Promise<ToolCallResult> {
    const tool = this.#tools.get(name);
    if (!tool) {
      log.warn(`Model called unknown tool "${name}"`);
      // One label for every unknown name: the model makes them up.
      metrics.toolCall("(unknown)", "error");
      return { content: errorResult(`Unknown tool: ${name}`), images: [], ok: false };
    }
    log.info(
      `Tool (${tool.source === "mcp" ? "MCP" : "builtin"}): ${name} args=${logArgs(rawArgs)}`,
    );
    const timeoutMs = tool.timeoutMs ?? this.#options.timeoutMs ?? 60_000;
    const timeout = new AbortController();
    const signal = options.signal
      ? AbortSignal.any([options.signal, timeout.signal])
      : timeout.signal;
    try {
      const schema = (tool.definition.function.parameters ?? {}) as JsonSchema;
      let args = normaliseArgs(rawArgs, schema);
      if (tool.validate) args = this.#validator(tool)(args);
      const value = await deadline(tool.call(args, { signal }), timeoutMs).catch((error) => {
        // The tool is told too, so it can stop its work.
        if (error instanceof DeadlineError) timeout.abort(error);
        throw error;
      });
      const output = value instanceof ToolOutput ? value : new ToolOutput(normaliseResult(value));
      const images = output.images.length
        ? output.images
        : await this.#imageByPath(name, output.content);
      metrics.toolCall(name, isErrorResult(output.content) ? "error" : "ok");
      return { content: this.#cap(output.content), images, ok: true };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log.warn(`Tool ${name} failed: ${message}`);
      metrics.toolCall(name, "error");
      const content = error instanceof ToolArgumentError
        ? errorResult(`Invalid arguments for ${name}: ${message}`)
        : errorResult(`Tool execution error for ${name}: ${message}`);
      return { content, images: [], ok: false };
    }
  }

  // The original posted any local .png a result named; we only post files
  // from the images directory, so a tool (or a prompt injection) cannot
  // exfiltrate arbitrary files.
  async #imageByPath(name: string, content: string): Promise<ToolImage[]> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(content);
    } catch {
      return [];
    }
    if (!parsed || typeof parsed !== "object") return [];
    const record = parsed as Record<string, unknown>;
    const path = typeof record.result === "string" && record.result ? record.result : record.path;
    if (typeof path !== "string" || !/\.(png|jpe?g|webp|gif)$/i.test(path)) return [];
    const dir = this.#options.imagesDir;
    if (!dir) {
      log.warn(`Tool ${name} named image ${path}; not posted (no images directory)`);
      return [];
    }
    try {
      const found = await readImageFrom(dir, path);
      if ("image" in found) return [found.image];
      log.warn(`Tool ${name} named image ${path}; not posted: ${found.refused}`);
    } catch (error) {
      log.warn(`Tool ${name} named image ${path}; not posted: ${(error as Error).message}`);
    }
    return [];
  }

  #cap(content: string): string {
    const max = this.#options.maxResultChars ?? 100_000;
    if (content.length <= max) return content;
    return json({
      truncated: true,
      note: `result cut from ${content.length} to ${max} characters`,
      result: content.slice(0, max),
    });
  }
}
