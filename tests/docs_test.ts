/**
 * The user documentation follows the code: every config key of the zod
 * schema, every environment variable the bot reads, every command-line flag
 * and subcommand, and every chat command is documented; `config.example.json`
 * holds no key the schema does not know; links between the docs resolve.
 *
 * Each check is a pure function over the texts, so next to the check of the
 * real files there is a test that removes a documented item and expects the
 * check to report it (a check that cannot fail would prove nothing).
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { dirname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { USAGE } from "../lib/cli.ts";
import { configSchema, validateConfig } from "../lib/config.ts";
import { ENV_VARS } from "../lib/env.ts";
import { COMMANDS } from "../lib/handlers/mod.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const read = (path: string) => Deno.readTextFileSync(join(ROOT, path));
const CONFIGURATION_MD = read("docs/configuration.md");
const COMMANDS_MD = read("docs/commands.md");
const HELP_MD = read("help.md");
const MIGRATION_MD = read("docs/migration.md");
const EXAMPLE = JSON.parse(read("config.example.json")) as Record<string, unknown>;

// ---------------------------------------------------------------------------
// The schema's keys.

/** The parts of a zod 4 definition this walk looks at. */
interface Def {
  type: string;
  innerType?: unknown;
  in?: unknown;
  out?: unknown;
  shape?: Record<string, unknown>;
  catchall?: unknown;
  valueType?: unknown;
}

function defOf(schema: unknown): Def {
  return (schema as { _zod: { def: Def } })._zod.def;
}

const WRAPPERS = new Set([
  "optional",
  "default",
  "prefault",
  "nullable",
  "nonoptional",
  "readonly",
  "catch",
]);

/** The schema under optional/default/nullable/… and pipes (preprocess, transform). */
function unwrap(schema: unknown): unknown {
  let node = schema;
  for (;;) {
    const def = defOf(node);
    if (WRAPPERS.has(def.type)) node = def.innerType;
    else if (def.type === "pipe") {
      // z.preprocess(fn, T) is pipe(transform, T); x.transform(fn) is pipe(x, transform).
      node = defOf(def.out).type === "transform" ? def.in : def.out;
    } else return node;
  }
}

/** A documented unit of the config: a dotted key path. */
interface ConfigKey {
  path: string;
  /** The enclosing object's path ("" at the top level). */
  parent: string;
}

/**
 * Every key path of the schema. Objects are walked into (a plain object is a
 * section, not a key); an object that also takes free keys (`llm.options`)
 * is a key itself and so are its declared keys; a record (`llm.models`,
 * `llm.mcp_servers`) is one key; everything else is a leaf.
 */
function schemaKeys(schema: unknown, path = "", parent = "", out: ConfigKey[] = []): ConfigKey[] {
  const def = defOf(unwrap(schema));
  if (def.type !== "object") {
    out.push({ path, parent });
    return out;
  }
  const free = def.catchall !== undefined && defOf(def.catchall).type !== "never";
  if (path && free) out.push({ path, parent });
  for (const [key, child] of Object.entries(def.shape ?? {})) {
    schemaKeys(child, path ? `${path}.${key}` : key, path, out);
  }
  return out;
}

const KEYS = schemaKeys(configSchema);

/** Table rows of a Markdown text, by the code spans of their first cell. */
function rowsByKey(markdown: string): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of markdown.split("\n")) {
    if (!line.startsWith("| ")) continue;
    const first = line.split(" | ")[0];
    for (const m of first.matchAll(/`([^`]+)`/g)) rows.set(m[1], line);
  }
  return rows;
}

/**
 * Keys without a table row of their own (first cell `` `path` ``) in
 * `markdown`; a key inside a documented object (`tools.endpoints.xai`) may
 * instead be named as `` `xai` `` in its parent's row.
 */
function undocumentedKeys(keys: readonly ConfigKey[], markdown: string): string[] {
  const rows = rowsByKey(markdown);
  return keys.filter(({ path, parent }) => {
    if (rows.has(path)) return false;
    const name = path.slice(parent.length + 1);
    return !(parent && rows.get(parent)?.includes("`" + name + "`"));
  }).map((k) => k.path);
}

/** Keys of `value` (skipping `_` comment keys) that the schema does not have. */
function unknownExampleKeys(value: unknown, schema: unknown, path = "", out: string[] = []) {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return out;
  const def = defOf(unwrap(schema));
  if (def.type === "record") {
    for (const [key, child] of Object.entries(value)) {
      unknownExampleKeys(child, def.valueType, `${path}.${key}`, out);
    }
    return out;
  }
  if (def.type !== "object") return out;
  const free = def.catchall !== undefined && defOf(def.catchall).type !== "never";
  for (const [key, child] of Object.entries(value)) {
    if (key.startsWith("_")) continue;
    const at = path ? `${path}.${key}` : key;
    const declared = def.shape?.[key];
    if (declared) unknownExampleKeys(child, declared, at, out);
    else if (!free) out.push(at);
  }
  return out;
}

/** Every key path of a JSON object (objects walked into), comment keys skipped. */
function jsonPaths(value: unknown, path = "", out = new Set<string>()): Set<string> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return out;
  for (const [key, child] of Object.entries(value)) {
    if (key.startsWith("_")) continue;
    const at = path ? `${path}.${key}` : key;
    out.add(at);
    jsonPaths(child, at, out);
  }
  return out;
}

/**
 * What the example may leave out (docs/configuration.md says so): the legacy
 * `matrix.admin`, the ollamarama-style top-level `mcp_servers`, entries
 * of `llm.options` and `tools.endpoints` (their parent is in the example),
 * and `llm.vision_models` (a copied list would stop following the default).
 */
const EXAMPLE_MAY_OMIT = [
  "matrix.admin",
  "mcp_servers",
  "llm.options.*",
  "tools.endpoints.*",
  "llm.vision_models",
];

function missingFromExample(keys: readonly ConfigKey[], example: unknown): string[] {
  const present = jsonPaths(example);
  return keys.map((k) => k.path).filter((path) =>
    !present.has(path) &&
    !EXAMPLE_MAY_OMIT.some((omit) =>
      omit.endsWith(".*") ? path.startsWith(omit.slice(0, -1)) : path === omit
    )
  );
}

Deno.test("the schema walk finds nested, free-form and wrapped keys", () => {
  const paths = KEYS.map((k) => k.path);
  for (
    const path of [
      "llm.models", // record: one key
      "llm.options", // free keys: a key itself ...
      "llm.options.temperature", // ... and its declared keys
      "llm.rate_limit.requests_per_minute", // inside a default()
      "llm.mcp_servers",
      "llm.verbose", // a preprocess pipe
      "matrix.store_key_file", // optional + nullable
      "matrix.verification.accept_from",
      "markdown",
      "tools.endpoints.geocoding",
      "mcp_servers",
    ]
  ) {
    ok(paths.includes(path), `${path} not found in ${paths.join(", ")}`);
  }
  for (const section of ["llm", "matrix", "tools", "llm.rate_limit", "tools.endpoints"]) {
    ok(!paths.includes(section), `${section} is a section, not a key`);
  }
  ok(!paths.some((p) => p.startsWith("llm.models.")), "a record's entries are not keys");
  ok(paths.length > 50, `only ${paths.length} keys found`);
});

Deno.test("every config key of the schema is documented in docs/configuration.md", () => {
  deepStrictEqual(undocumentedKeys(KEYS, CONFIGURATION_MD), []);
});

Deno.test("the key check reports a key whose row is removed, and a child missing from its parent's row", () => {
  const withoutRow = CONFIGURATION_MD.split("\n")
    .filter((line) => !line.startsWith("| `llm.rate_limit.daily_tokens` |")).join("\n");
  deepStrictEqual(undocumentedKeys(KEYS, withoutRow), ["llm.rate_limit.daily_tokens"]);
  const withoutChild = CONFIGURATION_MD.replace("`repeat_penalty` 0.5–2", "repeat penalty 0.5–2");
  deepStrictEqual(undocumentedKeys(KEYS, withoutChild), ["llm.options.repeat_penalty"]);
  // A mention in prose is not a row.
  const proseOnly = CONFIGURATION_MD.replace("| `matrix.device_name` |", "| device name |") +
    "\nSee `matrix.device_name`.\n";
  deepStrictEqual(undocumentedKeys(KEYS, proseOnly), ["matrix.device_name"]);
});

Deno.test("config.example.json has no key the schema does not know", () => {
  deepStrictEqual(unknownExampleKeys(EXAMPLE, configSchema), []);
});

Deno.test("the example check reports a misspelt or stale key", () => {
  const stale = structuredClone(EXAMPLE) as { llm: Record<string, unknown>; matrix: object };
  stale.llm.histroy_size = 24;
  (stale.matrix as Record<string, unknown>).verification = { accept_from: "anyone", mode: "x" };
  (stale as Record<string, unknown>)._comment_ok = "comment keys are fine";
  deepStrictEqual(unknownExampleKeys(stale, configSchema), [
    "llm.histroy_size",
    "matrix.verification.mode",
  ]);
});

Deno.test("config.example.json shows every key except the documented omissions", () => {
  deepStrictEqual(missingFromExample(KEYS, EXAMPLE), []);
});

Deno.test("the example completeness check reports a key left out", () => {
  const partial = structuredClone(EXAMPLE) as { llm: Record<string, unknown> };
  delete partial.llm.tool_timeout;
  deepStrictEqual(missingFromExample(KEYS, partial), ["llm.tool_timeout"]);
});

// ---------------------------------------------------------------------------
// Environment variables, flags and subcommands.

/** The text of a `## heading` section (up to the next `## `). */
function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n## ${heading}\n`);
  if (start === -1) return "";
  const end = markdown.indexOf("\n## ", start + 1);
  return markdown.slice(start, end === -1 ? undefined : end);
}

function codeSpans(markdown: string): Set<string> {
  return new Set([...markdown.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]));
}

function undocumentedEnv(names: readonly string[], markdown: string): string[] {
  const spans = codeSpans(section(markdown, "Environment variables"));
  return names.filter((name) => !spans.has(name));
}

/** `INFINIGPT_*` variables the docs list that nothing reads any more. */
const LAUNCHER_ENV = ["INFINIGPT_LAUNCH_DRY"]; // read by scripts/launch.ts, not the bot
function staleEnv(names: readonly string[], markdown: string): string[] {
  const spans = [...codeSpans(section(markdown, "Environment variables"))];
  return spans.filter((s) => /^INFINIGPT_[A-Z0-9_]+$/.test(s))
    .filter((s) => !names.includes(s) && !LAUNCHER_ENV.includes(s));
}

Deno.test("every environment variable the bot reads is documented", () => {
  deepStrictEqual(undocumentedEnv(ENV_VARS, CONFIGURATION_MD), []);
});

Deno.test("the docs list no INFINIGPT_ variable the bot does not read", () => {
  deepStrictEqual(staleEnv(ENV_VARS, CONFIGURATION_MD), []);
});

Deno.test("the environment checks report a removed and an invented variable", () => {
  const without = CONFIGURATION_MD.split("\n").filter((l) => !l.startsWith("| `NO_COLOR` |"))
    .join("\n");
  deepStrictEqual(undocumentedEnv(ENV_VARS, without), ["NO_COLOR"]);
  // Outside the section it does not count.
  deepStrictEqual(undocumentedEnv(ENV_VARS, without + "\n`NO_COLOR`\n"), ["NO_COLOR"]);
  const invented = CONFIGURATION_MD.replace(
    "| `INFINIGPT_E2E` |",
    "| `INFINIGPT_BOGUS` | nothing |\n| `INFINIGPT_E2E` |",
  );
  deepStrictEqual(staleEnv(ENV_VARS, invented), ["INFINIGPT_BOGUS"]);
});

/** Long flags and subcommands of the usage text. */
function usageItems(usage: string): string[] {
  const flags = [...usage.matchAll(/--[a-z][a-z0-9-]*/g)].map((m) => m[0]);
  const commands = usage.slice(usage.indexOf("Commands:"), usage.indexOf("Options:"))
    .split("\n").map((line) => /^ {2}([a-z-]+) {2,}/.exec(line)?.[1]).filter((c) => c);
  return [...new Set([...flags, ...commands as string[]])];
}

/** Items without a table row (first cell `` `-x, --flag ARG` `` or `` `command` ``) in the section. */
function undocumentedCli(items: readonly string[], markdown: string): string[] {
  const rows = [...rowsByKey(section(markdown, "Command-line flags")).keys()];
  return items.filter((item) =>
    !rows.some((cell) =>
      cell === item || cell.startsWith(item + " ") ||
      /^-[a-zA-Z], /.test(cell) && (cell.slice(4) === item || cell.slice(4).startsWith(item + " "))
    )
  );
}

Deno.test("every flag and command of --help is documented in docs/configuration.md", () => {
  const items = usageItems(USAGE);
  for (
    const expected of ["--config", "--no-e2e", "--bot-name", "console", "check-config", "init"]
  ) {
    ok(items.includes(expected), `usage parsing lost ${expected}: ${items.join(" ")}`);
  }
  deepStrictEqual(undocumentedCli(items, CONFIGURATION_MD), []);
});

Deno.test("the flag check reports a removed flag and a removed command", () => {
  const items = usageItems(USAGE);
  const text = CONFIGURATION_MD.split("\n")
    .filter((l) => !l.startsWith("| `--bot-name NAME` |") && !l.startsWith("| `init` |"))
    .join("\n");
  deepStrictEqual(undocumentedCli(items, text), ["--bot-name", "init"]);
  // A mention in another row's text is not a row.
  ok(text.includes("`init` only"), "the --force row still names init");
});

// ---------------------------------------------------------------------------
// Chat commands.

/** Whether a table row's first cell shows `name` as a code span starting with it. */
function hasCommandRow(markdown: string, name: string): boolean {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const pattern = new RegExp("`" + escaped + "[`\\s]");
  return markdown.split("\n").some((line) =>
    line.startsWith("| ") && pattern.test(line.split(" | ")[0])
  );
}

function commandsMissing(
  commands: ReadonlyArray<{ name: string; admin: boolean }>,
  markdown: string,
): string[] {
  const everyone = section(markdown, "Everyone");
  const admins = section(markdown, "Admins");
  return commands.filter((c) => !hasCommandRow(c.admin ? admins : everyone, c.name))
    .map((c) => c.name);
}

Deno.test("every chat command is in docs/commands.md, in the Everyone or Admins table", () => {
  ok(COMMANDS.length >= 13, `only ${COMMANDS.length} commands`);
  deepStrictEqual(commandsMissing(COMMANDS, COMMANDS_MD), []);
});

Deno.test("every chat command is in help.md", () => {
  deepStrictEqual(COMMANDS.filter((c) => !hasCommandRow(HELP_MD, c.name)).map((c) => c.name), []);
});

Deno.test("the command check reports a removed row and a command in the wrong table", () => {
  const withoutStock = COMMANDS_MD.split("\n").filter((l) => !l.startsWith("| `.stock` |"))
    .join("\n");
  deepStrictEqual(commandsMissing(COMMANDS, withoutStock), [".stock"]);
  // .clear moved from the Admins table to the Everyone table.
  const row = COMMANDS_MD.split("\n").find((l) => l.startsWith("| `.clear` |"))!;
  const moved = COMMANDS_MD.replace(row + "\n", "").replace(
    "| `.help` |",
    row + "\n| `.help` |",
  );
  deepStrictEqual(commandsMissing(COMMANDS, moved), [".clear"]);
  ok(!hasCommandRow("| `.stocks` | x |", ".stock"), "a longer word is not the command");
});

// ---------------------------------------------------------------------------
// Migration from the Python bot.

/**
 * The keys of the Python infinigpt-matrix's config.json (reference-behavior.md
 * §1.3–1.5). Its `llm.options` took any key, so the declared option names are
 * not new either.
 */
const PYTHON_KEYS = [
  "llm.models",
  "llm.api_keys",
  "llm.default_model",
  "llm.personality",
  "llm.prompt",
  "llm.options",
  "llm.history_size",
  "llm.ollama_url",
  "llm.lmstudio_url",
  "llm.timeout",
  "llm.mcp_servers",
  "matrix.server",
  "matrix.username",
  "matrix.password",
  "matrix.channels",
  "matrix.admins",
  "matrix.admin",
  "matrix.device_id",
  "matrix.store_path",
  "matrix.e2e",
  "markdown",
];

function newKeys(keys: readonly ConfigKey[]): ConfigKey[] {
  return keys.filter((k) => !PYTHON_KEYS.includes(k.path) && !k.path.startsWith("llm.options."));
}

Deno.test("every key the Python bot did not have is listed in docs/migration.md", () => {
  const added = newKeys(KEYS).map((k) => k.path);
  for (const path of ["llm.thinking", "matrix.store_key_file", "tools.endpoints.xai"]) {
    ok(added.includes(path), `${path} should count as new`);
  }
  ok(!added.includes("llm.history_size") && !added.includes("llm.options.temperature"));
  deepStrictEqual(undocumentedKeys(newKeys(KEYS), MIGRATION_MD), []);
});

Deno.test("the new-key check reports a key missing from the migration table", () => {
  const without = MIGRATION_MD.split("\n").filter((l) => !l.startsWith("| `llm.max_concurrency` |"))
    .join("\n");
  deepStrictEqual(undocumentedKeys(newKeys(KEYS), without), ["llm.max_concurrency"]);
});

Deno.test("the Python-era config of docs/migration.md passes with exactly the warnings it quotes", () => {
  const marker = "A typical Python-era file";
  const start = MIGRATION_MD.indexOf("```json\n", MIGRATION_MD.indexOf(marker)) + 8;
  const sample = JSON.parse(MIGRATION_MD.slice(start, MIGRATION_MD.indexOf("\n```", start)));
  for (const key of PYTHON_KEYS.filter((k) => k !== "matrix.admin")) {
    const [section, name] = key.includes(".") ? key.split(".") : [undefined, key];
    ok(name in (section ? sample[section] : sample), `the sample lacks ${key}`);
  }
  const { config, warnings } = validateConfig(sample);
  deepStrictEqual(warnings, [
    'matrix.admins entry "Your Name" is ignored: admins are matched by Matrix ID (@name:server) ' +
    "only, because anyone can copy a display name",
  ]);
  for (const warning of warnings) ok(MIGRATION_MD.includes(`- ${warning}\n`), warning);
  deepStrictEqual(config.matrix.admins, ["@you:example.org"]);
  // Two prompt elements: no brevity clause of its own, so .verbose changes nothing.
  strictEqual(config.llm.prompt.length, 2);
});

// ---------------------------------------------------------------------------
// Links between the user docs.

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-");
}

/** The anchors of a Markdown text's headings (outside code blocks). */
function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (/^(```|~~~)/.test(line)) fenced = !fenced;
    const m = !fenced && /^#{1,6} (.+)$/.exec(line);
    if (m) out.add(slug(m[1]));
  }
  return out;
}

/**
 * Relative links of a Markdown file that point at no existing file, or at a
 * heading that the (Markdown) target does not have.
 */
function brokenLinks(
  file: string,
  markdown: string,
  readRepo: (path: string) => string | undefined,
): string[] {
  const out: string[] = [];
  for (const m of markdown.matchAll(/\]\(([^)\s]+)\)/g)) {
    const [target, anchor] = m[1].split("#");
    if (/^[a-z]+:/i.test(target)) continue; // http:, mailto:
    const path = target ? normalize(join(dirname(file), target)) : file;
    const text = target ? readRepo(path) : markdown;
    if (text === undefined) out.push(`${file} -> ${m[1]}`);
    else if (anchor && path.endsWith(".md") && !anchors(text).has(anchor)) {
      out.push(`${file} -> ${m[1]}`);
    }
  }
  return out;
}

function readRepo(path: string): string | undefined {
  try {
    const info = Deno.statSync(join(ROOT, path));
    return info.isFile ? read(path) : "";
  } catch {
    return undefined;
  }
}

/** The docs written for this issue; the others are checked by the next test. */
const NEW_DOCS = [
  "docs/getting-started.md",
  "docs/migration.md",
  "docs/configuration.md",
  "docs/commands.md",
];

Deno.test("the getting-started, migration, configuration and commands docs link only to existing files and headings", () => {
  const broken = NEW_DOCS.flatMap((file) => brokenLinks(file, read(file), readRepo));
  deepStrictEqual(broken, []);
});

Deno.test("the link check reports missing files and headings, not existing ones or web links", () => {
  const text =
    "# Top\n[a](missing.md) [b](commands.md#everyone) [c](#top) [d](https://x.org/y.md)" +
    " [e](../README.md) [f](commands.md#nowhere) [g](#bottom) [h](../lib)";
  deepStrictEqual(brokenLinks("docs/x.md", text, readRepo), [
    "docs/x.md -> missing.md",
    "docs/x.md -> commands.md#nowhere",
    "docs/x.md -> #bottom",
  ]);
  deepStrictEqual(
    [...anchors("## 1. The release binary\n## `matrix.device_id` must be emptied\n```\n# no\n```")],
    ["1-the-release-binary", "matrixdevice_id-must-be-emptied"],
  );
});

Deno.test({
  name: "every doc and the README link only to existing files and headings",
  fn() {
    const files = [
      "README.md",
      ...[...Deno.readDirSync(join(ROOT, "docs"))]
        .filter((e) => e.name.endsWith(".md")).map((e) => `docs/${e.name}`),
    ];
    deepStrictEqual(files.flatMap((f) => brokenLinks(f, read(f), readRepo)), []);
  },
});
