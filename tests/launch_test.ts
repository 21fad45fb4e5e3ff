import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { BOT_ENV } from "../lib/permissions.ts";
import { FakeOpenAI } from "./fixtures/fake_openai.ts";
import { rawConfig } from "./fixtures/harness.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Child processes of `pid` (Linux /proc). */
function children(pid: number): number[] {
  const found: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid) {
        found.push(Number(entry.name));
      }
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

function proc(pid: number, file: "cmdline" | "environ"): string[] {
  return Deno.readTextFileSync(`/proc/${pid}/${file}`).split("\0").filter(Boolean);
}

/** Runs `deno task <task> <args>` in the repository, as an operator would. */
function task(name: string, args: string[], env: Record<string, string> = {}) {
  return new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", name, ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

async function lines(stream: ReadableStream<Uint8Array>, into: string[]): Promise<void> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of stream) {
    buffer += decoder.decode(chunk, { stream: true });
    const parts = buffer.split("\n");
    buffer = parts.pop()!;
    into.push(...parts);
  }
  if (buffer) into.push(buffer);
}

async function until<T>(what: string, check: () => T | undefined, log: string[]): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${log.join("\n")}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function withConfig(
  fn: (configPath: string, fake: FakeOpenAI) => Promise<void>,
  config: Record<string, unknown> = {},
) {
  await using fake = FakeOpenAI.start();
  const dir = await Deno.makeTempDir({ prefix: "infinigpt-launch-" });
  try {
    const configPath = join(dir, "config.json");
    await Deno.writeTextFile(
      configPath,
      JSON.stringify(
        rawConfig(fake.url, { matrix: { store_path: join(dir, "store") }, ...config }),
      ),
    );
    await fn(configPath, fake);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name:
    "deno task console: the launcher becomes the bot, the task runner's only process, with the least-privilege flags and the malloc settings (the operator's value kept)",
  ignore: Deno.build.os !== "linux",
  sanitizeResources: false,
  async fn() {
    await withConfig(async (configPath) => {
      const child = task("console", ["--config", configPath], { MALLOC_ARENA_MAX: "3" });
      const log: string[] = [];
      const pumps = [lines(child.stdout, log), lines(child.stderr, log)];
      await until("the console's prompt", () => log.find((l) => l.includes("Loaded config")), log);
      const kids = children(child.pid);
      strictEqual(kids.length, 1, `the task runner has ${kids.length} children`);
      const bot = kids[0];
      deepStrictEqual(children(bot), [], "the bot starts no process of its own");
      const cmdline = proc(bot, "cmdline");
      ok(cmdline.includes(join(ROOT, "main.ts")), cmdline.join(" "));
      // The console also reads below the working directory (/image, /file).
      const reads = cmdline.find((a) => a.startsWith("--allow-read="))?.slice(13).split(",");
      ok(reads?.includes(configPath), cmdline.join(" "));
      ok(!cmdline.some((a) => /^--allow-(ffi|run|all)$|^-A$/.test(a)), cmdline.join(" "));
      ok(!cmdline.includes("scripts/launch.ts"), "the launcher is gone");
      const environ = proc(bot, "environ");
      ok(environ.includes("MALLOC_ARENA_MAX=3"), "the operator's value is kept");
      for (const [name, value] of Object.entries(BOT_ENV)) {
        if (name !== "MALLOC_ARENA_MAX") ok(environ.includes(`${name}=${value}`), name);
      }
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(".ai through the task\n"));
      await writer.close();
      const status = await child.status;
      await Promise.all(pumps);
      strictEqual(status.code, 0, log.join("\n"));
      ok(log.some((l) => l.includes("Echo: through the task")), log.join("\n"));
    });
  },
});

Deno.test({
  name:
    "deno task start: SIGTERM to the task runner stops the bot, and the bot's exit code is the task's",
  ignore: Deno.build.os !== "linux",
  sanitizeResources: false,
  async fn() {
    // A homeserver that is not there: the bot keeps trying until it is stopped.
    await withConfig(async (configPath) => {
      const child = task("start", ["--config", configPath]);
      await child.stdin.close();
      const log: string[] = [];
      const pumps = [lines(child.stdout, log), lines(child.stderr, log)];
      await until("the first login attempt", () => log.find((l) => /127\.0\.0\.1:1/.test(l)), log);
      child.kill("SIGTERM");
      const status = await child.status;
      await Promise.all(pumps);
      strictEqual(status.code, 0, log.join("\n"));
      ok(log.some((l) => l.includes("Stopping (signal received)")), log.join("\n"));
      ok(!log.some((l) => l.includes("Second signal")), "one stop, not two");
    });
    // The bot's own exit code: 2 for a config it rejects.
    await withConfig(async (configPath) => {
      const child = task("start", ["check-config", "--config", configPath]);
      await child.stdin.close();
      const out = await child.output();
      const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      strictEqual(out.code, 2, text);
    }, { llm: { default_model: "no-such-model" } });
  },
});
