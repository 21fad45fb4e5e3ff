/**
 * SIGINT and SIGTERM stop the bot process with exit 0 in every phase of its
 * start (decision 33): while the homeserver cannot be found, during login
 * retries, before the first sync succeeded, while MCP servers start, while
 * joining rooms. Each test holds the real bot process in one phase with a
 * homeserver stub, signals it, and watches it exit.
 */
import { ok, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { botRunArgs } from "../lib/permissions.ts";
import { StoppedError, untilStopped } from "../lib/stop.ts";
import { rawConfig } from "./fixtures/harness.ts";
import { StubHomeserver } from "./fixtures/stub_homeserver.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");
/** Decision 33: stopped within this long of the signal, whatever it was doing. */
const STOP_WITHIN_MS = 10_000;

/** The bot process, its log lines, and its exit. */
class Bot {
  readonly log: string[] = [];
  readonly #child: Deno.ChildProcess;
  readonly #dir: string;

  private constructor(child: Deno.ChildProcess, dir: string) {
    this.#child = child;
    this.#dir = dir;
    for (const stream of [child.stdout, child.stderr]) {
      void (async () => {
        let buffer = "";
        for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
          buffer += chunk;
          const lines = buffer.split("\n");
          buffer = lines.pop()!;
          this.log.push(...lines);
        }
        if (buffer) this.log.push(buffer);
      })();
    }
  }

  /** Starts `main.ts run` under the launcher's permissions for this config. */
  static async start(matrix: Record<string, unknown>, more: Record<string, unknown> = {}) {
    const dir = await Deno.makeTempDir({ prefix: "infinigpt-stop-" });
    const configPath = join(dir, "config.json");
    const config = rawConfig("http://127.0.0.1:9", {
      ...more,
      matrix: { e2e: false, store_path: join(dir, "store"), channels: [], ...matrix },
    });
    await Deno.writeTextFile(configPath, JSON.stringify(config));
    const { loadConfig } = await import("../lib/config.ts");
    const loaded = await loadConfig({ path: configPath, env: {} });
    const args = botRunArgs(
      { config: loaded.config, configPath, appDir: ROOT, cwd: ROOT },
      ["--config", configPath],
    );
    const child = new Deno.Command(Deno.execPath(), {
      args,
      cwd: ROOT,
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    return new Bot(child, dir);
  }

  async waitForLog(pattern: RegExp, timeoutMs = 60_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.log.find((l) => pattern.test(l));
      if (line) return line;
      if (Date.now() > deadline) {
        throw new Error(`no log line ${pattern}; last lines:\n${this.log.slice(-10).join("\n")}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Sends `signal`; resolves with the exit code, or fails when it did not exit in time. */
  async signal(signal: Deno.Signal): Promise<number> {
    this.#child.kill(signal);
    let watchdog: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((resolve) => {
      watchdog = setTimeout(() => resolve("late"), STOP_WITHIN_MS);
    });
    const outcome = await Promise.race([this.#child.status, late]);
    clearTimeout(watchdog);
    if (outcome === "late") {
      this.#child.kill("SIGKILL");
      await this.#child.status;
      throw new Error(
        `still running ${STOP_WITHIN_MS} ms after ${signal}; last lines:\n${
          this.log.slice(-10).join("\n")
        }`,
      );
    }
    // Let the last lines arrive.
    await new Promise((r) => setTimeout(r, 50));
    return outcome.code;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    await this.#child.status;
    await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
  }
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

function assertStoppedBeforeReady(bot: Bot, code: number): void {
  strictEqual(code, 0, bot.log.slice(-10).join("\n"));
  ok(bot.log.some((l) => / run: Stopped$/.test(l)), "the bot says it stopped");
  ok(!bot.log.some((l) => /Ready in \d+ ms/.test(l)), "it stopped before being ready");
}

Deno.test("SIGINT while the homeserver cannot be reached (connection refused, retrying): exit 0", async () => {
  await using bot = await Bot.start({ server: `http://127.0.0.1:${freePort()}` });
  await bot.waitForLog(/Finding the homeserver .* failed: connection refused/);
  assertStoppedBeforeReady(bot, await bot.signal("SIGINT"));
});

Deno.test("SIGTERM during login retries (the homeserver answers 502): exit 0", async () => {
  await using hs = new StubHomeserver();
  hs.faults.set("/_matrix/client/v3/login", { status: 502 });
  await using bot = await Bot.start({ server: hs.url, username: hs.userId });
  await bot.waitForLog(/Logging in at .* failed: HTTP 502/);
  assertStoppedBeforeReady(bot, await bot.signal("SIGTERM"));
});

Deno.test("SIGTERM while the first sync gets no answer: exit 0 (it used to wait for the sync)", async () => {
  await using hs = new StubHomeserver();
  hs.faults.set("/_matrix/client/v3/sync", "hang");
  await using bot = await Bot.start({ server: hs.url, username: hs.userId });
  await hs.waitFor("/_matrix/client/v3/sync");
  assertStoppedBeforeReady(bot, await bot.signal("SIGTERM"));
});

Deno.test("SIGINT while the first sync keeps failing: exit 0, and the log says why it fails", async () => {
  await using hs = new StubHomeserver();
  hs.faults.set("/_matrix/client/v3/sync", {
    status: 500,
    body: { errcode: "M_UNKNOWN", error: "database is on fire" },
  });
  await using bot = await Bot.start({ server: hs.url, username: hs.userId });
  await bot.waitForLog(/Sync failed: HTTP 500 M_UNKNOWN: database is on fire/);
  assertStoppedBeforeReady(bot, await bot.signal("SIGINT"));
});

Deno.test("SIGTERM while an MCP server is starting (it never answers): exit 0 without waiting for it", async () => {
  await using hs = new StubHomeserver();
  await using bot = await Bot.start({ server: hs.url, username: hs.userId }, {
    // Ten seconds of waiting for the server at start, unless stopped.
    llm: { tool_timeout: 60, mcp_servers: { silent: { command: "sleep", args: ["60"] } } },
  });
  await bot.waitForLog(/MCP servers configured: \[silent\]/);
  assertStoppedBeforeReady(bot, await bot.signal("SIGTERM"));
  ok(!bot.log.some((l) => /is not ready after/.test(l)), "it did not wait for the MCP server");
});

Deno.test("SIGTERM while joining a configured room (the join gets no answer): exit 0", async () => {
  await using hs = new StubHomeserver();
  hs.faults.set("/_matrix/client/v3/join/", "hang");
  await using bot = await Bot.start({
    server: hs.url,
    username: hs.userId,
    channels: ["#room:stub"],
  });
  await hs.waitFor("/_matrix/client/v3/join/");
  assertStoppedBeforeReady(bot, await bot.signal("SIGTERM"));
});

Deno.test("a bot that reached the stub starts normally (the stub is enough to be ready)", async () => {
  await using hs = new StubHomeserver();
  await using bot = await Bot.start({ server: hs.url, username: hs.userId });
  await bot.waitForLog(/Ready in \d+ ms/);
  strictEqual(await bot.signal("SIGTERM"), 0);
});

Deno.test("untilStopped settles like its promise, or rejects with StoppedError once stopped", async () => {
  strictEqual(await untilStopped(Promise.resolve(1)), 1);
  strictEqual(await untilStopped(Promise.resolve(2), new AbortController().signal), 2);
  const failed = await untilStopped(Promise.reject(new Error("x")), new AbortController().signal)
    .catch((e) => (e as Error).message);
  strictEqual(failed, "x");
  const stop = new AbortController();
  const never = new Promise<never>(() => {});
  const waiting = untilStopped(never, stop.signal).catch((e) => e);
  stop.abort();
  ok((await waiting) instanceof StoppedError);
  ok(
    (await untilStopped(Promise.resolve(3), stop.signal).catch((e) => e)) instanceof StoppedError,
    "already stopped",
  );
  // A late rejection of the abandoned work is not left unhandled.
  const late = Promise.withResolvers<never>();
  const abandoned = untilStopped(late.promise, stop.signal).catch(() => {});
  late.reject(new Error("late"));
  await abandoned;
});
