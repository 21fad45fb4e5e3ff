import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { ENV_VARS } from "../lib/env.ts";
import {
  BINARY_RUN,
  binaryPermissionFlags,
  binaryProfileRunArgs,
  BOT_ENV,
  botRunArgs,
  MCP_CHILD_ENV,
  permissionFlags,
  V8_FLAGS,
} from "../lib/permissions.ts";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../lib/config.ts";
import { FakeOpenAI } from "./fixtures/fake_openai.ts";
import { rawConfig, testConfig } from "./fixtures/harness.ts";

const base = { configPath: "conf/config.json", appDir: "/opt/infinigpt", cwd: "/srv/bot" };

function flag(flags: string[], name: string): string[] | undefined {
  const f = flags.find((x) => x === `--${name}` || x.startsWith(`--${name}=`));
  if (!f) return undefined;
  return f.includes("=") ? f.slice(f.indexOf("=") + 1).split(",") : [];
}

Deno.test({
  name:
    "read and write are limited to the config, store, images and key paths (store key, recovery key; made absolute)",
  // Expected paths are POSIX-shaped; node:path gives drive-letter paths on Windows.
  ignore: Deno.build.os === "windows",
  fn() {
    const config = testConfig("http://127.0.0.1:1/v1", {
      matrix: {
        store_path: "data/store",
        store_key_file: "/etc/infinigpt/store.key",
        recovery_key_file: "secrets/recovery.key",
      },
      tools: { images_dir: "/var/lib/images" },
    });
    const flags = permissionFlags({ ...base, config });
    deepStrictEqual(flag(flags, "allow-read"), [
      "/etc/infinigpt/store.key",
      "/opt/infinigpt",
      "/srv/bot/conf/config.json",
      "/srv/bot/data/store",
      "/srv/bot/secrets/recovery.key",
      "/var/lib/images",
    ]);
    deepStrictEqual(flag(flags, "allow-write"), ["/srv/bot/data/store", "/var/lib/images"]);
    deepStrictEqual(flag(flags, "allow-net"), [], "network is not narrowed");
  },
});

Deno.test("env is limited to the variables the bot reads; no run permission without stdio MCP", () => {
  const flags = permissionFlags({ ...base, config: testConfig("http://127.0.0.1:1/v1") });
  deepStrictEqual(flag(flags, "allow-env"), [...ENV_VARS].sort());
  strictEqual(flag(flags, "allow-run"), undefined);
  ok(!flags.some((f) => /^--allow-(all|sys|ffi)|^-A$/.test(f)));
});

Deno.test({
  name: "stdio MCP servers add exactly their commands to --allow-run and the child environment",
  // Expected paths are POSIX-shaped; node:path gives drive-letter paths on Windows.
  ignore: Deno.build.os === "windows",
  fn() {
    const config = testConfig("http://127.0.0.1:1/v1", {
      llm: {
        mcp_servers: {
          a: { command: "npx", args: ["-y", "x"], env: { T: "${env:MY_TOKEN}" }, cwd: "mcp" },
          b: {
            url: "https://mcp.example/mcp",
            headers: { Authorization: "Bearer ${env:HDR_TOKEN}" },
          },
          c: null,
        },
      },
    });
    const flags = permissionFlags({ ...base, config });
    deepStrictEqual(flag(flags, "allow-run"), ["npx"]);
    const env = flag(flags, "allow-env")!;
    for (const name of [...MCP_CHILD_ENV, "MY_TOKEN", "HDR_TOKEN"]) ok(env.includes(name), name);
    ok(flag(flags, "allow-read")!.includes("/srv/bot/mcp"), "the server's cwd is readable");
  },
});

Deno.test("a custom provider's <NAME>_API_KEY is readable", () => {
  const config = testConfig("http://127.0.0.1:1/v1", {
    llm: {
      models: { openrouter: ["r/x"] },
      base_urls: { openrouter: "https://openrouter.ai/api/v1" },
    },
  });
  ok(flag(permissionFlags({ ...base, config }), "allow-env")!.includes("OPENROUTER_API_KEY"));
});

Deno.test({
  name: "without a usable config only the config file's directory is readable, nothing writable",
  // Expected paths are POSIX-shaped; node:path gives drive-letter paths on Windows.
  ignore: Deno.build.os === "windows",
  fn() {
    const flags = permissionFlags(base);
    deepStrictEqual(flag(flags, "allow-read"), [
      "/opt/infinigpt",
      "/srv/bot/conf",
      "/srv/bot/conf/config.json",
    ]);
    strictEqual(flag(flags, "allow-write"), undefined);
  },
});

Deno.test({
  name: "botRunArgs runs main.ts with the wasm condition, the V8 flags and the arguments",
  // Expected paths are POSIX-shaped; node:path gives drive-letter paths on Windows.
  ignore: Deno.build.os === "windows",
  fn() {
    const args = botRunArgs({ ...base, config: testConfig("http://127.0.0.1:1/v1") }, [
      "--config",
      "x.json",
    ]);
    strictEqual(args[0], "run");
    ok(args.includes("--conditions=matrix-org:wasm-esm"));
    ok(args.includes(`--v8-flags=${V8_FLAGS.join(",")}`));
    deepStrictEqual(args.slice(-3), ["/opt/infinigpt/main.ts", "--config", "x.json"]);
    deepStrictEqual(Object.keys(BOT_ENV).sort(), [
      "MALLOC_ARENA_MAX",
      "MALLOC_MMAP_THRESHOLD_",
      "MALLOC_TRIM_THRESHOLD_",
    ]);
  },
});

Deno.test({
  name: "the start task's launcher prints the least-privilege command (INFINIGPT_LAUNCH_DRY)",
  // Expected paths are POSIX-shaped; node:path gives drive-letter paths on Windows.
  ignore: Deno.build.os === "windows",
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const config = `${dir}/config.json`;
      await Deno.writeTextFile(
        config,
        JSON.stringify({
          llm: { models: { openai: ["m"] }, default_model: "m" },
          matrix: {
            server: "https://hs.example",
            username: "@b:hs.example",
            password: "pw",
            store_path: `${dir}/store`,
          },
        }),
      );
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-read",
          "--allow-env",
          "--allow-run",
          "scripts/launch.ts",
          "--config",
          config,
        ],
        env: { INFINIGPT_LAUNCH_DRY: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const line = new TextDecoder().decode(out.stdout).trim();
      strictEqual(out.code, 0, new TextDecoder().decode(out.stderr));
      ok(line.includes(`--allow-write=${dir}/store,${dir}/store/images`), line);
      ok(!line.includes("--allow-run"), line);
      ok(line.endsWith(`main.ts --config ${config}`), line);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "under the flags deno task start computes, a stdio MCP server starts and its tool answers in the console",
  ignore: Deno.build.os === "windows", // the app dir is taken from a POSIX-shaped URL path
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using fake = FakeOpenAI.start();
    const dir = await Deno.makeTempDir({ prefix: "infinigpt-perm-" });
    try {
      const appDir = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");
      const configPath = join(dir, "config.json");
      const raw = rawConfig(fake.url, {
        llm: {
          mcp_servers: {
            test: {
              command: Deno.execPath(),
              args: ["run", "-A", join(appDir, "tests/fixtures/mcp_test_server.ts")],
            },
          },
        },
        matrix: { store_path: join(dir, "store") },
      });
      await Deno.writeTextFile(configPath, JSON.stringify(raw));
      const { config } = await loadConfig({ path: configPath, env: {} });
      const args = botRunArgs({ config, configPath, appDir, cwd: dir }, [
        "console",
        "--config",
        configPath,
      ]);
      const child = new Deno.Command(Deno.execPath(), {
        args,
        cwd: dir,
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
        env: { NO_COLOR: "1" },
      }).spawn();
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode('.ai tool:echo {"text":"via stdio"}\n'));
      await writer.close();
      const out = await child.output();
      const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      strictEqual(out.code, 0, text);
      ok(/Tool said: .*via stdio/.test(text), text);
      ok(!/NotCapable|Requires (read|write|env|run) access/.test(text), text);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("release binaries read and write only their working directory (relative, resolved at run time)", () => {
  const flags = binaryPermissionFlags();
  deepStrictEqual(flag(flags, "allow-read"), ["."]);
  deepStrictEqual(flag(flags, "allow-write"), ["."]);
  deepStrictEqual(flag(flags, "allow-net"), []);
  deepStrictEqual(flag(flags, "allow-run"), [...BINARY_RUN]);
  ok(flags.includes("--conditions=matrix-org:wasm-esm"));
  ok(flags.includes(`--v8-flags=${V8_FLAGS.join(",")}`));
});

Deno.test("release binaries may read INFINIGPT_*, every built-in provider key and the MCP child environment", () => {
  const env = flag(binaryPermissionFlags(), "allow-env")!;
  ok(env.includes("INFINIGPT_*"));
  for (const name of ENV_VARS) {
    ok(name.startsWith("INFINIGPT_") || env.includes(name), `${name} not readable`);
  }
  for (const name of MCP_CHILD_ENV) ok(env.includes(name), `${name} not readable`);
  deepStrictEqual(env, [...env].sort(), "sorted");
});

Deno.test({
  name: "the e2e binary profile adds only the source directory to the readable paths",
  // Expected paths are POSIX-shaped; node:path gives drive-letter paths on Windows.
  ignore: Deno.build.os === "windows",
  fn() {
    const args = binaryProfileRunArgs("/opt/app", ["--config", "config.json"]);
    deepStrictEqual(args.slice(-3), ["/opt/app/main.ts", "--config", "config.json"]);
    const flags = args.slice(1, -3);
    deepStrictEqual(flag(flags, "allow-read"), [".", "/opt/app"]);
    deepStrictEqual(
      flags.filter((f) => !f.startsWith("--allow-read=")),
      binaryPermissionFlags().filter((f) => !f.startsWith("--allow-read=")),
    );
  },
});

Deno.test("the console may read below the working directory (/image, /file); the bot may not", () => {
  const config = testConfig("http://127.0.0.1:1/v1");
  ok(flag(permissionFlags({ ...base, config, console: true }), "allow-read")!.includes("/srv/bot"));
  ok(!flag(permissionFlags({ ...base, config }), "allow-read")!.includes("/srv/bot"));
});

Deno.test("listening on every interface is denied unless the config names the wildcard address", () => {
  const table: [Record<string, unknown>, string[] | undefined][] = [
    [{}, ["0.0.0.0", "[::]"]],
    [{ metrics: { listen: "127.0.0.1:9464" } }, ["0.0.0.0", "[::]"]],
    [{ metrics: { listen: "0.0.0.0:9464" } }, ["[::]"]],
    [{ metrics: { listen: ":9464" } }, ["[::]"]],
    [{ metrics: { listen: "[::]:9464" } }, ["0.0.0.0"]],
    // An Ollama reached as 0.0.0.0 stays reachable.
    [{ llm: { ollama_url: "0.0.0.0:11434" } }, ["[::]"]],
    [
      { llm: { base_urls: { vllm: "http://[::]:8000/v1" } }, metrics: { listen: "0.0.0.0:1" } },
      undefined,
    ],
  ];
  for (const [overrides, denied] of table) {
    const config = testConfig("http://127.0.0.1:1/v1", overrides);
    deepStrictEqual(
      flag(permissionFlags({ ...base, config }), "deny-net"),
      denied,
      JSON.stringify(overrides),
    );
  }
  deepStrictEqual(flag(permissionFlags(base), "deny-net"), ["0.0.0.0", "[::]"], "no config");
  strictEqual(
    flag(binaryPermissionFlags(), "deny-net"),
    undefined,
    "a binary listens where it is told",
  );
});
