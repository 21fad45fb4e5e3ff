import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runCli, USAGE } from "../lib/cli.ts";
import type { CliIo } from "../lib/cli_io.ts";
import type { Env } from "../lib/env.ts";
import { windowsSystemEnv } from "./fixtures/platform.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const EXAMPLE = join(ROOT, "config.example.json");
const MAIN = join(ROOT, "main.ts");
const DENO_JSON = join(ROOT, "deno.json");
const VERSION = (JSON.parse(Deno.readTextFileSync(DENO_JSON)) as { version: string }).version;

/** A CliIo that records what the CLI writes. */
function fakeIo(env: Env = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    stdout: (text) => void out.push(text),
    stderr: (text) => void err.push(text),
    stdin: new ReadableStream({ start: (c) => c.close() }),
    isTerminal: false,
    env,
  };
  return {
    io,
    get stdout() {
      return out.join("");
    },
    get stderr() {
      return err.join("");
    },
  };
}

async function cli(args: string[], env: Env = {}) {
  const fake = fakeIo(env);
  const code = await runCli(args, fake.io);
  return { code, stdout: fake.stdout, stderr: fake.stderr };
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "infinigpt-cli-test-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function baseConfig(): Record<string, Record<string, unknown>> {
  return {
    llm: {
      models: { openai: ["gpt-4.1-nano", "gpt-4o"], ollama: ["qwen3:8b"] },
      default_model: "gpt-4.1-nano",
    },
    matrix: {
      server: "https://matrix.test",
      username: "@bot:matrix.test",
      password: "pw-123456",
    },
  };
}

async function writeJson(dir: string, value: unknown, name = "config.json"): Promise<string> {
  const path = join(dir, name);
  await Deno.writeTextFile(path, JSON.stringify(value, null, 2));
  return path;
}

// ---------------------------------------------------------------------------
// Usage, version, bad usage.

Deno.test("--help prints the usage listing every command and exits 0", async () => {
  for (const flag of ["--help", "-h"]) {
    const { code, stdout, stderr } = await cli([flag]);
    strictEqual(code, 0);
    strictEqual(stdout, USAGE + "\n");
    strictEqual(stderr, "");
    for (const command of ["run", "console", "check-config", "doctor", "init", "version"]) {
      match(stdout, new RegExp(`^  ${command} `, "m"), `usage lacks ${command}`);
    }
    ok(stdout.includes("--check-config"));
  }
});

Deno.test("version prints infinigpt and the version of deno.json", async () => {
  for (const args of [["version"], ["--version"]]) {
    const { code, stdout, stderr } = await cli(args);
    strictEqual(code, 0);
    strictEqual(stdout, `infinigpt ${VERSION}\n`);
    strictEqual(stderr, "");
  }
});

const BAD_USAGE: Array<{ name: string; args: string[]; stderr: RegExp }> = [
  {
    name: "an unknown command",
    args: ["frobnicate"],
    stderr: /^Unknown command: frobnicate\nRun 'infinigpt --help' for usage\.\n$/,
  },
  {
    name: "two commands",
    args: ["check-config", "extra"],
    stderr: /^Unknown command: check-config extra\n/,
  },
  { name: "an unknown flag", args: ["--bogus"], stderr: /--bogus.*\nRun 'infinigpt --help'/s },
  { name: "a flag without its value", args: ["--config"], stderr: /argument missing/ },
  {
    name: "an unknown log level",
    args: ["check-config", "-c", EXAMPLE, "-L", "LOUD"],
    stderr: /^Unknown log level: LOUD\n$/,
  },
];

for (const { name, args, stderr } of BAD_USAGE) {
  Deno.test(`${name} exits 2 with a message on stderr`, async () => {
    const result = await cli(args);
    strictEqual(result.code, 2);
    match(result.stderr, stderr);
    strictEqual(result.stdout, "");
  });
}

Deno.test("an unknown INFINIGPT_LOG_LEVEL exits 2", async () => {
  const result = await cli(["check-config", "-c", EXAMPLE], { INFINIGPT_LOG_LEVEL: "chatty" });
  strictEqual(result.code, 2);
  strictEqual(result.stderr, "Unknown log level: chatty\n");
});

// ---------------------------------------------------------------------------
// check-config

/** The shipped example with its placeholders replaced, as a user edits it. */
function editedExample(): string {
  return Deno.readTextFileSync(EXAMPLE).replaceAll("example.org", "matrix.test")
    .replace('"change-me"', '"a-real-password"');
}

Deno.test("check-config refuses the untouched starter config, naming each placeholder (exit 2)", async () => {
  for (const args of [["check-config", "-c", EXAMPLE], ["--check-config", "--config", EXAMPLE]]) {
    const { code, stdout, stderr } = await cli(args);
    strictEqual(code, 2);
    strictEqual(stdout, "");
    strictEqual(
      stderr,
      "Configuration errors:\n" +
        "- matrix.server: \"https://matrix.example.org\" is the starter config's placeholder; replace it with your homeserver's URL or server name\n" +
        "- matrix.username: \"@infinigpt:example.org\" is the starter config's placeholder; replace it with the bot account's Matrix ID\n" +
        "- matrix.password: is the starter config's placeholder; replace it with the bot account's password (or INFINIGPT_MATRIX_PASSWORD)\n" +
        '- matrix.channels[0]: "#ai:example.org" is the starter config\'s placeholder; replace it with a room on your homeserver (or remove it)\n' +
        '- matrix.admins[0]: "@admin:example.org" is the starter config\'s placeholder; replace it with your own Matrix ID\n',
    );
  }
  // The password from the environment replaces the file's placeholder.
  const { stderr } = await cli(["check-config", "-c", EXAMPLE], {
    INFINIGPT_MATRIX_PASSWORD: "from-env-123",
  });
  ok(!stderr.includes("matrix.password") && stderr.includes("matrix.server"), stderr);
});

Deno.test("check-config and --check-config accept the shipped example once its placeholders are replaced", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "config.json");
    await Deno.writeTextFile(path, editedExample());
    for (const args of [["check-config", "-c", path], ["--check-config", "--config", path]]) {
      const { code, stdout } = await cli(args);
      strictEqual(code, 0);
      ok(stdout.startsWith(`Config OK: ${path}\n`), stdout);
      ok(stdout.includes("Default model: gpt-4.1-nano\n"));
      // No env keys and empty api_keys: every cloud provider gets a warning.
      ok(
        stdout.includes(
          '- No API key for provider "openai" (set OPENAI_API_KEY or llm.api_keys.openai)',
        ),
        stdout,
      );
    }
  });
});

Deno.test("check-config reads the file named by INFINIGPT_CONFIG", async () => {
  await withTempDir(async (dir) => {
    const path = await writeJson(dir, baseConfig());
    const { code, stdout } = await cli(["check-config"], { INFINIGPT_CONFIG: path });
    strictEqual(code, 0);
    ok(stdout.startsWith(`Config OK: ${path}\n`), stdout);
  });
});

Deno.test("check-config on a broken config exits 2 with one line per problem", async () => {
  await withTempDir(async (dir) => {
    const raw = baseConfig();
    raw.llm.history_size = 1;
    raw.llm.default_model = "gpt-9";
    raw.matrix.server = "ftp://matrix.test";
    raw.matrix.channels = ["ai"];
    delete raw.matrix.password;
    const path = await writeJson(dir, raw);
    const { code, stdout, stderr } = await cli(["check-config", "-c", path]);
    strictEqual(code, 2);
    strictEqual(stdout, "");
    ok(stderr.startsWith("Configuration errors:\n"), stderr);
    deepStrictEqual(stderr.split("\n").filter((l) => l.startsWith("- ")), [
      "- llm.history_size: must be at least 2 (got number 1)",
      "- matrix.server: must be the homeserver's URL (https://matrix.example.org) or a server name (example.org)",
      "- matrix.channels[0]: must be a room alias (#room:server) or room ID (!id:server, or !id in room version 12)",
      '- llm.default_model: "gpt-9" is not in any list of llm.models (available: gpt-4.1-nano, gpt-4o, qwen3:8b)',
      "- matrix.password: is required (or set matrix.access_token)",
    ]);
  });
});

Deno.test("check-config on a missing file exits 2 and names the file", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "missing.json");
    const { code, stdout, stderr } = await cli(["check-config", "-c", path]);
    strictEqual(code, 2);
    strictEqual(stdout, "");
    strictEqual(stderr, `Config file not found: ${path}\n`);
  });
});

Deno.test("check-config on invalid JSON exits 2", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "config.json");
    await Deno.writeTextFile(path, "{ not json");
    const { code, stderr } = await cli(["--check-config", "-c", path]);
    strictEqual(code, 2);
    match(stderr, /^Configuration errors:\n- \(file\): not valid JSON/);
  });
});

Deno.test("check-config lists unknown keys and ignored admins as warnings", async () => {
  await withTempDir(async (dir) => {
    const raw = baseConfig();
    raw.llm.histroy_size = 10;
    raw.matrix.admins = ["Alice"];
    const path = await writeJson(dir, raw);
    const { code, stdout } = await cli(["check-config", "-c", path], { OPENAI_API_KEY: "sk-x" });
    strictEqual(code, 0);
    const warnings = stdout.slice(stdout.indexOf("Warnings:\n")).split("\n").filter((l) =>
      l.startsWith("- ")
    );
    strictEqual(warnings.length, 2, stdout);
    strictEqual(warnings[0], '- Unknown config key "llm.histroy_size" is ignored');
    ok(warnings[1].startsWith('- matrix.admins entry "Alice" is ignored'));
  });
});

Deno.test("check-config without any warning prints no Warnings section", async () => {
  await withTempDir(async (dir) => {
    const path = await writeJson(dir, baseConfig());
    const { code, stdout } = await cli(["check-config", "-c", path], { OPENAI_API_KEY: "sk-x" });
    strictEqual(code, 0);
    ok(!stdout.includes("Warnings:"), stdout);
  });
});

Deno.test("check-config never prints a secret and says where the key came from", async () => {
  await withTempDir(async (dir) => {
    const raw = baseConfig();
    raw.matrix.password = "s3cret-pass-XYZ";
    raw.llm.api_keys = { openai: "sk-live-SECRET123" };
    const path = await writeJson(dir, raw);
    const env = { OPENAI_API_KEY: "sk-env-SECRET456" };
    for (
      const args of [["check-config", "-c", path], ["--check-config", "-c", path, "-L", "DEBUG"]]
    ) {
      const { code, stdout, stderr } = await cli(args, env);
      strictEqual(code, 0);
      for (const secret of ["s3cret-pass-XYZ", "sk-live-SECRET123", "sk-env-SECRET456"]) {
        ok(!stdout.includes(secret), `${secret} in stdout:\n${stdout}`);
        ok(!stderr.includes(secret), `${secret} in stderr:\n${stderr}`);
      }
      ok(stdout.includes("openai: 2 model(s), https://api.openai.com/v1, key: env OPENAI_API_KEY"));
      ok(stdout.includes("(password set)"));
    }
    // Without the env variable the summary names the config key instead.
    const { stdout } = await cli(["check-config", "-c", path]);
    ok(stdout.includes("key: llm.api_keys.openai"), stdout);
    ok(!stdout.includes("sk-live-SECRET123"));
  });
});

Deno.test("command-line flags show up in the check-config summary", async () => {
  await withTempDir(async (dir) => {
    const path = await writeJson(dir, baseConfig());
    const { code, stdout } = await cli(
      ["check-config", "-c", path, "-m", "qwen3:8b", "-s", "/srv/bot-store", "-N", "-u", "gpu:1"],
      { OPENAI_API_KEY: "sk-x" },
    );
    strictEqual(code, 0);
    const lines = stdout.split("\n");
    ok(lines.includes("Default model: qwen3:8b"), stdout);
    ok(lines.includes("Store: /srv/bot-store"), stdout);
    ok(lines.some((l) => l.endsWith("E2EE off")), stdout);
    ok(lines.includes("  ollama: 1 model(s), http://gpu:1/v1, key: none needed"), stdout);
  });
});

Deno.test("--no-e2e wins over --e2e, and --e2e wins over INFINIGPT_E2E", async () => {
  await withTempDir(async (dir) => {
    const path = await writeJson(dir, baseConfig());
    const env = { OPENAI_API_KEY: "sk-x", INFINIGPT_E2E: "false" };
    const both = await cli(["check-config", "-c", path, "-E", "-N"], env);
    ok(both.stdout.includes("E2EE off"), both.stdout);
    const on = await cli(["check-config", "-c", path, "--e2e"], env);
    ok(on.stdout.includes("E2EE on"), on.stdout);
    const envOnly = await cli(["check-config", "-c", path], env);
    ok(envOnly.stdout.includes("E2EE off"), envOnly.stdout);
  });
});

Deno.test("a --model that is in no model list exits 2", async () => {
  await withTempDir(async (dir) => {
    const path = await writeJson(dir, baseConfig());
    const { code, stderr } = await cli(["check-config", "-c", path, "--model", "gpt-404"]);
    strictEqual(code, 2);
    strictEqual(
      stderr,
      "Configuration errors:\n" +
        '- llm.default_model: "gpt-404" is not in any list of llm.models (available: gpt-4.1-nano, gpt-4o, qwen3:8b)\n',
    );
  });
});

// ---------------------------------------------------------------------------
// init (in-process: only the refusal, which creates nothing).

Deno.test("init refuses to overwrite an existing config without --force", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "config.json");
    await Deno.writeTextFile(path, "keep me");
    const { code, stdout, stderr } = await cli(["init", "-c", path]);
    strictEqual(code, 2);
    strictEqual(stdout, "");
    strictEqual(
      stderr,
      `${path} already exists; not overwriting it (use --force to replace it).\n`,
    );
    strictEqual(await Deno.readTextFile(path), "keep me");
  });
});

// ---------------------------------------------------------------------------
// The real program as a subprocess: real exit codes, no host variables.

async function runMain(
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
) {
  const env: Record<string, string> = { NO_COLOR: "1", ...windowsSystemEnv() };
  for (const name of ["PATH", "HOME", "DENO_DIR"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--conditions=matrix-org:wasm-esm",
      "--config",
      DENO_JSON,
      MAIN,
      ...args,
    ],
    cwd: options.cwd,
    env: { ...env, ...options.env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

Deno.test("subprocess: version and an unknown flag give exit codes 0 and 2", async () => {
  const version = await runMain(["version"]);
  strictEqual(version.code, 0);
  strictEqual(version.stdout, `infinigpt ${VERSION}\n`);
  const bad = await runMain(["--bogus"]);
  strictEqual(bad.code, 2);
  match(bad.stderr, /--bogus/);
});

Deno.test("subprocess: --check-config exits 0 on the edited example and 2 on a broken config", async () => {
  await withTempDir(async (dir) => {
    const edited = join(dir, "edited.json");
    await Deno.writeTextFile(edited, editedExample());
    const good = await runMain(["--check-config", "-c", edited]);
    strictEqual(good.code, 0, good.stderr);
    ok(good.stdout.startsWith(`Config OK: ${edited}`), good.stdout);
    const raw = baseConfig();
    raw.llm.history_size = 0;
    delete raw.matrix.password;
    const path = await writeJson(dir, raw);
    const bad = await runMain(["check-config", "-c", path]);
    strictEqual(bad.code, 2);
    strictEqual(bad.stdout, "");
    strictEqual(
      bad.stderr,
      "Configuration errors:\n" +
        "- llm.history_size: must be at least 2 (got number 0)\n" +
        "- matrix.password: is required (or set matrix.access_token)\n",
    );
    const missing = await runMain(["check-config", "-c", join(dir, "nope.json")]);
    strictEqual(missing.code, 2);
    strictEqual(missing.stderr, `Config file not found: ${join(dir, "nope.json")}\n`);
  });
});

Deno.test("subprocess: check-config keeps env and file secrets out of its output", async () => {
  await withTempDir(async (dir) => {
    const raw = baseConfig();
    raw.matrix.password = "s3cret-pass-XYZ";
    raw.llm.api_keys = { openai: "sk-live-SECRET123" };
    const path = await writeJson(dir, raw);
    const result = await runMain(["check-config", "-c", path, "-L", "DEBUG"], {
      env: { OPENAI_API_KEY: "sk-env-SECRET456" },
    });
    strictEqual(result.code, 0, result.stderr);
    for (const secret of ["s3cret-pass-XYZ", "sk-live-SECRET123", "sk-env-SECRET456"]) {
      ok(!result.stdout.includes(secret) && !result.stderr.includes(secret), `${secret} leaked`);
    }
    ok(result.stdout.includes("key: env OPENAI_API_KEY"), result.stdout);
  });
});

Deno.test("subprocess: init writes a config that passes check-config, and never overwrites it unforced", async () => {
  await withTempDir(async (dir) => {
    const first = await runMain(["init"], { cwd: dir });
    strictEqual(first.code, 0, first.stderr);
    ok(first.stdout.startsWith("Wrote config.json"), first.stdout);
    const path = join(dir, "config.json");
    const written = await Deno.readTextFile(path);
    strictEqual(
      written,
      (await Deno.readTextFile(EXAMPLE)).replace(
        '"store_key_file": null',
        '"store_key_file": "store.key"',
      ),
    );
    ok((await Deno.stat(join(dir, "store"))).isDirectory);
    const key = await Deno.readTextFile(join(dir, "store.key"));
    match(key, /^[0-9a-f]{64}\n$/);
    if (Deno.build.os !== "windows") {
      strictEqual((await Deno.stat(path)).mode! & 0o777, 0o600);
      strictEqual((await Deno.stat(join(dir, "store.key"))).mode! & 0o777, 0o600);
    }

    await Deno.writeTextFile(path, written.replace("change-me", "edited-password"));
    const again = await runMain(["init"], { cwd: dir });
    strictEqual(again.code, 2);
    match(again.stderr, /config\.json already exists; not overwriting it/);
    ok((await Deno.readTextFile(path)).includes("edited-password"));

    const forced = await runMain(["init", "--force"], { cwd: dir });
    strictEqual(forced.code, 0, forced.stderr);
    strictEqual(await Deno.readTextFile(path), written);
    match(forced.stdout, /Kept the existing store key store\.key\./);
    strictEqual(await Deno.readTextFile(join(dir, "store.key")), key, "the key is never replaced");

    const untouched = await runMain(["check-config"], { cwd: dir });
    strictEqual(untouched.code, 2);
    match(untouched.stderr, /- matrix\.server: "https:\/\/matrix\.example\.org" is the starter/);

    await Deno.writeTextFile(
      path,
      written.replaceAll("example.org", "matrix.test").replace('"change-me"', '"real-pw-123"'),
    );
    const check = await runMain(["check-config"], { cwd: dir });
    strictEqual(check.code, 0, check.stderr);
    ok(check.stdout.startsWith("Config OK: config.json\n"), check.stdout);
    ok(!check.stdout.includes("Unknown config key"), check.stdout);
  });
});

Deno.test("logging.format json writes one JSON object per line; logging.level and --log-level pick the level", async () => {
  await withTempDir(async (dir) => {
    const raw = baseConfig() as Record<string, Record<string, unknown>>;
    raw.matrix.store_path = join(dir, "store");
    raw.logging = { format: "json" };
    const path = await writeJson(dir, raw);
    const json = await cli(["console", "-c", path]);
    strictEqual(json.code, 0, json.stderr);
    const records = json.stderr.trim().split("\n").map((line) => JSON.parse(line));
    ok(records.some((r) => r.level === "INFO" && /^Model set to /.test(r.message)), json.stderr);
    ok(!json.stderr.includes("pw-123456"), "the password is masked");

    raw.logging = { format: "json", level: "ERROR" };
    await writeJson(dir, raw);
    strictEqual((await cli(["console", "-c", path])).stderr, "", "nothing below ERROR");
    const flag = await cli(["console", "-c", path, "-L", "INFO"]);
    ok(flag.stderr.includes('"message":"Model set to '), "--log-level wins: " + flag.stderr);
  });
});
