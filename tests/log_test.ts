import { doesNotMatch, match, ok, strictEqual } from "node:assert/strict";
import { type LogRecord, resetSync } from "@logtape/logtape";
import {
  formatRecord,
  getLogger,
  type LogLevel,
  parseLevel,
  redact,
  registerSecret,
  setupLogging,
} from "../lib/log.ts";

// Secrets are process-wide; every test registers its own distinct values.

Deno.test("redact replaces a registered secret with *** wherever it occurs", () => {
  registerSecret("sk-live-abcdef123456");
  strictEqual(
    redact("key=sk-live-abcdef123456 and again sk-live-abcdef123456!"),
    "key=*** and again ***!",
  );
});

Deno.test("redact leaves text without secrets unchanged", () => {
  registerSecret("tok-zzzz-9999");
  strictEqual(redact("nothing to hide here"), "nothing to hide here");
});

Deno.test("registerSecret ignores values shorter than 4 characters", () => {
  registerSecret("abc");
  registerSecret("");
  registerSecret(undefined);
  registerSecret(null);
  strictEqual(redact("abc abcd is fine"), "abc abcd is fine");
});

Deno.test("registerSecret accepts a value of exactly 4 characters", () => {
  registerSecret("q7#Z");
  strictEqual(redact("pin q7#Z"), "pin ***");
});

Deno.test("redact hides all of a secret that contains another, shorter secret", () => {
  registerSecret("hunter22");
  registerSecret("hunter22-and-more-secret-tail");
  strictEqual(redact("token hunter22-and-more-secret-tail"), "token ***");
  strictEqual(redact("password hunter22"), "password ***");
});

/** A record as LogTape makes it for a tagged template (`log.info\`a ${x}\``). */
function record(
  message: readonly unknown[],
  level: LogLevel = "info",
  category: string[] = ["infinigpt", "bot"],
): LogRecord {
  return {
    category,
    level,
    message,
    rawMessage: message.length === 1 ? message[0] : message.filter((_, i) => i % 2 === 0),
    timestamp: Date.UTC(2026, 10, 21, 14, 22, 1, 123),
    properties: {},
  } as LogRecord;
}

Deno.test("formatRecord shows time, level, category and message", () => {
  const line = formatRecord(record(["Model set to ", "gpt-4.1-nano", ""], "warning"));
  strictEqual(line, "2026-11-21T14:22:01.123Z WARNING bot: Model set to gpt-4.1-nano");
});

Deno.test("formatRecord joins nested categories with dots", () => {
  const line = formatRecord(record(["hello"], "debug", ["infinigpt", "handlers", "ai"]));
  match(line, / DEBUG\s+handlers\.ai: hello$/);
});

Deno.test("formatRecord renders errors by message and objects as JSON", () => {
  const line = formatRecord(record(["a ", new Error("broken"), " b ", { x: 1 }, ""]));
  match(line, /: a broken b \{"x":1\}$/);
});

Deno.test("formatRecord never shows a registered secret, even inside values", () => {
  registerSecret("syt_supersecret_token_42");
  const line = formatRecord(
    record([
      "login with syt_supersecret_token_42 ",
      new Error("401 for token syt_supersecret_token_42"),
      " ",
      { access_token: "syt_supersecret_token_42" },
      "",
    ], "error"),
  );
  ok(!line.includes("syt_supersecret_token_42"), line);
  match(line, /ERROR/);
  match(line, /login with \*\*\*/);
});

Deno.test("formatRecord hides a secret with quotes or backslashes inside a JSON value", () => {
  const secret = 'pa"ss\\word!42';
  registerSecret(secret);
  const line = formatRecord(record(["config ", { password: secret }, ""]));
  ok(!line.includes(secret), line);
  ok(!line.includes(JSON.stringify(secret).slice(1, -1)), line);
});

Deno.test("a logged message keeps braces (JSON, code) as written", () => {
  const lines: string[] = [];
  setupLogging({ level: "debug", output: { write: (line) => lines.push(line) } });
  try {
    getLogger("test").info('args={"city":"Zürich"} and {braces}');
    getLogger("test").debug("code: function f() { return {a: 1}; }");
  } finally {
    resetSync();
  }
  strictEqual(lines.length, 2, lines.join("\n"));
  ok(lines[0].endsWith('test: args={"city":"Zürich"} and {braces}'), lines[0]);
  ok(lines[1].endsWith("test: code: function f() { return {a: 1}; }"), lines[1]);
});

Deno.test("setupLogging drops records below the chosen level and redacts what it writes", () => {
  registerSecret("pw-very-secret-77");
  const lines: string[] = [];
  setupLogging({ level: "warning", output: { write: (line) => lines.push(line) } });
  try {
    const log = getLogger("test");
    log.info("not shown");
    log.warn("password pw-very-secret-77 rejected");
  } finally {
    resetSync();
  }
  strictEqual(lines.length, 1, lines.join("\n"));
  match(lines[0], /WARNING test: password \*\*\* rejected$/);
  doesNotMatch(lines[0], /pw-very-secret-77/);
});

const levels: Array<[input: string | undefined, want: LogLevel | undefined]> = [
  ["DEBUG", "debug"],
  ["debug", "debug"],
  ["INFO", "info"],
  ["Info", "info"],
  ["WARNING", "warning"],
  ["warning", "warning"],
  ["ERROR", "error"],
  ["error", "error"],
  ["CRITICAL", "fatal"],
  ["critical", "fatal"],
  [" info ", "info"],
  ["verbose", undefined],
  ["warnings", undefined],
  ["", undefined],
  [undefined, undefined],
  ["10", undefined],
  ["constructor", undefined],
  ["__proto__", undefined],
];

for (const [input, want] of levels) {
  Deno.test(`parseLevel(${JSON.stringify(input)}) is ${want ?? "rejected"}`, () => {
    strictEqual(parseLevel(input), want);
  });
}

Deno.test("a message logged with LogTape properties still fills its placeholders", () => {
  const lines: string[] = [];
  setupLogging({ level: "info", output: { write: (line) => lines.push(line) } });
  try {
    getLogger("test").info("user {name} joined", { name: "bob" });
  } finally {
    resetSync();
  }
  strictEqual(lines.length, 1);
  ok(lines[0].endsWith("test: user bob joined"), lines[0]);
});

Deno.test("json format: one JSON object per line, secrets masked, braces shown as written", () => {
  registerSecret('pw"with\\quotes-7781');
  registerSecret("sk-json-secret-5566");
  const lines: string[] = [];
  setupLogging({ level: "info", format: "json", output: { write: (l) => lines.push(l) } });
  try {
    getLogger("bot").info('key sk-json-secret-5566 in {"a": 1}');
    getLogger("bot").warn(`login failed for ${JSON.stringify({ pw: 'pw"with\\quotes-7781' })}`);
    getLogger("bot").debug("not shown at info");
  } finally {
    resetSync();
  }
  strictEqual(lines.length, 2);
  for (const line of lines) {
    strictEqual(line.includes("\n"), false);
    doesNotMatch(line, /5566|7781/);
  }
  const first = JSON.parse(lines[0]);
  strictEqual(first.message, 'key *** in {"a": 1}');
  strictEqual(first.level, "INFO");
  strictEqual(first.logger, "bot");
  ok(!Number.isNaN(Date.parse(first["@timestamp"])));
  strictEqual(JSON.parse(lines[1]).message, 'login failed for {"pw":"***"}');
});
