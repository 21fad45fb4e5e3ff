/**
 * Logging: LogTape with one category per module, written to stderr, with every
 * registered secret replaced by `***` before a line leaves the process.
 *
 * @module
 */
import {
  configureSync,
  getJsonLinesFormatter,
  getLogger as getLogTapeLogger,
  type Logger,
  type LogLevel,
  type LogRecord,
  resetSync,
} from "@logtape/logtape";

export type { Logger, LogLevel };

const ROOT = "infinigpt";
/** Secrets, longest first, so one that contains another is masked whole. */
let secrets: string[] = [];

/**
 * Registers a value that must never appear in logs (password, token, API key).
 * Values shorter than 4 characters are ignored: masking them would garble
 * ordinary text and they are not real secrets. The value's JSON-escaped form
 * (quotes, backslashes) is masked too, for secrets inside logged objects.
 */
export function registerSecret(value: string | undefined | null): void {
  if (!value || value.length < 4) return;
  const forms = new Set([value, JSON.stringify(value).slice(1, -1)]);
  secrets = [...new Set([...secrets, ...forms])].sort((a, b) => b.length - a.length);
}

/** Replaces every registered secret in `text` with `***`. */
export function redact(text: string): string {
  let out = text;
  for (const secret of secrets) {
    if (out.includes(secret)) out = out.replaceAll(secret, "***");
  }
  return out;
}

/** Returns the logger for a module, e.g. `getLogger("llm")`. */
export function getLogger(...category: string[]): Logger {
  return getLogTapeLogger([ROOT, ...category]);
}

/** Level names accepted by `--log-level` (the reference's Python names included). */
export const LOG_LEVELS: Record<string, LogLevel> = {
  TRACE: "trace",
  DEBUG: "debug",
  INFO: "info",
  WARNING: "warning",
  WARN: "warning",
  ERROR: "error",
  CRITICAL: "fatal",
  FATAL: "fatal",
};

/** Parses a level name case-insensitively; `undefined` when unknown. */
export function parseLevel(name: string | undefined): LogLevel | undefined {
  return name ? LOG_LEVELS[name.trim().toUpperCase()] : undefined;
}

function renderValue(value: unknown): string {
  if (typeof value === "string") return value;
  if (value instanceof Error) return value.message;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Formats a record as `2026-11-21T14:22:01.123Z INFO  bot: message`. */
export function formatRecord(record: LogRecord): string {
  // Our modules log finished strings, not LogTape templates: show those as
  // written, so braces in JSON or code are not read as `{placeholders}`.
  const text = typeof record.rawMessage === "string" && Object.keys(record.properties).length === 0
    ? record.rawMessage
    : record.message.map((part, i) => i % 2 === 0 ? part : renderValue(part)).join("");
  const level = record.level.toUpperCase().padEnd(7);
  const category = record.category.slice(1).join(".") || ROOT;
  const time = new Date(record.timestamp).toISOString();
  return redact(`${time} ${level} ${category}: ${text}`);
}

// The category without our root, as in the text format.
const jsonLines = getJsonLinesFormatter({
  categorySeparator: (category) => category.slice(1).join(".") || ROOT,
});

/**
 * Formats a record as one JSON object (LogTape's JSON Lines formatter:
 * `@timestamp`, `level`, `message`, `logger`, `properties`), masked like the
 * text format. Secrets are registered in their JSON-escaped form too, so
 * they are found inside the JSON string as well.
 */
export function formatJsonRecord(record: LogRecord): string {
  const plain = typeof record.rawMessage === "string" &&
    Object.keys(record.properties).length === 0;
  // Masked before encoding, since JSON escapes a secret's characters (once
  // more for a secret inside logged JSON); the whole line again for properties.
  const message = plain
    ? [redact(record.rawMessage as string)]
    : record.message.map((part, i) => i % 2 === 0 ? redact(part as string) : part);
  return redact(jsonLines({ ...record, message }).trimEnd());
}

/** The log formats of `logging.format`. */
export type LogFormat = "text" | "json";

/** Where formatted lines go; tests replace it to capture output. */
export interface LogOutput {
  write(line: string): void;
}

const encoder = new TextEncoder();
const stderrOutput: LogOutput = {
  write(line) {
    try {
      Deno.stderr.writeSync(encoder.encode(line + "\n"));
    } catch {
      // stderr closed (daemonised with a closed fd): nothing useful left to do.
    }
  },
};

/** Options for {@link setupLogging}. */
export interface LoggingOptions {
  level?: LogLevel;
  output?: LogOutput;
  /** `text` (default) or `json` (one JSON object per line). */
  format?: LogFormat;
}

/**
 * Configures LogTape for the process. Third-party libraries do not log
 * through LogTape, so only our categories reach the sink.
 */
export function setupLogging(options: LoggingOptions = {}): void {
  const output = options.output ?? stderrOutput;
  const format = options.format === "json" ? formatJsonRecord : formatRecord;
  resetSync();
  configureSync({
    reset: true,
    sinks: { main: (record: LogRecord) => output.write(format(record)) },
    loggers: [
      { category: [ROOT], lowestLevel: options.level ?? "info", sinks: ["main"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["main"] },
    ],
  });
}
