/**
 * Store faults, through the real CLI where exit codes matter: a read-only
 * store, a full disk (before start and during use), corrupt `state.db` and
 * `crypto.db`, a `state.db` from a newer schema, and `kill -9` in the middle
 * of writes. The run command is pointed at a closed homeserver port: it must
 * fail on the store before it tries the server (which would retry forever).
 *
 * The read-only and full-disk cases need real mounts (`mount -t tmpfs`,
 * `mount --bind` + `remount,ro`): as root, chmod does not stop writes. They
 * are skipped, with the reason printed, when mounting is not permitted.
 */
import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import { BOUNDARY_MESSAGES } from "../lib/pipeline/boundary.ts";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CONSOLE_ROOM } from "../lib/console.ts";
import { IdbJournal } from "../lib/crypto_journal.ts";
import type { Message } from "../lib/conversation.ts";
import { SqliteThreadStore } from "../lib/state/sqlite_threads.ts";
import { Store } from "../lib/store.ts";
import { FakeOpenAI } from "./fixtures/fake_openai.ts";
import { rawConfig } from "./fixtures/harness.ts";
import { assertKilled } from "./fixtures/platform.ts";

const MAIN = fileURLToPath(new URL("../main.ts", import.meta.url));
const DENO_JSON = fileURLToPath(new URL("../deno.json", import.meta.url));
const STORE_MODULE = new URL("../lib/store.ts", import.meta.url).href;
const THREADS_MODULE = new URL("../lib/state/sqlite_threads.ts", import.meta.url).href;
const USER = "@tester:console";
/** A guard against hangs (a run command that reached the homeserver retries forever). */
const EXIT_GUARD_MS = 60_000;

// ---------------------------------------------------------------------------
// Mounts

async function exec(cmd: string, args: string[]): Promise<{ code: number; stderr: string }> {
  const out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr).trim() };
}

async function mustExec(cmd: string, args: string[]): Promise<void> {
  const { code, stderr } = await exec(cmd, args);
  if (code !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${code}): ${stderr}`);
}

/** Why mount-based tests cannot run here, or undefined when they can. */
async function mountSkipReason(): Promise<string | undefined> {
  if (Deno.build.os !== "linux") return "mounts are only used on Linux";
  if (Deno.uid() !== 0) return `mounting needs root (uid is ${Deno.uid()})`;
  const dir = await Deno.makeTempDir({ prefix: "infinigpt-mount-probe-" });
  try {
    const { code, stderr } = await exec("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir])
      .catch((e) => ({ code: -1, stderr: (e as Error).message }));
    if (code !== 0) return `mount is not permitted here: ${stderr}`;
    await mustExec("umount", [dir]);
    return undefined;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const MOUNT_SKIP = await mountSkipReason();
if (MOUNT_SKIP) {
  console.warn(`store_faults_test: read-only and full-disk tests SKIPPED: ${MOUNT_SKIP}`);
}

/** Mounts a tmpfs of `size` on `dir`; dispose unmounts it. */
async function tmpfs(dir: string, size: string): Promise<AsyncDisposable> {
  await mustExec("mount", ["-t", "tmpfs", "-o", `size=${size},mode=0700`, "tmpfs", dir]);
  return { [Symbol.asyncDispose]: () => umount(dir) };
}

/** Makes `dir` read-only by bind-mounting it on itself; dispose unmounts it. */
async function readOnly(dir: string): Promise<AsyncDisposable> {
  await mustExec("mount", ["--bind", dir, dir]);
  try {
    await mustExec("mount", ["-o", "remount,ro,bind", dir]);
  } catch (error) {
    await umount(dir);
    throw error;
  }
  return { [Symbol.asyncDispose]: () => umount(dir) };
}

async function umount(dir: string): Promise<void> {
  const { code } = await exec("umount", [dir]);
  // Still busy (a child that did not die yet): detach it rather than leak it.
  if (code !== 0) await mustExec("umount", ["-l", dir]);
}

/** Writes a file into `dir` until the disk is full; returns the file's path. */
function fillDisk(dir: string): string {
  const path = join(dir, "filler.bin");
  const file = Deno.openSync(path, { write: true, create: true, truncate: true });
  try {
    for (const size of [1 << 16, 4096, 1]) {
      const chunk = new Uint8Array(size).fill(0x55);
      try {
        for (;;) file.writeSync(chunk);
      } catch (error) {
        if (!/no space|ENOSPC|os error 28/i.test((error as Error).message)) throw error;
      }
    }
  } finally {
    file.close();
  }
  return path;
}

// ---------------------------------------------------------------------------
// The CLI

function childEnv(): Record<string, string> {
  const env = Deno.env.toObject();
  for (const key of Object.keys(env)) {
    if (/_API_KEY$|^INFINIGPT_|^DASHSCOPE_/.test(key)) delete env[key];
  }
  return env;
}

function command(cwd: string, args: string[]): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", DENO_JSON, "--conditions=matrix-org:wasm-esm", MAIN, ...args],
    cwd,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    clearEnv: true,
    env: childEnv(),
  });
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with `input` on stdin; kills it (and fails) if it does not exit. */
async function cli(cwd: string, args: string[], input = ""): Promise<Run> {
  const child = command(cwd, args).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, EXIT_GUARD_MS);
  try {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(input)).catch(() => {});
    await writer.close().catch(() => {});
    const out = await child.output();
    const decoder = new TextDecoder();
    const run = {
      code: out.code,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
    };
    if (timedOut) {
      throw new Error(
        `infinigpt ${args[0]} did not exit within ${EXIT_GUARD_MS} ms ` +
          `(did it get past the store to the homeserver?)\n${run.stderr}`,
      );
    }
    return run;
  } finally {
    clearTimeout(timer);
  }
}

const consoleCli = (env: Env, input: string) =>
  cli(env.dir, ["console", "--config", env.configPath, "--user", USER], input);
/** `infinigpt --config <cfg>`: the Matrix bot (the default command). */
const runCli = (env: Env) => cli(env.dir, ["--config", env.configPath]);

/** A console kept open, to act on the store while it runs. */
class LiveConsole {
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #pump: Promise<void>;
  readonly #stderr: Promise<string>;
  stdout = "";

  constructor(env: Env) {
    const child = command(env.dir, ["console", "--config", env.configPath, "--user", USER])
      .spawn();
    this.#child = child;
    this.#writer = child.stdin.getWriter();
    this.#stderr = new Response(child.stderr).text();
    this.#pump = (async () => {
      for await (const text of child.stdout.pipeThrough(new TextDecoderStream())) {
        this.stdout += text;
      }
    })();
  }

  /** Sends one line and waits until stdout has grown to contain `expect`. */
  async say(line: string, expect: (out: string) => boolean, what: string): Promise<string> {
    const before = this.stdout.length;
    await this.#writer.write(new TextEncoder().encode(line + "\n"));
    const deadline = Date.now() + EXIT_GUARD_MS;
    while (!expect(this.stdout.slice(before))) {
      if (Date.now() > deadline) {
        this.#child.kill("SIGKILL");
        throw new Error(`no ${what} after "${line}"; stdout so far:\n${this.stdout}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    return this.stdout.slice(before);
  }

  /** Ends the input and waits for the exit. */
  async close(): Promise<Run> {
    await this.#writer.close().catch(() => {});
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), EXIT_GUARD_MS);
    try {
      const { code } = await this.#child.status;
      await this.#pump;
      return { code, stdout: this.stdout, stderr: await this.#stderr };
    } finally {
      clearTimeout(timer);
    }
  }
}

// ---------------------------------------------------------------------------
// Fixtures

interface Env extends AsyncDisposable {
  dir: string;
  store: string;
  configPath: string;
}

/** A free port on 127.0.0.1 that nothing listens on. */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** A temp dir with a config; the store is `<dir>/store` (created, empty). */
async function setup(
  providerUrl = `http://127.0.0.1:${closedPort()}/v1`,
  matrix: Record<string, unknown> = {},
): Promise<Env> {
  const dir = await Deno.makeTempDir({ prefix: "infinigpt-storefault-" });
  const store = join(dir, "store");
  await Deno.mkdir(store, { mode: 0o700 });
  const configPath = join(dir, "config.json");
  await Deno.writeTextFile(
    configPath,
    JSON.stringify(rawConfig(providerUrl, {
      matrix: {
        server: `http://127.0.0.1:${closedPort()}`,
        store_path: store,
        e2e: false,
        ...matrix,
      },
    })),
  );
  return {
    dir,
    store,
    configPath,
    [Symbol.asyncDispose]: async () => {
      await Deno.chmod(store, 0o700).catch(() => {});
      await Deno.remove(dir, { recursive: true });
    },
  };
}

function historyOf(db: DatabaseSync): SqliteThreadStore {
  return new SqliteThreadStore(db, {
    prompt: ["you are ", ".", ""],
    personality: "a test bot",
    historySize: 1000,
    verbose: () => false,
  });
}

/** A thread the seeded store holds for the console user. */
const SEEDED: Message[] = [
  { role: "system", content: "you are a seeded bot." },
  { role: "user", content: "what is the airspeed of a swallow?", id: "$seed1" },
  { role: "assistant", content: "African or European?", id: "$seed1:answer" },
];

/** Writes a real store with a conversation, many other threads and a setting; closes it. */
function seedStore(dir: string, threads = 300): void {
  const store = Store.open(dir);
  try {
    const history = historyOf(store.db);
    history.set(CONSOLE_ROOM, USER, SEEDED);
    store.transaction(() => {
      for (let i = 0; i < threads; i++) {
        history.set("!other:test", `@user${i}:test`, [
          { role: "user", content: `question ${i} ${"q".repeat(150)}` },
          { role: "assistant", content: `answer ${i} ${"a".repeat(150)}` },
        ]);
      }
    });
    store.db.prepare("INSERT INTO settings (key, value) VALUES ('model', ?)").run(
      JSON.stringify("gpt-5-mini"),
    );
  } finally {
    store.close();
  }
}

/** The console user's thread, read without the store lock. */
function consoleThread(dir: string): Message[] {
  const store = Store.open(dir, { noLock: true });
  try {
    return historyOf(store.db).get(CONSOLE_ROOM, USER).map(({ role, content }) => ({
      role,
      content,
    }));
  } finally {
    store.close();
  }
}

function integrity(path: string): string {
  const db = new DatabaseSync(path);
  try {
    return (db.prepare("PRAGMA integrity_check").all() as Array<{ integrity_check: string }>)
      .map((r) => r.integrity_check).join("\n");
  } finally {
    db.close();
  }
}

function plain(messages: readonly Message[]) {
  return messages.map(({ role, content }) => ({ role, content }));
}

/** Fails when `text` contains a JavaScript stack frame. */
function assertNoStack(text: string, where: string): void {
  const frame = /^\s+at .*(:\d+:\d+\)?|\(native\))$/m.exec(text);
  ok(!frame, `${where} contains a stack trace (${frame?.[0].trim()}):\n${text}`);
}

/** A deterministic "random" page: no two runs corrupt a page differently. */
function garbage(size: number, seed = 0x9e3779b9): Uint8Array {
  const bytes = new Uint8Array(size);
  let x = seed >>> 0;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x & 0xff;
  }
  return bytes;
}

/** Overwrites the page in the middle of a SQLite file with garbage; returns its number. */
function overwriteMiddlePage(path: string): number {
  const bytes = Deno.readFileSync(path);
  const pageSize = (bytes[16] << 8 | bytes[17]) === 1 ? 65536 : bytes[16] << 8 | bytes[17];
  const pages = bytes.length / pageSize;
  ok(pages >= 8, `only ${pages} pages: too small to corrupt the middle`);
  const page = Math.floor(pages / 2);
  bytes.set(garbage(pageSize), page * pageSize);
  Deno.writeFileSync(path, bytes);
  return page + 1;
}

/** A state.db with one of the three kinds of corruption; the rest stays as seeded. */
const CORRUPTIONS: Array<{ name: string; make: (path: string) => void }> = [
  {
    name: "garbage bytes",
    make: (path) => Deno.writeFileSync(path, garbage(32 * 1024)),
  },
  {
    name: "a real database truncated to half its size",
    make: (path) => Deno.truncateSync(path, Math.floor(Deno.statSync(path).size / 8192) * 4096),
  },
  {
    name: "a real database with a page in the middle overwritten",
    make: (path) => void overwriteMiddlePage(path),
  },
];

// ---------------------------------------------------------------------------
// 1. Read-only store

Deno.test({
  name:
    "a read-only store makes console and run exit 1 naming the path, without a stack trace, and leaves state.db unchanged",
  ignore: !!MOUNT_SKIP,
  async fn() {
    await using env = await setup();
    seedStore(env.store);
    const db = join(env.store, "state.db");
    const before = await Deno.readFile(db);
    await Deno.chmod(env.store, 0o500);
    {
      await using _ro = await readOnly(env.store);
      const cons = await consoleCli(env, ".ai are you there?\n");
      strictEqual(cons.code, 1, cons.stderr);
      ok(cons.stderr.includes(env.store), `the error does not name the store:\n${cons.stderr}`);
      match(cons.stderr, /read-only file system/i);
      assertNoStack(cons.stderr, "console stderr");
      strictEqual(cons.stdout, "", "the console answered from a store it cannot write");

      const run = await runCli(env);
      strictEqual(run.code, 1, run.stderr);
      ok(run.stderr.includes(env.store), `the error does not name the store:\n${run.stderr}`);
      match(run.stderr, /read-only file system/i);
      assertNoStack(run.stderr, "run stderr");
    }
    await Deno.chmod(env.store, 0o700);
    deepStrictEqual(await Deno.readFile(db), before, "state.db changed");
    deepStrictEqual(consoleThread(env.store), plain(SEEDED));
  },
});

Deno.test({
  name: "a read-only state.db in a writable store directory is refused at start, naming the file",
  ignore: !!MOUNT_SKIP,
  async fn() {
    await using env = await setup();
    seedStore(env.store);
    const db = join(env.store, "state.db");
    const before = await Deno.readFile(db);
    {
      await using _ro = await readOnly(db);
      const cons = await consoleCli(env, ".ai are you there?\n");
      strictEqual(cons.code, 1, cons.stdout + cons.stderr);
      ok(cons.stderr.includes(db), cons.stderr);
      match(cons.stderr, /not writable/);
      assertNoStack(cons.stderr, "console stderr");
    }
    deepStrictEqual(await Deno.readFile(db), before, "state.db changed");
  },
});

// ---------------------------------------------------------------------------
// 2. Full disk

Deno.test({
  name: "a store on a full disk cannot be created: console and run exit 1 saying the disk is full",
  ignore: !!MOUNT_SKIP,
  async fn() {
    await using env = await setup();
    await using _disk = await tmpfs(env.store, "256k");
    fillDisk(env.store);
    const cons = await consoleCli(env, ".ai hello\n");
    strictEqual(cons.code, 1, cons.stderr);
    ok(cons.stderr.includes(join(env.store, "state.db")), cons.stderr);
    match(cons.stderr, /disk .* is full/);
    assertNoStack(cons.stderr, "console stderr");
    strictEqual(cons.stdout, "");

    const run = await runCli(env);
    strictEqual(run.code, 1, run.stderr);
    ok(run.stderr.includes(join(env.store, "state.db")), run.stderr);
    match(run.stderr, /disk .* is full/);
    assertNoStack(run.stderr, "run stderr");

    // What the failed starts left behind (an empty state.db, the lock) does not stop the next.
    await Deno.remove(join(env.store, "filler.bin"));
    const after = await consoleCli(env, ".help\n");
    strictEqual(after.code, 0, after.stderr);
    ok(after.stdout.includes(".ai <message>"), after.stdout);
    strictEqual(integrity(join(env.store, "state.db")), "ok");
  },
});

const INTERNAL_ERROR = BOUNDARY_MESSAGES.failed("an internal error");

Deno.test({
  name:
    "when the disk fills during use the console reports an internal error, keeps going, and answers again once space is freed",
  ignore: !!MOUNT_SKIP,
  async fn() {
    await using fake = FakeOpenAI.start();
    await using env = await setup(fake.url);
    await using _disk = await tmpfs(env.store, "2m");
    const live = new LiveConsole(env);
    let result: Run;
    try {
      await live.say(".ai first words", (o) => o.includes("Echo: first words"), "first answer");
      const filler = fillDisk(env.store);
      const failed = await live.say(
        ".ai while full",
        (o) => o.includes("Something went wrong"),
        "failure reply",
      );
      ok(failed.includes(INTERNAL_ERROR), failed);
      ok(!failed.includes("Echo: while full"), "a reply for an exchange that was not stored");
      await Deno.remove(filler);
      await live.say(".ai space again", (o) => o.includes("Echo: space again"), "answer");
    } finally {
      result = await live.close();
    }
    strictEqual(result.code, 0, result.stderr);
    match(result.stderr, /database or disk is full/);
    // The exchange is stored after the model answered (decision 30): the model was asked
    // while the disk was full, the write failed, and nothing of it reached a later request.
    deepStrictEqual(
      fake.chats.map((c) => c.messages.at(-1)?.content),
      ["first words", "while full", "space again"],
    );
    ok(!JSON.stringify(fake.chats[2].messages).includes("while full"));
    strictEqual(integrity(join(env.store, "state.db")), "ok");
    const thread = consoleThread(env.store);
    deepStrictEqual(thread.slice(1), [
      { role: "user", content: "first words" },
      { role: "assistant", content: "Echo: first words" },
      { role: "user", content: "space again" },
      { role: "assistant", content: "Echo: space again" },
    ]);
  },
});

Deno.test({
  name:
    "a console that ends while the disk is still full exits 0, and after freeing space the restarted store is intact",
  ignore: !!MOUNT_SKIP,
  async fn() {
    await using fake = FakeOpenAI.start();
    await using env = await setup(fake.url);
    await using _disk = await tmpfs(env.store, "2m");
    const live = new LiveConsole(env);
    let result: Run;
    let filler = "";
    try {
      await live.say(".ai remember me", (o) => o.includes("Echo: remember me"), "first answer");
      filler = fillDisk(env.store);
      const failed = await live.say(
        ".ai lost words",
        (o) => o.includes("Something went wrong"),
        "failure reply",
      );
      ok(failed.includes(INTERNAL_ERROR), failed);
    } finally {
      result = await live.close();
    }
    strictEqual(result.code, 0, result.stderr);
    if (filler) await Deno.remove(filler);
    strictEqual(integrity(join(env.store, "state.db")), "ok");
    const again = await consoleCli(env, ".ai back again\n");
    strictEqual(again.code, 0, again.stderr);
    ok(again.stdout.includes("Echo: back again"), again.stdout);
    // The model saw the earlier exchange: the conversation survived.
    deepStrictEqual(
      fake.chats.at(-1)?.messages.slice(1).map((m) => m.content),
      ["remember me", "Echo: remember me", "back again"],
    );
    deepStrictEqual(consoleThread(env.store).slice(1), [
      { role: "user", content: "remember me" },
      { role: "assistant", content: "Echo: remember me" },
      { role: "user", content: "back again" },
      { role: "assistant", content: "Echo: back again" },
    ]);
    strictEqual(integrity(join(env.store, "state.db")), "ok");
  },
});

// ---------------------------------------------------------------------------
// 3. Corrupt state.db

for (const { name, make } of CORRUPTIONS) {
  Deno.test({
    name:
      `a state.db with ${name} is refused as corrupt by console and run (exit 1), left as it was`,
    async fn() {
      await using env = await setup();
      seedStore(env.store);
      const path = join(env.store, "state.db");
      make(path);
      const before = await Deno.readFile(path);
      for (
        const [which, run] of [["console", await consoleCli(env, ".ai hello\n")], [
          "run",
          await runCli(env),
        ]] as const
      ) {
        strictEqual(run.code, 1, `${which}: ${run.stderr}`);
        ok(run.stderr.includes(path), `${which} does not name ${path}:\n${run.stderr}`);
        match(run.stderr, /corrupt/, `${which}: ${run.stderr}`);
        ok(!/is full/.test(run.stderr), `${which} blames the disk:\n${run.stderr}`);
        assertNoStack(run.stderr, `${which} stderr`);
        strictEqual(run.stdout, "", `${which} answered from an empty store`);
        deepStrictEqual(await Deno.readFile(path), before, `${which} changed state.db`);
      }
    },
  });
}

// ---------------------------------------------------------------------------
// 4. Corrupt crypto.db

/** A real journal file with many records, closed. */
function seedCryptoDb(path: string): void {
  IdbJournal.open(path).close();
  const db = new DatabaseSync(path);
  try {
    db.exec("BEGIN");
    const put = db.prepare(
      "INSERT INTO records (db, store, key, value) VALUES ('matrix-js-sdk::matrix-sdk-crypto', 'core', ?, ?)",
    );
    for (let i = 0; i < 400; i++) put.run(`s:"key${i}"`, garbage(300, i + 1));
    db.exec("COMMIT");
  } finally {
    db.close();
  }
}

const CRYPTO_CORRUPTIONS: Array<{ name: string; make: (path: string) => void }> = [
  { name: "garbage bytes", make: (path) => Deno.writeFileSync(path, garbage(16 * 1024, 7)) },
  {
    name: "a page in the middle overwritten",
    make: (path) => {
      seedCryptoDb(path);
      overwriteMiddlePage(path);
    },
  },
];

for (const { name, make } of CRYPTO_CORRUPTIONS) {
  Deno.test(`the run command refuses a crypto.db with ${name} before contacting the homeserver, exit 1, file untouched`, async () => {
    await using env = await setup(undefined, { e2e: true });
    seedStore(env.store);
    const path = join(env.store, "crypto.db");
    make(path);
    const before = await Deno.readFile(path);
    const run = await runCli(env);
    strictEqual(run.code, 1, run.stderr);
    ok(run.stderr.includes(path), `the error does not name ${path}:\n${run.stderr}`);
    match(run.stderr, /encryption store .* is unusable/);
    // It never got as far as logging in (that would say "homeserver ... not available").
    ok(!/homeserver/i.test(run.stderr), run.stderr);
    deepStrictEqual(await Deno.readFile(path), before, "crypto.db changed");
    deepStrictEqual(consoleThread(env.store), plain(SEEDED), "state.db lost its conversation");
  });
}

Deno.test({
  name: "a corrupt crypto.db is reported without a stack trace",

  async fn() {
    await using env = await setup(undefined, { e2e: true });
    const path = join(env.store, "crypto.db");
    Deno.writeFileSync(path, garbage(16 * 1024, 7));
    const run = await runCli(env);
    strictEqual(run.code, 1, run.stderr);
    assertNoStack(run.stderr, "run stderr");
  },
});

// ---------------------------------------------------------------------------
// 5. A newer schema

Deno.test("a state.db with schema version 99 makes console and run exit 1 with a clear message, untouched", async () => {
  await using env = await setup();
  seedStore(env.store);
  const path = join(env.store, "state.db");
  const db = new DatabaseSync(path);
  db.exec("PRAGMA user_version = 99");
  db.close();
  const before = await Deno.readFile(path);
  for (
    const [which, run] of [["console", await consoleCli(env, ".ai hi\n")], [
      "run",
      await runCli(env),
    ]] as const
  ) {
    strictEqual(run.code, 1, `${which}: ${run.stderr}`);
    match(run.stderr, /state\.db has schema version 99, newer than this InfiniGPT understands/);
    match(run.stderr, /Run the newer version, or restore a backup/);
    assertNoStack(run.stderr, `${which} stderr`);
    strictEqual(run.stdout, "");
    deepStrictEqual(await Deno.readFile(path), before, `${which} changed state.db`);
  }
});

// ---------------------------------------------------------------------------
// 6. kill -9 during writes

/** Appends to the thread store in a tight loop, in several threads, until killed. */
const WRITER_SCRIPT = `
import { Store } from ${JSON.stringify(STORE_MODULE)};
import { SqliteThreadStore } from ${JSON.stringify(THREADS_MODULE)};
const [dir, round] = Deno.args;
const store = Store.open(dir);
const history = new SqliteThreadStore(store.db, {
  prompt: ["you are ", ".", ""], personality: "p", historySize: 40, verbose: () => false,
});
Deno.stdout.writeSync(new TextEncoder().encode("ready\\n"));
for (let n = 0;; n++) {
  const user = "@u" + (n % 7) + ":test";
  // Sizes vary so rows span one to several pages and overflow chains.
  const content = "r" + round + " n" + n + " " + "x".repeat((n * 997) % 9000);
  const message = { role: n % 2 ? "assistant" : "user", content, id: round + ":" + n };
  if (n % 5 === 4) {
    store.transaction(() => {
      history.append("!room:test", user, message);
      history.append("!other:test", user, { ...message, id: message.id + ":b" });
    });
  } else history.append("!room:test", user, message);
}
`;

/** The (round, n) of a message id written by the writer script. */
function order(id: string | undefined): [number, number] {
  const m = /^(\d+):(\d+)/.exec(id ?? "");
  ok(m, `unexpected message id ${id}`);
  return [Number(m[1]), Number(m[2])];
}

Deno.test("kill -9 at random moments during thread store writes never corrupts state.db nor tears a thread", async () => {
  const dir = await Deno.makeTempDir({ prefix: "infinigpt-kill9-" });
  const script = join(dir, "writer.ts");
  const store = join(dir, "store");
  await Deno.writeTextFile(script, WRITER_SCRIPT);
  /** The newest message id seen in each thread: committed appends must never vanish. */
  const newest = new Map<string, [number, number]>();
  let advanced = 0;
  try {
    for (let round = 1; round <= 20; round++) {
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "--no-config", "-A", script, store, String(round)],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const stderr = new Response(child.stderr).text();
      const reader = child.stdout.getReader();
      const first = await reader.read();
      const ready = !first.done && new TextDecoder().decode(first.value).includes("ready");
      if (ready) {
        await new Promise((r) => setTimeout(r, Math.random() * 250));
        child.kill("SIGKILL");
      }
      await reader.cancel();
      const status = await child.status;
      ok(ready, `round ${round}: the writer did not start: ${await stderr}`);
      assertKilled(status, `round ${round}: exited by itself: ${await stderr}`);

      const opened = Store.open(store);
      try {
        const check = (opened.db.prepare("PRAGMA integrity_check").all() as Array<
          { integrity_check: string }
        >).map((r) => r.integrity_check);
        deepStrictEqual(check, ["ok"], `round ${round}: integrity_check`);
        const rows = opened.db.prepare("SELECT room, user, messages FROM threads").all() as Array<
          { room: string; user: string; messages: string }
        >;
        let moved = false;
        for (const row of rows) {
          let thread: Message[];
          try {
            thread = JSON.parse(row.messages);
          } catch (error) {
            throw new Error(
              `round ${round}: torn thread ${row.room} ${row.user}: ${(error as Error).message}`,
            );
          }
          ok(Array.isArray(thread) && thread.length > 0, `round ${round}: empty thread`);
          strictEqual(thread[0].role, "system");
          const messages = thread.slice(1);
          ok(messages.length <= 39, `round ${round}: thread not trimmed (${messages.length})`);
          let previous: [number, number] = [0, -1];
          for (const m of messages) {
            ok(
              typeof m.content === "string" && /^r\d+ n\d+ x*$/.test(m.content),
              JSON.stringify(m.content),
            );
            const at = order(m.id);
            ok(
              at[0] > previous[0] || (at[0] === previous[0] && at[1] > previous[1]),
              `round ${round}: ${m.id} after ${previous.join(":")} in ${row.room} ${row.user}`,
            );
            previous = at;
          }
          const key = `${row.room} ${row.user}`;
          const seen = newest.get(key);
          if (seen) {
            ok(
              previous[0] > seen[0] || (previous[0] === seen[0] && previous[1] >= seen[1]),
              `round ${round}: ${key} lost ${seen.join(":")} (newest is ${previous.join(":")})`,
            );
          }
          if (!seen || previous[0] !== seen[0] || previous[1] !== seen[1]) moved = true;
          newest.set(key, previous);
        }
        // No thread disappears either.
        ok(rows.length >= newest.size, `round ${round}: a thread vanished`);
        if (moved) advanced++;
      } finally {
        opened.close();
      }
    }
    ok(advanced > 0, "the writer never committed anything before being killed");
    strictEqual(newest.size, 14, "7 users in 2 rooms");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
