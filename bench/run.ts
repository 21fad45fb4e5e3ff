/**
 * `deno task bench`: speed and memory of the real bot on a real Synapse with
 * the fake model, as a table. Each figure is the median of repeated runs
 * (min–max in brackets). Needs SYNAPSE_URL / SYNAPSE_SHARED_SECRET (see
 * scripts/e2e_env.sh). `--quick` runs fewer repetitions.
 *
 * 1. reply overhead vs a minimal matrix-js-sdk echo client (the floor)
 * 2. concurrency: 20 users in 10 rooms at once, model latency 2 s
 * 3. start: process start → ready, warm store
 * 4. memory: RSS idle, after 1,000 exchanges over 100 threads, growth over
 *    the 2nd and 3rd 1,000
 * 5. throughput: offered load steps until replies slow down
 * 6. footprint: `deno task start` as an operator runs it, every process of
 *    it idle in an encrypted room; the floor of the design's libraries
 * 7. image: the latency a 1 MB encrypted image adds (bench/image.ts)
 *
 * @module
 */
import { parseArgs } from "node:util";
import { FakeOpenAI } from "../tests/fixtures/fake_openai.ts";
import {
  type BotProcess,
  registerUser,
  ROOT,
  setupBot,
  SYNAPSE_URL,
  TestClient,
  unique,
  waitFor,
} from "../tests/e2e/helpers.ts";
import { BOT_ENV, V8_FLAGS } from "../lib/permissions.ts";
import { crowd } from "./crowd.ts";
import { fmt, rssMb, type Stats, stats, treeRss } from "./lib.ts";
import { imageLatency, imageRows } from "./image.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { quick: { type: "boolean" }, only: { type: "string" } },
});
const quick = !!values.quick;
const only = values.only?.split(",");
const want = (name: string) => !only || only.includes(name);
const rows: Array<[string, string, string]> = [];
const note = (...lines: string[]) => console.error(lines.join("\n"));

function row(what: string, value: string, target: string): void {
  rows.push([what, value, target]);
  note(`  ${what}: ${value}`);
}

/** Waits for a reply text from `sender` and returns it with its server timestamp. */
async function reply(
  client: TestClient,
  room: string,
  sender: string,
  text: string,
  timeoutMs = 120_000,
) {
  return await client.waitForMessage(room, sender, (t) => t.endsWith(`Echo: ${text}`), timeoutMs);
}

// --- 1. reply overhead ------------------------------------------------------

async function overhead(): Promise<void> {
  note("1. reply overhead (zero-latency model, encrypted room, thinking placeholder off)");
  await using fake = FakeOpenAI.start();
  const alice = await TestClient.create("alice");
  const setup = await setupBot({
    providerUrl: fake.url,
    admins: [alice.userId],
    config: { llm: { thinking: false } },
  });
  const bot = await setup.start({ INFINIGPT_TIMINGS: "1" });
  const echoName = unique("echo");
  const echoLogin = await registerUser(echoName, `pw-${echoName}`);
  const echo = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--conditions=matrix-org:wasm-esm",
      `${ROOT}/bench/echo_client.ts`,
      JSON.stringify({
        baseUrl: SYNAPSE_URL,
        userId: echoLogin.user_id,
        deviceId: echoLogin.device_id,
        accessToken: echoLogin.access_token,
      }),
    ],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  try {
    await bot.ready();
    const reader = echo.stdout.pipeThrough(new TextDecoderStream()).getReader();
    for (let text = ""; !text.includes("READY");) text += (await reader.read()).value ?? "";
    reader.releaseLock();
    const botRoom = await alice.createRoom({ invite: [setup.userId] });
    const echoRoom = await alice.createRoom({ invite: [echoLogin.user_id] });
    await alice.waitForJoin(botRoom, setup.userId);
    await alice.waitForJoin(echoRoom, echoLogin.user_id);
    const n = quick ? 10 : 30;
    const botRtt: number[] = [],
      echoRtt: number[] = [],
      botTs: number[] = [],
      echoTs: number[] = [];
    for (let i = -3; i < n; i++) { // three warm-up rounds each
      for (
        const [room, peer, rtt, ts] of [
          [botRoom, setup.userId, botRtt, botTs],
          [echoRoom, echoLogin.user_id, echoRtt, echoTs],
        ] as const
      ) {
        const text = `o${i}-${peer.slice(1, 4)}`;
        const t0 = performance.now();
        const id = await alice.send(room, `.ai ${text}`);
        const seen = await reply(alice, room, peer, text);
        const t1 = performance.now();
        const sentTs = alice.client.getRoom(room)?.findEventById(id)?.getTs() ??
          (await alice.client.fetchRoomEvent(room, id)).origin_server_ts!;
        if (i >= 0) {
          rtt.push(t1 - t0);
          ts.push(seen.ts - sentTs);
        }
      }
    }
    const spans = bot.log.map((l) =>
      /received→provider ([\d.]+) ms, answer→send ([\d.]+) ms/.exec(l)
    )
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]) + Number(m[2]))
      .slice(3);
    const b = stats(botRtt), e = stats(echoRtt);
    row("1a. round trip, bot (send → reply received)", fmt(b, "ms", 1), "≤ 1.2× floor");
    row("1a. round trip, echo client (the floor)", fmt(e, "ms", 1), "");
    row("1a. ratio bot / floor (medians)", (b.median / e.median).toFixed(2), "≤ 1.20");
    row(
      "1b. server timestamps, reply − message, bot",
      fmt(stats(botTs), "ms"),
      "≤ 15 ms (Python bot: 53 ms)",
    );
    row("1b. server timestamps, reply − message, echo client", fmt(stats(echoTs), "ms"), "");
    if (spans.length) row("1c. bot's own processing (spans)", fmt(stats(spans), "ms", 2), "≤ 5 ms");
  } finally {
    try {
      echo.kill("SIGTERM");
    } catch { /* gone */ }
    await echo.status;
    await bot.stop();
    alice.stop();
    await setup.remove();
  }
}

// --- 2. concurrency -------------------------------------------------------------

async function concurrency(): Promise<void> {
  note("2. concurrency: 20 users in 10 rooms send at once, model latency 2 s");
  for (const cap of [32, 8]) {
    await using fake = FakeOpenAI.start({ latencyMs: 2000 });
    const owner = await TestClient.create("owner");
    const setup = await setupBot({
      providerUrl: fake.url,
      admins: [owner.userId],
      config: { llm: { max_concurrency: cap } },
    });
    const bot = await setup.start();
    try {
      await bot.ready();
      const c = await crowd(owner, setup.userId, 20, 10, false);
      const runs: number[] = [];
      const server: number[] = [];
      for (let run = 0; run < (quick ? 1 : 3); run++) {
        const t0 = performance.now();
        const spans = await Promise.all(
          [...c.members].flatMap(([room, users]) =>
            users.map(async (u, i) => {
              const text = `c${run}-${room.slice(1, 6)}-${i}`;
              const id = await u.send(room, `.ai ${text}`);
              const seen = await reply(u, room, setup.userId, text);
              const sent = u.client.getRoom(room)?.findEventById(id)?.getTs() ?? seen.ts;
              return [sent, seen.editedTs ?? seen.ts];
            })
          ),
        );
        runs.push((performance.now() - t0) / 1000);
        server.push(
          (Math.max(...spans.map((s) => s[1])) - Math.min(...spans.map((s) => s[0]))) / 1000,
        );
      }
      row(
        `2. all 20 replies, at the clients (llm.max_concurrency ${cap})`,
        fmt(stats(runs), "s", 2),
        cap === 32
          ? "≤ 3 s (serial: 40 s; Python bot: 10.3 s for 5 users)"
          : "(default cap: 20 calls in 3 waves)",
      );
      row(
        `2. first message → last reply, server timestamps (cap ${cap})`,
        fmt(stats(server), "s", 2),
        cap === 32 ? "≤ 3 s" : "",
      );
      c.users.forEach((u) => u.stop());
    } finally {
      await bot.stop();
      owner.stop();
      await setup.remove();
    }
  }
}

// --- 3. start -------------------------------------------------------------------

async function start(): Promise<void> {
  note("3. start: process start → ready, warm store");
  await using fake = FakeOpenAI.start();
  const alice = await TestClient.create("alice");
  const setup = await setupBot({ providerUrl: fake.url, admins: [alice.userId] });
  let bot = await setup.start();
  try {
    await bot.ready();
    const room = await alice.createRoom({ invite: [setup.userId] });
    await alice.waitForJoin(room, setup.userId);
    await alice.send(room, ".ai warm");
    await reply(alice, room, setup.userId, "warm");
    const wall: number[] = [];
    const first: number[] = [];
    for (let i = 0; i < (quick ? 3 : 7); i++) {
      await bot.stop();
      const t0 = performance.now();
      bot = await setup.start();
      await bot.ready();
      wall.push(performance.now() - t0);
      await alice.send(room, `.ai s${i}`);
      await reply(alice, room, setup.userId, `s${i}`);
      first.push(performance.now() - t0);
    }
    row("3. process start → ready (warm store)", fmt(stats(wall), "ms"), "≤ 1,000 ms");
    row("3. process start → first answer", fmt(stats(first), "ms"), "(Python bot: 1,700 ms)");
  } finally {
    await bot.stop();
    alice.stop();
    await setup.remove();
  }
}

// --- 4. memory and 5. throughput ----------------------------------------------------

/** Asks the bot for its Stats line (SIGUSR1): heap, external, timeline sizes. */
async function botStats(bot: BotProcess): Promise<string> {
  const from = bot.log.length;
  try {
    Deno.kill(bot.pid, "SIGUSR1");
  } catch {
    return "(no SIGUSR1 here)";
  }
  for (let i = 0; i < 50; i++) {
    const line = bot.log.slice(from).find((l) => l.includes("Stats: "));
    if (line) return line.slice(line.indexOf("Stats: ") + 7);
    await new Promise((r) => setTimeout(r, 100));
  }
  return "(no answer to SIGUSR1)";
}

async function memoryAndThroughput(): Promise<void> {
  note("4. memory: idle, after 1,000 exchanges over 100 threads, after 1,000 more; 5. throughput");
  await using fake = FakeOpenAI.start();
  const owner = await TestClient.create("owner");
  const setup = await setupBot({ providerUrl: fake.url, admins: [owner.userId] });
  const bot = await setup.start();
  try {
    await bot.ready();
    await new Promise((r) => setTimeout(r, 5000));
    const idle = await rssMb(bot.pid);
    note(`  idle: ${await botStats(bot)}`);
    const c = await crowd(owner, setup.userId, 10, 10, true);
    const exchanges = quick ? 200 : 1000;
    const round = async (tag: string) => {
      const t0 = performance.now();
      await Promise.all(c.users.map(async (u, ui) => {
        for (let k = 0; k < exchanges / c.users.length; k++) {
          const room = c.rooms[k % c.rooms.length];
          const text = `${tag}-${ui}-${k}`;
          await u.send(room, `.ai ${text}`);
          await reply(u, room, setup.userId, text);
        }
      }));
      return (performance.now() - t0) / 1000;
    };
    // Three rounds: the first fills what has a bound (timelines, caches),
    // the next two show whether anything grows without one.
    const after: number[] = [];
    for (const tag of ["m1", "m2", "m3"]) {
      const took = await round(tag);
      await new Promise((r) => setTimeout(r, 5000));
      after.push(await rssMb(bot.pid));
      note(`  after round ${tag} (${took.toFixed(0)} s): ${await botStats(bot)}`);
    }
    row("4. RSS idle (after start)", `${idle.toFixed(1)} MB`, "≤ 100 MB (Python bot: 58 MB)");
    row(
      `4. RSS after ${exchanges} exchanges, 100 threads`,
      `${after[0].toFixed(1)} MB`,
      "≤ 140 MB (Python bot: 61 MB)",
    );
    row(
      `4. growth over the 2nd ${exchanges}`,
      `${(after[1] - after[0]).toFixed(1)} MB (${after[1].toFixed(1)} MB)`,
      "≤ +2 MB",
    );
    row(
      `4. growth over the 3rd ${exchanges}`,
      `${(after[2] - after[1]).toFixed(1)} MB (${after[2].toFixed(1)} MB)`,
      "≤ +2 MB",
    );

    // 5. Offered load in steps; latency of each exchange at that load.
    const steps = quick ? [2, 8, 16] : [2, 5, 10, 20, 30, 40];
    const seconds = quick ? 5 : 10;
    let knee: string | undefined;
    let base: Stats | undefined;
    for (const rate of steps) {
      const latencies: number[] = [];
      const pending: Promise<void>[] = [];
      const t0 = performance.now();
      for (let i = 0; i < rate * seconds; i++) {
        const at = t0 + (i * 1000) / rate;
        await new Promise((r) => setTimeout(r, Math.max(0, at - performance.now())));
        const u = c.users[i % c.users.length];
        const room = c.rooms[Math.floor(i / c.users.length) % c.rooms.length];
        const text = `t${rate}-${i}`;
        pending.push((async () => {
          const s = performance.now();
          await u.send(room, `.ai ${text}`);
          await reply(u, room, setup.userId, text, 300_000);
          latencies.push(performance.now() - s);
        })());
      }
      await Promise.all(pending);
      const took = (performance.now() - t0) / 1000;
      const l = stats(latencies);
      base ??= l;
      const achieved = latencies.length / took;
      note(`  offered ${rate}/s: achieved ${achieved.toFixed(1)}/s, latency ${fmt(l, "ms")}`);
      if (!knee && (l.median > 2 * base.median || achieved < rate * 0.9)) {
        knee = `${rate}/s offered → ${achieved.toFixed(1)}/s achieved, median latency ${
          l.median.toFixed(0)
        } ms`;
      }
    }
    row(
      "5. throughput knee (first step where latency doubles or replies fall behind)",
      knee ?? `none up to ${steps.at(-1)}/s`,
      "(report)",
    );
    c.users.forEach((u) => u.stop());
  } finally {
    await bot.stop();
    owner.stop();
    await setup.remove();
  }
}

// --- 6. footprint ---------------------------------------------------------------

/** Median RSS of `bench/import_memory.ts <what>` under the bot's flags and malloc settings. */
async function importRss(what: string, runs: number): Promise<Stats> {
  const values: number[] = [];
  for (let i = 0; i < runs; i++) {
    const { stdout } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--conditions=matrix-org:wasm-esm",
        `--v8-flags=${V8_FLAGS.join(",")}`,
        `${ROOT}/bench/import_memory.ts`,
        what,
      ],
      env: { ...BOT_ENV },
      stdout: "piped",
      stderr: "inherit",
    }).output();
    const line = new TextDecoder().decode(stdout);
    values.push(Number(/rss ([\d.]+) MB/.exec(line)?.[1] ?? NaN));
  }
  return stats(values);
}

async function footprint(): Promise<void> {
  note("6. footprint: deno task start, every process, idle in an encrypted room");
  const runs = quick ? 1 : 3;
  const totals: number[] = [];
  const exe: number[] = [];
  const bots: number[] = [];
  let parts = "";
  for (let run = 0; run < runs; run++) {
    await using fake = FakeOpenAI.start();
    const alice = await TestClient.create("alice");
    const setup = await setupBot({ providerUrl: fake.url, admins: [alice.userId] });
    // As the README starts it: the task runner, whatever it starts, the bot.
    const task = new Deno.Command(Deno.execPath(), {
      args: ["task", "--quiet", "start", "--config", setup.configPath],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const log: string[] = [];
    const pump = async (stream: ReadableStream<Uint8Array>) => {
      const decoder = new TextDecoder();
      for await (const chunk of stream) log.push(...decoder.decode(chunk).split("\n"));
    };
    const pumps = [pump(task.stdout), pump(task.stderr)];
    try {
      await waitFor(
        "Ready",
        () => log.some((l) => / Ready in \d+ ms/.test(l)) || undefined,
        60_000,
      );
      const room = await alice.createRoom({ invite: [setup.userId] });
      await alice.waitForJoin(room, setup.userId);
      await alice.send(room, ".ai idle soon");
      await reply(alice, room, setup.userId, "idle soon");
      await new Promise((r) => setTimeout(r, 5000));
      const tree = await treeRss(task.pid);
      const total = tree.reduce((sum, p) => sum + p.rssMb, 0);
      totals.push(total);
      exe.push(tree.reduce((sum, p) => sum + p.exeMb, 0));
      bots.push(Math.max(...tree.filter((p) => p.command.includes("main.ts")).map((p) => p.rssMb)));
      parts = tree.map((p) =>
        `${p.rssMb.toFixed(1)} MB (executable ${p.exeMb.toFixed(1)}) ${p.command.slice(0, 60)}`
      ).join("; ");
      note(`  run ${run + 1}: ${total.toFixed(1)} MB in ${tree.length} processes: ${parts}`);
    } finally {
      task.kill("SIGTERM");
      const status = await task.status;
      await Promise.all(pumps);
      note(`  stopped with SIGTERM: exit code ${status.code}`);
      alice.stop();
      await setup.remove();
    }
  }
  row(
    "6. deno task start, all processes, idle in an encrypted room",
    fmt(stats(totals), "MB", 1),
    "≤ 135 MB (was 225 MB; Python bot: 58 MB)",
  );
  row("6. of which the bot process", fmt(stats(bots), "MB", 1), "≤ 100 MB");
  row(
    "6. of the sum, pages of the deno executable file (shared, counted in each process)",
    fmt(stats(exe), "MB", 1),
    "(report)",
  );
  note(`  processes of the last run: ${parts}`);
  note("6. the floor: an empty Deno process with the bot's flags and only its libraries");
  row("6. empty Deno process", fmt(await importRss("none", runs), "MB", 1), "");
  row(
    "6. the same with the libraries the idle bot needs (floor)",
    fmt(await importRss("floor", runs), "MB", 1),
    "(sdk + crypto wasm + openai + zod + marked + logtape + sqlite)",
  );
  row(
    "6. empty Deno process with the MCP SDK client",
    fmt(await importRss("mcp", runs), "MB", 1),
    "(loaded only with llm.mcp_servers)",
  );
}

await waitFor(
  "Synapse",
  async () =>
    (await fetch(`${SYNAPSE_URL}/_matrix/client/versions`).catch(() => null))?.ok || undefined,
  10_000,
)
  .catch(() => {
    console.error(
      `No Synapse at ${SYNAPSE_URL}. Start one: set -a; eval "$(bash scripts/e2e_env.sh)"; set +a`,
    );
    Deno.exit(1);
  });
if (want("overhead")) await overhead();
if (want("concurrency")) await concurrency();
if (want("start")) await start();
if (want("memory")) await memoryAndThroughput();
if (want("footprint")) await footprint();
if (want("image")) {
  note("7. image: a 1 MB encrypted image vs text (zero-latency model, server timestamps)");
  for (const [what, value, target] of imageRows(await imageLatency(quick ? 3 : 10))) {
    row(what, value, target);
  }
}

const widths = [0, 1, 2].map((i) =>
  Math.max(...rows.map((r) => r[i].length), ["figure", "value", "target"][i].length)
);
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
console.log(line(["figure", "value", "target"]));
console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
for (const r of rows) console.log(line(r));
Deno.exit(0);
