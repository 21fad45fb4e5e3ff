/**
 * Config fuzzing: a seeded generator breaks a valid config in many ways
 * (deleted keys, wrong types, truncated or garbled JSON, odd roots, deep
 * nesting). Every broken config must give a ConfigError with its problems
 * listed, never another exception; through the real CLI, exit code 2 and a
 * clean error list without a stack trace.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError, loadConfig, parseConfigText, validateConfig } from "../lib/config.ts";
import { rawConfig } from "./fixtures/harness.ts";
import { windowsSystemEnv } from "./fixtures/platform.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const SEED = 0x1f2e3d4c;
const PER_KIND = 70;

// ---------------------------------------------------------------------------
// The generator

/** mulberry32: a small seeded PRNG, so every run sees the same configs. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Path = Array<string | number>;

/** A valid config with every section present, so there is much to break. */
function baseConfig(): Record<string, Json> {
  return rawConfig("http://127.0.0.1:9/v1", {
    llm: {
      omit_options: ["provider:google", "gpt-5*"],
      max_tool_rounds: 4,
      max_concurrency: 4,
      verbose: false,
      thinking: true,
      ollama_url: "localhost:11434",
      rate_limit: { requests_per_minute: 10, daily_tokens: 100000 },
      mcp_servers: {
        files: { command: "mcp-files", args: ["--root", "/tmp"], env: { A: "b" } },
        remote: { url: "https://mcp.example.org/mcp", headers: { X: "y" }, transport: "auto" },
        bare: "https://mcp.example.org/sse",
        off: null,
      },
    },
    matrix: {
      channels: ["#general:test", "!abc:test"],
      device_id: "DEV",
      store_path: "store",
      e2e: true,
      allowed_users: ["@alice:test"],
      verification: { accept_from: "admins" },
    },
    markdown: true,
    tools: {
      enabled: true,
      allow_private_urls: false,
      fetch_max_bytes: 100000,
      result_max_chars: 50000,
      endpoints: { geocoding: "https://geocoding.example.org/v1" },
    },
  }) as Record<string, Json>;
}

/** Keys whose removal always makes the config invalid. */
const REQUIRED: Path[] = [
  ["llm"],
  ["matrix"],
  ["llm", "models"],
  ["llm", "default_model"],
  ["matrix", "server"],
  ["matrix", "username"],
  ["matrix", "password"],
];

function allPaths(value: Json, path: Path = [], out: Path[] = []): Path[] {
  if (path.length) out.push(path);
  if (Array.isArray(value)) value.forEach((v, i) => allPaths(v, [...path, i], out));
  else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) allPaths(v, [...path, k], out);
  }
  return out;
}

function parentOf(root: Json, path: Path): Record<string, Json> | Json[] | undefined {
  let node: Json = root;
  for (const key of path.slice(0, -1)) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string, Json>)[key as string];
  }
  return node !== null && typeof node === "object" ? node : undefined;
}

function setAt(root: Json, path: Path, value: Json): void {
  const parent = parentOf(root, path);
  if (parent) (parent as Record<string, Json>)[path.at(-1) as string] = value;
}

function deleteAt(root: Json, path: Path): void {
  const parent = parentOf(root, path);
  if (Array.isArray(parent)) parent.splice(path.at(-1) as number, 1);
  else if (parent) delete parent[path.at(-1) as string];
}

function nested(depth: number, kind: "array" | "object"): Json {
  let value: Json = "bottom";
  for (let i = 0; i < depth; i++) value = kind === "array" ? [value] : { deeper: value };
  return value;
}

/** Strings that are valid for nothing in particular. */
const JUNK_STRINGS = [
  "",
  "   ",
  "NaN",
  "Infinity",
  "-Infinity",
  "1e999",
  "0x1F",
  "null",
  "undefined",
  "true",
  "[object Object]",
  "\u0000\u0001\u001b[31m",
  "\ud800",
  "\uffff\ufffe",
  "💥🔥 \u202e\u200b",
  "Ωmega\u0301 ß ﬁ",
  "line one\nline two",
  "tab\there\r\n",
  "${env:NOPE}",
  "http://",
  "@:",
  "#:",
  "a".repeat(5000),
];

function junk(rand: () => number): Json {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)];
  switch (Math.floor(rand() * 12)) {
    case 0:
      return null;
    case 1:
      return pick([0, -1, 1.5, -0.0001, 3601, 2 ** 53 + 1, 1e308, -1e308, Number.MAX_VALUE]);
    case 2:
    case 3:
      return pick(JUNK_STRINGS);
    case 4:
      return [];
    case 5:
      return [pick(JUNK_STRINGS), 7, null, { x: [] }];
    case 6:
      return {};
    case 7:
      return { [pick(JUNK_STRINGS) || "k"]: pick(JUNK_STRINGS), nested: { list: [1, "2"] } };
    case 8:
      return pick([true, false]);
    case 9:
      return nested(1 + Math.floor(rand() * 50), pick(["array", "object"] as const));
    case 10:
      return pick([0, 1]) ? 1e21 : -2147483649;
    default:
      return pick(JUNK_STRINGS).split("");
  }
}

/** One generated config: a JS value or a file's text. */
interface Case {
  id: string;
  what: string;
  value?: Json;
  text?: string;
}

type Generator = (rand: () => number, i: number) => Case;

const pretty = (v: Json) => JSON.stringify(v, null, 2);

const GENERATORS: Record<string, Generator> = {
  "a required key deleted": (rand, i) => {
    const value = baseConfig();
    const path = REQUIRED[i % REQUIRED.length];
    deleteAt(value, path);
    // Half of them also lose a random other key.
    if (rand() < 0.5) {
      const paths = allPaths(value);
      deleteAt(value, paths[Math.floor(rand() * paths.length)]);
    }
    return { id: "", what: `delete ${path.join(".")}`, value };
  },
  "a random key deleted": (rand) => {
    const value = baseConfig();
    const paths = allPaths(value);
    const path = paths[Math.floor(rand() * paths.length)];
    deleteAt(value, path);
    return { id: "", what: `delete ${path.join(".")}`, value };
  },
  "a wrong value at a random path": (rand) => {
    const value = baseConfig();
    const paths = allPaths(value);
    const path = paths[Math.floor(rand() * paths.length)];
    const bad = junk(rand);
    setAt(value, path, bad);
    return { id: "", what: `${path.join(".")} = ${JSON.stringify(bad).slice(0, 60)}`, value };
  },
  "several mutations at once": (rand) => {
    const value = baseConfig();
    const done: string[] = [];
    for (let n = 2 + Math.floor(rand() * 5); n > 0; n--) {
      const paths = allPaths(value);
      if (!paths.length) break;
      const path = paths[Math.floor(rand() * paths.length)];
      if (rand() < 0.3) {
        deleteAt(value, path);
        done.push(`-${path.join(".")}`);
      } else {
        setAt(value, path, junk(rand));
        done.push(`${path.join(".")}=…`);
      }
    }
    // Junk keys too, at the root and inside records (models, mcp_servers).
    const where = [[], ["llm"], ["llm", "models"], ["llm", "mcp_servers"], ["matrix"]][
      Math.floor(rand() * 5)
    ];
    const holder = where.reduce<Json>(
      (node, k) => (node && typeof node === "object" ? (node as Record<string, Json>)[k] : null),
      value,
    );
    if (holder && typeof holder === "object" && !Array.isArray(holder)) {
      holder[JUNK_STRINGS[Math.floor(rand() * JUNK_STRINGS.length)] || "x"] = junk(rand);
      done.push(`junk key in ${where.join(".") || "(root)"}`);
    }
    return { id: "", what: done.join(", "), value };
  },
  "truncated JSON text": (rand) => {
    const text = rand() < 0.5 ? pretty(baseConfig()) : JSON.stringify(baseConfig());
    const at = Math.floor(rand() * text.length);
    return { id: "", what: `cut at ${at} of ${text.length}`, text: text.slice(0, at) };
  },
  "random bytes in the JSON text": (rand) => {
    let text = rand() < 0.7 ? pretty(baseConfig()) : JSON.stringify(baseConfig());
    const pool = [
      '"',
      "{",
      "}",
      "[",
      "]",
      ",",
      ":",
      "x",
      "\n",
      "\\",
      "\u0000",
      "é",
      "💥",
      "1",
      "t",
    ];
    const n = 1 + Math.floor(rand() * 6);
    for (let k = 0; k < n; k++) {
      const at = Math.floor(rand() * text.length);
      const chunk = rand() < 0.5
        ? pool[Math.floor(rand() * pool.length)]
        : String.fromCharCode(Math.floor(rand() * 0x3000));
      text = rand() < 0.5
        ? text.slice(0, at) + chunk + text.slice(at)
        : text.slice(0, at) + chunk + text.slice(at + 1);
    }
    return { id: "", what: `${n} edit(s) of the text`, text };
  },
  "numbers out of range in the text": (rand) => {
    const base = baseConfig();
    const numeric = allPaths(base).filter((p) => {
      const parent = parentOf(base, p) as Record<string, Json> | undefined;
      return typeof parent?.[p.at(-1) as string] === "number";
    });
    const path = numeric[Math.floor(rand() * numeric.length)];
    const marker = "__NUMBER__";
    setAt(base, path, marker);
    const literal = ["1e999", "-1e999", "1e-999", "123456789012345678901234567890", "-0", "0.0"][
      Math.floor(rand() * 6)
    ];
    return {
      id: "",
      what: `${path.join(".")} = ${literal}`,
      text: pretty(base).replace(`"${marker}"`, literal),
    };
  },
  "an odd root or file": (rand, i) => {
    const texts = [
      "",
      "   \n\t ",
      "null",
      "true",
      "0",
      "-1e999",
      '"config"',
      "[]",
      JSON.stringify([baseConfig()]),
      "\ufeff" + JSON.stringify(baseConfig()),
      "{}",
      '{"llm": null, "matrix": null}',
      '{"llm": [], "matrix": "x"}',
      "\u0000".repeat(64),
      "{" + '"a":'.repeat(3) + "1}",
      "// a comment\n" + JSON.stringify(baseConfig()),
      JSON.stringify(baseConfig()) + ",",
      "{'llm': {}}",
    ];
    const text = i < texts.length ? texts[i] : texts[Math.floor(rand() * texts.length)];
    return { id: "", what: `text ${JSON.stringify(text.slice(0, 40))}`, text };
  },
  "deep nesting": (rand, i) => {
    const depth = [10, 100, 1000, 5000][i % 4];
    const kind = rand() < 0.5 ? "array" : "object";
    if (i % 5 === 4) {
      // Only in the text: deeper than any JSON.parse wants to go.
      const n = 200_000;
      return { id: "", what: `${n} open brackets`, text: "[".repeat(n) + "]".repeat(n) };
    }
    const value = baseConfig();
    const paths = allPaths(value);
    const path = i % 3 === 0
      ? ["llm", "models", "openai"]
      : paths[Math.floor(rand() * paths.length)];
    setAt(value, path, nested(depth, kind));
    return { id: "", what: `${path.join(".")} = ${kind} nested ${depth} deep`, value };
  },
};

function generate(): Array<{ kind: string; cases: Case[] }> {
  const rand = prng(SEED);
  return Object.entries(GENERATORS).map(([kind, gen], k) => ({
    kind,
    cases: Array.from({ length: PER_KIND }, (_, i) => {
      const c = gen(rand, i);
      return { ...c, id: `${k}.${i}` };
    }),
  }));
}

const KINDS = generate();

// ---------------------------------------------------------------------------
// In process: validateConfig and loadConfig

type Outcome =
  | { valid: true }
  | { valid: false; error: ConfigError }
  | { valid: false; wrong: unknown };

function outcome(run: () => unknown): Outcome {
  try {
    const loaded = run() as { config?: { llm?: unknown; matrix?: unknown } };
    ok(loaded.config?.llm && loaded.config?.matrix, "a valid result has llm and matrix");
    return { valid: true };
  } catch (error) {
    return error instanceof ConfigError ? { valid: false, error } : { valid: false, wrong: error };
  }
}

async function outcomeAsync(run: () => Promise<unknown>): Promise<Outcome> {
  try {
    const loaded = await run() as { config?: { llm?: unknown; matrix?: unknown } };
    ok(loaded.config?.llm && loaded.config?.matrix, "a valid result has llm and matrix");
    return { valid: true };
  } catch (error) {
    return error instanceof ConfigError ? { valid: false, error } : { valid: false, wrong: error };
  }
}

/** Writes a case as a config file; object cases as JSON. */
async function writeCase(dir: string, c: Case): Promise<string> {
  const path = join(dir, `config-${c.id}.json`);
  await Deno.writeTextFile(path, c.text ?? JSON.stringify(c.value));
  return path;
}

/** Both ways in: the object to validateConfig (when there is one) and the file to loadConfig. */
async function check(dir: string, c: Case): Promise<Outcome[]> {
  const results: Outcome[] = [];
  if (c.value !== undefined) results.push(outcome(() => validateConfig(c.value)));
  const path = await writeCase(dir, c);
  results.push(await outcomeAsync(() => loadConfig({ path, env: {} })));
  return results;
}

function describeWrong(c: Case, wrong: unknown): string {
  const e = wrong as Error;
  return `case ${c.id} (${c.what}) threw ${e?.constructor?.name}: ${e?.stack ?? e}`;
}

for (const { kind, cases } of KINDS) {
  Deno.test(`config fuzz, ${kind}: every broken config is a ConfigError listing its problems`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "infinigpt-fuzz-" });
    try {
      let broken = 0;
      const failures: string[] = [];
      for (const c of cases) {
        const results = await check(dir, c);
        // The object and its JSON text must agree on validity.
        if (results.length === 2 && results[0].valid !== results[1].valid) {
          failures.push(`case ${c.id} (${c.what}): validateConfig and loadConfig disagree`);
        }
        for (const r of results) {
          if (r.valid) continue;
          if ("wrong" in r) {
            failures.push(describeWrong(c, r.wrong));
            continue;
          }
          const e = r.error;
          ok(e.message.length > 0);
          if (!e.message.startsWith("Config file not found:")) {
            if (e.errors.length === 0) failures.push(`case ${c.id} (${c.what}): empty errors`);
            if (!e.message.startsWith("Configuration errors:\n- ")) {
              failures.push(`case ${c.id} (${c.what}): message ${JSON.stringify(e.message)}`);
            }
            for (const line of e.errors) {
              if (typeof line !== "string" || !line.trim()) {
                failures.push(`case ${c.id} (${c.what}): blank error ${JSON.stringify(line)}`);
              }
            }
          }
        }
        if (results.every((r) => !r.valid)) broken++;
      }
      deepStrictEqual(failures.slice(0, 5), [], `${failures.length} failure(s)`);
      // Random deletions and byte edits may leave a valid config (most keys have
      // defaults): those were checked valid above and are not counted.
      const least = kind === "a random key deleted" ? 1 : PER_KIND / 2;
      ok(broken >= least, `only ${broken} of ${cases.length} cases were broken`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("config fuzz generates at least 300 broken configs, the same ones on every run", async () => {
  const dir = await Deno.makeTempDir({ prefix: "infinigpt-fuzz-" });
  try {
    let broken = 0;
    for (const { cases } of KINDS) {
      for (const c of cases) {
        if ((await check(dir, c)).every((r) => !r.valid)) broken++;
      }
    }
    ok(broken >= 300, `only ${broken} broken configs`);
    // Seeded: a second generation is identical.
    deepStrictEqual(
      generate().map((k) => k.cases.map((c) => c.text ?? JSON.stringify(c.value))),
      KINDS.map((k) => k.cases.map((c) => c.text ?? JSON.stringify(c.value))),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Every error of a broken config: one line each, so the CLI prints one "- " line per problem. */
function multiLineErrors(): string[] {
  const found: string[] = [];
  for (const { cases } of KINDS) {
    for (const c of cases) {
      const tries = c.value !== undefined
        ? [() => validateConfig(c.value)]
        : [() => validateConfig(parseConfigText(c.text!, "x"))];
      for (const run of tries) {
        const r = outcome(run);
        if (!r.valid && "error" in r) {
          for (const e of r.error.errors) {
            if (/[\r\n]/.test(e)) found.push(`case ${c.id} (${c.what}): ${JSON.stringify(e)}`);
          }
        }
      }
    }
  }
  return found;
}

Deno.test({
  name: "no config error spans more than one line",
  fn: () => {
    const found = multiLineErrors();
    deepStrictEqual(found.slice(0, 5), [], `${found.length} multi-line error(s)`);
  },
});

// ---------------------------------------------------------------------------
// Through the real CLI

/** 30 broken cases taken round-robin from every kind (the missing file is added by the test). */
function cliCases(): Case[] {
  const broken = KINDS.map(({ cases }) =>
    cases.filter((c) =>
      c.value !== undefined ? !outcome(() => validateConfig(c.value)).valid : !isValidText(c.text!)
    )
  );
  const picked: Case[] = [];
  for (let i = 0; picked.length < 30; i++) {
    for (const list of broken) if (list[i] && picked.length < 30) picked.push(list[i]);
  }
  return picked;
}

function isValidText(text: string): boolean {
  try {
    return outcome(() => validateConfig(JSON.parse(text))).valid;
  } catch {
    return false;
  }
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function runMain(args: string[]): Promise<Run> {
  const env: Record<string, string> = { NO_COLOR: "1", ...windowsSystemEnv() };
  for (const name of ["HOME", "PATH", "DENO_DIR", "XDG_CACHE_HOME"]) {
    const value = Deno.env.get(name);
    if (value) env[name] = value;
  }
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts", ...args],
    cwd: ROOT,
    clearEnv: true,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** Runs `items` through `fn`, `limit` at a time. */
async function pool<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  }));
  return results;
}

/** The problems of one CLI run of a broken config; empty when it behaved. */
function cliProblems(run: Run, lineChecks: boolean): string[] {
  const problems: string[] = [];
  if (run.code !== 2) problems.push(`exit code ${run.code}`);
  if (/^\s+at /m.test(run.stderr) || /error: Uncaught/.test(run.stderr)) {
    problems.push("a stack trace on stderr");
  }
  if (/^\s+at /m.test(run.stdout) || /error: Uncaught/.test(run.stdout)) {
    problems.push("a stack trace on stdout");
  }
  if (run.stdout !== "") problems.push(`stdout is not empty: ${run.stdout.slice(0, 200)}`);
  const lines = run.stderr.replace(/\n$/, "").split("\n");
  if (lines[0].startsWith("Config file not found:")) {
    if (lines.length !== 1) problems.push("more than the not-found line");
  } else if (lines[0] !== "Configuration errors:") {
    problems.push(`stderr starts with ${JSON.stringify(lines[0])}`);
  } else {
    if (lines.length < 2) problems.push("no error lines");
    if (lineChecks) {
      for (const line of lines.slice(1)) {
        if (!line.startsWith("- ")) problems.push(`line without "- ": ${JSON.stringify(line)}`);
      }
    }
  }
  return problems;
}

/** True when the case hits the multi-line bug above (its errors are checked there). */
function hasMultiLineError(c: Case): boolean {
  try {
    if (c.value !== undefined) validateConfig(c.value);
    else validateConfig(JSON.parse(c.text!));
  } catch (error) {
    if (error instanceof SyntaxError) return /[\r\n]/.test(error.message);
    if (error instanceof ConfigError) return error.errors.some((e) => /[\r\n]/.test(e));
  }
  return false;
}

for (const command of [["check-config"], []]) {
  const name = command.length ? "check-config" : "the bare run command";
  Deno.test(`subprocess: ${name} on 30 broken configs exits 2 with a clean error list and no stack trace`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "infinigpt-fuzz-cli-" });
    try {
      const cases = cliCases();
      strictEqual(cases.length, 30);
      const missing: Case = { id: "missing", what: "a file that does not exist" };
      const runs = await pool([...cases, missing], 6, async (c) => {
        const path = c === missing ? join(dir, "nope", "config.json") : await writeCase(dir, c);
        return { c, path, run: await runMain([...command, "--config", path]) };
      });
      const failures: string[] = [];
      for (const { c, path, run } of runs) {
        const problems = cliProblems(run, !hasMultiLineError(c));
        if (c === missing && run.stderr !== `Config file not found: ${path}\n`) {
          problems.push(`not-found message ${JSON.stringify(run.stderr)}`);
        }
        if (problems.length) {
          failures.push(`case ${c.id} (${c.what}): ${problems.join("; ")}\n${run.stderr}`);
        }
      }
      deepStrictEqual(failures, []);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test({
  name: "subprocess: a JSON syntax error is reported on one '- ' line",
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "infinigpt-fuzz-cli-" });
    try {
      const path = join(dir, "config.json");
      await Deno.writeTextFile(path, pretty(baseConfig()).replace('"e2e": true', '"e2e": tru'));
      const run = await runMain(["check-config", "--config", path]);
      deepStrictEqual(cliProblems(run, true), [], run.stderr);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "a JSON syntax error next to the Matrix password does not print any of it",
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "infinigpt-fuzz-" });
    try {
      const password = "test-password-123";
      const path = join(dir, "config.json");
      await Deno.writeTextFile(path, pretty(baseConfig()).replace(`"${password}"`, password));
      const result = await outcomeAsync(() => loadConfig({ path, env: {} }));
      ok(!result.valid && "error" in result, "the config is rejected");
      for (let i = 0; i + 6 <= password.length; i++) {
        const part = password.slice(i, i + 6);
        ok(!result.error.message.includes(part), `"${part}" in ${result.error.message}`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
