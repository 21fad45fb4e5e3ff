/**
 * The bot under a release binary's permissions (lib/permissions.ts:
 * reads and writes only its working directory, a fixed environment list,
 * only the usual MCP launchers). Runs `main.ts` under those flags, or with
 * `E2E_BOT_BINARY=<path>` the compiled binary itself (the release smoke
 * test). scripts/compile_check.ts checks that the flags equal the ones
 * `deno task compile:all` bakes in.
 */
import { match, ok, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { FakeOpenAI } from "../fixtures/fake_openai.ts";
import { ROOT, setupBot, TestClient } from "./helpers.ts";
import { binaryProfileRunArgs } from "../../lib/permissions.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test({
  name:
    "under a release binary's permissions the bot answers in encrypted and plain rooms, runs a stdio MCP server, serves /healthz and /metrics on all interfaces and keeps its store in the working directory",
  ...opts,
  async fn() {
    await using fake = FakeOpenAI.start();
    const alice = await TestClient.create("alice");
    const setup = await setupBot({ providerUrl: fake.url, admins: [alice.userId] });
    await setup.reconfigure({
      matrix: { store_path: "store" },
      // All interfaces, as in a container: the baked permissions let it listen where configured.
      metrics: { listen: "0.0.0.0:0" },
      llm: {
        mcp_servers: {
          test: {
            command: "deno",
            args: ["run", "-A", join(ROOT, "tests/fixtures/mcp_test_server.ts")],
          },
        },
      },
    });
    const bot = setup.startBinaryProfile({ INFINIGPT_JOURNAL_CHECK: "1" });
    try {
      const ready = await bot.ready();
      ok(/\(([1-9]\d*) MCP, \d+ builtin\)/.test(ready), bot.log.join("\n"));
      const secret = await alice.createRoom({ invite: [setup.userId] });
      const plain = await alice.createRoom({ invite: [setup.userId], encrypted: false });
      await alice.waitForJoin(secret, setup.userId);
      await alice.waitForJoin(plain, setup.userId);
      await alice.send(secret, ".ai hello binary");
      await alice.send(plain, '.ai tool:echo {"text":"from mcp"}');
      const a = await alice.waitForMessage(
        secret,
        setup.userId,
        (t) => t.endsWith("Echo: hello binary"),
      );
      ok(a.encrypted, "the reply in the encrypted room is encrypted");
      await alice.waitForMessage(plain, setup.userId, (t) => /Tool said: .*from mcp/.test(t));
      const port = /Metrics on http:\/\/0\.0\.0\.0:(\d+)\//.exec(bot.log.join("\n"))?.[1];
      ok(port, "the metrics endpoint listens");
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      strictEqual(`${health.status} ${await health.text()}`, "200 ok\n");
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      ok(/^infinigpt_mcp_server_up\{server="test"\} 1$/m.test(metrics), metrics);
    } catch (error) {
      console.log(bot.log.join("\n"));
      throw error;
    } finally {
      strictEqual((await bot.stop()).code, 0, bot.log.slice(-10).join("\n"));
      alice.stop();
    }
    // The recovery key from a file in the working directory (decision 41).
    const key = (await Deno.readTextFile(join(setup.dir, "store", "recovery-key.txt")))
      .split("\n").filter((l) => l.trim() && !l.startsWith("#")).at(-1)!;
    await Deno.writeTextFile(join(setup.dir, "recovery.key"), key + "\n", { mode: 0o600 });
    await setup.reconfigure({ matrix: { store_path: "store", recovery_key_file: "recovery.key" } });
    const again = setup.startBinaryProfile({ INFINIGPT_JOURNAL_CHECK: "1" });
    try {
      await again.ready();
      await again.waitForLog(
        /Secret storage unlocked with the recovery key from matrix.recovery_key_file recovery.key/,
      );
    } finally {
      strictEqual((await again.stop()).code, 0, again.log.slice(-10).join("\n"));
    }
    try {
      const denied = [...bot.log, ...again.log].filter((l) =>
        /NotCapable|Requires (read|write|env|run|net) access/.test(l)
      );
      strictEqual(denied.join("\n"), "", "no permission was refused");
      ok(
        (await Deno.stat(join(setup.dir, "store", "state.db"))).isFile,
        "store in the working dir",
      );
      ok(
        bot.log.some((l) => /Journal self-check: identical/.test(l)),
        bot.log.slice(-5).join("\n"),
      );
    } finally {
      await setup.remove();
    }
  },
});

Deno.test({
  name:
    "under a release binary's permissions a config outside the working directory is refused with the reason (exit 2)",
  ...opts,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "infinigpt-e2e-" });
    try {
      await Deno.mkdir(join(dir, "data"));
      await Deno.copyFile(join(ROOT, "config.example.json"), join(dir, "config.json"));
      const binary = Deno.env.get("E2E_BOT_BINARY");
      const args = ["check-config", "--config", "../config.json"];
      const { code, stderr, stdout } = await new Deno.Command(binary ?? Deno.execPath(), {
        args: binary ? args : binaryProfileRunArgs(ROOT, args),
        cwd: join(dir, "data"),
        env: { NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
      strictEqual(code, 2, text);
      match(
        text,
        /no permission to read \.\.\/config\.json: a release binary reads and writes only inside its working directory/,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
