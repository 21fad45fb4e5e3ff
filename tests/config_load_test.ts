import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { ConfigError } from "../lib/config_errors.ts";
import { applyOverrides, configPath, loadConfig } from "../lib/config_load.ts";
import { DELETE, type Raw, raw } from "./fixtures/config_raw.ts";

// ---------------------------------------------------------------------------
// loadConfig: files, precedence.

async function withConfigFile(
  content: string | Raw,
  fn: (path: string, dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "infinigpt-config-test-" });
  try {
    const path = join(dir, "config.json");
    await Deno.writeTextFile(
      path,
      typeof content === "string" ? content : JSON.stringify(content, null, 2),
    );
    await fn(path, dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function loadError(promise: Promise<unknown>): Promise<ConfigError> {
  try {
    await promise;
  } catch (error) {
    ok(error instanceof ConfigError, `expected ConfigError, got ${error}`);
    return error;
  }
  throw new Error("expected loadConfig to fail");
}

Deno.test("loadConfig on a missing file says exactly which file was not found", async () => {
  const dir = await Deno.makeTempDir({ prefix: "infinigpt-config-test-" });
  try {
    const path = join(dir, "nope.json");
    const error = await loadError(loadConfig({ path, env: {} }));
    strictEqual(error.message, `Config file not found: ${path}`);
    strictEqual(error.path, path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadConfig on invalid JSON reports a (file) line", async () => {
  await withConfigFile('{"llm": {', async (path) => {
    const error = await loadError(loadConfig({ path, env: {} }));
    ok(error.message.startsWith("Configuration errors:\n- (file): not valid JSON"), error.message);
    strictEqual(error.errors.length, 1);
  });
});

Deno.test("loadConfig on a JSON root that is not an object", async () => {
  await withConfigFile("[1, 2]", async (path) => {
    const error = await loadError(loadConfig({ path, env: {} }));
    deepStrictEqual(error.errors, ["(root): must be a JSON object"]);
  });
});

Deno.test("loadConfig on a directory reports that it cannot be read", async () => {
  await withConfigFile(raw(), async (_path, dir) => {
    const error = await loadError(loadConfig({ path: dir, env: {} }));
    strictEqual(error.errors.length, 1);
    ok(error.errors[0].startsWith(`(file): cannot read ${dir}`), error.errors[0]);
  });
});

Deno.test("loadConfig returns the path and validated config of a good file", async () => {
  await withConfigFile(raw({ "llm.history_size": 40 }), async (path) => {
    const loaded = await loadConfig({ path, env: {} });
    strictEqual(loaded.path, path);
    strictEqual(loaded.config.llm.history_size, 40);
  });
});

const FILE_VALUES = raw({
  "llm.default_model": "gpt-4o",
  "llm.ollama_url": "file-host:11434",
  "llm.lmstudio_url": "file-host:1234",
  "llm.verbose": false,
  "matrix.store_path": "file-store",
  "matrix.e2e": true,
  "matrix.server": "https://file.test",
  "matrix.password": "file-password",
});

Deno.test("environment variables override the file", async () => {
  await withConfigFile(FILE_VALUES, async (path) => {
    const { config } = await loadConfig({
      path,
      env: {
        INFINIGPT_MODEL: "qwen3:8b",
        INFINIGPT_STORE_PATH: "env-store",
        INFINIGPT_MATRIX_SERVER: "https://env.test",
        INFINIGPT_MATRIX_PASSWORD: "env-password",
        INFINIGPT_OLLAMA_URL: "env-host:11434",
        INFINIGPT_LMSTUDIO_URL: "env-host:1234",
        INFINIGPT_E2E: "false",
        INFINIGPT_VERBOSE: "1",
      },
    });
    strictEqual(config.llm.default_model, "qwen3:8b");
    strictEqual(config.matrix.store_path, "env-store");
    strictEqual(config.matrix.server, "https://env.test");
    strictEqual(config.matrix.password, "env-password");
    strictEqual(config.llm.ollama_url, "env-host:11434");
    strictEqual(config.llm.lmstudio_url, "env-host:1234");
    strictEqual(config.matrix.e2e, false);
    strictEqual(config.llm.verbose, true);
  });
});

Deno.test("environment variables fill in keys the file leaves out", async () => {
  await withConfigFile(raw({ "matrix.password": DELETE }), async (path) => {
    const { config } = await loadConfig({
      path,
      env: { INFINIGPT_MATRIX_PASSWORD: "from-env" },
    });
    strictEqual(config.matrix.password, "from-env");
  });
});

Deno.test("empty environment variables do not override the file", async () => {
  await withConfigFile(FILE_VALUES, async (path) => {
    const { config } = await loadConfig({
      path,
      env: { INFINIGPT_MODEL: "", INFINIGPT_STORE_PATH: "", INFINIGPT_E2E: "" },
    });
    strictEqual(config.llm.default_model, "gpt-4o");
    strictEqual(config.matrix.store_path, "file-store");
    strictEqual(config.matrix.e2e, true);
  });
});

Deno.test("command-line values override environment variables and the file", async () => {
  await withConfigFile(FILE_VALUES, async (path) => {
    const { config } = await loadConfig({
      path,
      env: {
        INFINIGPT_MODEL: "qwen3:8b",
        INFINIGPT_STORE_PATH: "env-store",
        INFINIGPT_OLLAMA_URL: "env-host:11434",
        INFINIGPT_E2E: "true",
        INFINIGPT_VERBOSE: "0",
      },
      overrides: {
        model: "gpt-4.1-nano",
        storePath: "cli-store",
        ollamaUrl: "cli-host:11434",
        lmstudioUrl: "cli-host:1234",
        e2e: false,
        verbose: true,
      },
    });
    strictEqual(config.llm.default_model, "gpt-4.1-nano");
    strictEqual(config.matrix.store_path, "cli-store");
    strictEqual(config.llm.ollama_url, "cli-host:11434");
    strictEqual(config.llm.lmstudio_url, "cli-host:1234");
    strictEqual(config.matrix.e2e, false);
    strictEqual(config.llm.verbose, true);
  });
});

Deno.test("undefined command-line values leave env and file values alone", async () => {
  await withConfigFile(FILE_VALUES, async (path) => {
    const { config } = await loadConfig({
      path,
      env: { INFINIGPT_STORE_PATH: "env-store" },
      overrides: { model: undefined, storePath: undefined, e2e: undefined },
    });
    strictEqual(config.llm.default_model, "gpt-4o");
    strictEqual(config.matrix.store_path, "env-store");
    strictEqual(config.matrix.e2e, true);
  });
});

Deno.test("a --model that is in no model list is rejected after the merge", async () => {
  await withConfigFile(FILE_VALUES, async (path) => {
    const error = await loadError(
      loadConfig({ path, env: {}, overrides: { model: "gpt-404" } }),
    );
    deepStrictEqual(error.errors, [
      'llm.default_model: "gpt-404" is not in any list of llm.models (available: gpt-4.1-nano, gpt-4o, qwen3:8b)',
    ]);
  });
});

Deno.test("an invalid value from the environment is reported like a file value", async () => {
  await withConfigFile(FILE_VALUES, async (path) => {
    const error = await loadError(
      loadConfig({
        path,
        env: { INFINIGPT_MATRIX_SERVER: "ftp://matrix.test", INFINIGPT_E2E: "maybe" },
      }),
    );
    deepStrictEqual(error.errors, [
      "matrix.server: must be the homeserver's URL (https://matrix.example.org) or a server name (example.org)",
      'matrix.e2e: must be true or false (got string "maybe")',
    ]);
  });
});

Deno.test("applyOverrides creates missing sections and leaves non-object ones alone", () => {
  const empty: Raw = {};
  applyOverrides(empty, { INFINIGPT_MODEL: "m" }, { storePath: "s" });
  deepStrictEqual(empty, { llm: { default_model: "m" }, matrix: { store_path: "s" } });
  const broken: Raw = { llm: "text" };
  applyOverrides(broken, { INFINIGPT_MODEL: "m" });
  deepStrictEqual(broken, { llm: "text" });
});

Deno.test("configPath prefers --config, then INFINIGPT_CONFIG, then config.json", () => {
  strictEqual(configPath({ path: "a.json", env: { INFINIGPT_CONFIG: "b.json" } }), "a.json");
  strictEqual(configPath({ env: { INFINIGPT_CONFIG: "b.json" } }), "b.json");
  strictEqual(configPath({ env: {} }), "config.json");
});

Deno.test("loadConfig reads the file named by INFINIGPT_CONFIG", async () => {
  await withConfigFile(raw({ "llm.history_size": 77 }), async (path) => {
    const loaded = await loadConfig({ env: { INFINIGPT_CONFIG: path } });
    strictEqual(loaded.path, path);
    strictEqual(loaded.config.llm.history_size, 77);
  });
});
