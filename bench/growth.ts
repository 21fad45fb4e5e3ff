/**
 * What a long-running bot keeps: rounds of exchanges (10 users in 10
 * encrypted rooms, 100 threads) against the bot started with its start-task
 * flags plus the V8 inspector, and after each round its RSS, its Stats line
 * and a heap snapshot (after a full GC). Prints what grew in the heap from
 * each round to the next, by constructor.
 *
 * `deno run -A --conditions=matrix-org:wasm-esm bench/growth.ts [--rounds 3] [--exchanges 1000] [--save dir]`
 *
 * `--save` keeps the snapshots (`round-<n>.heapsnapshot`, for Chrome's
 * memory tab) and the bot's log. RSS is read before each snapshot (a snapshot leaves hundreds
 * of MB in malloc's heap, so RSS after the first round is not comparable
 * with `deno task bench`, whose figures count); this is for finding what
 * the heap keeps.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { FakeOpenAI } from "../tests/fixtures/fake_openai.ts";
import { botArgs, setupBot, TestClient } from "../tests/e2e/helpers.ts";
import { BOT_ENV } from "../lib/permissions.ts";
import { crowd } from "./crowd.ts";
import { grew, type HeapSummary, summarize, takeHeapSnapshot, totalMb } from "./heap.ts";
import { rssMb } from "./lib.ts";
import { formatSmaps, smapsSummary } from "./smaps.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    rounds: { type: "string" },
    exchanges: { type: "string" },
    save: { type: "string" },
    port: { type: "string" },
  },
});
const rounds = Number(values.rounds ?? 3);
const exchanges = Number(values.exchanges ?? 1000);
const port = Number(values.port ?? 9339);

await using fake = FakeOpenAI.start();
const owner = await TestClient.create("owner");
const setup = await setupBot({ providerUrl: fake.url, admins: [owner.userId] });
const args = await botArgs(setup.configPath, {}, []);
args.splice(1, 0, `--inspect=127.0.0.1:${port}`);
const bot = new Deno.Command(Deno.execPath(), {
  args,
  env: { NO_COLOR: "1", ...BOT_ENV },
  stdin: "null",
  stdout: "piped",
  stderr: "piped",
}).spawn();
const log: string[] = [];
const pump = async (stream: ReadableStream<Uint8Array>) => {
  const decoder = new TextDecoder();
  for await (const chunk of stream) log.push(...decoder.decode(chunk).split("\n"));
};
const pumps = [pump(bot.stdout), pump(bot.stderr)];

async function waitLog(pattern: RegExp, from = 0): Promise<string> {
  for (let i = 0; i < 1200; i++) {
    const line = log.slice(from).find((l) => pattern.test(l));
    if (line) return line;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no ${pattern} in the bot's log:\n${log.slice(-20).join("\n")}`);
}

async function stats(): Promise<string> {
  const from = log.length;
  Deno.kill(bot.pid, "SIGUSR1");
  return (await waitLog(/Stats: /, from)).replace(/.*Stats: /, "");
}

try {
  await waitLog(/ Ready in \d+ ms/);
  const c = await crowd(owner, setup.userId, 10, 10, true);
  const snapshots: HeapSummary[] = [];
  const rss: number[] = [];
  for (let round = 1; round <= rounds; round++) {
    const t0 = performance.now();
    await Promise.all(c.users.map(async (u, ui) => {
      for (let k = 0; k < exchanges / c.users.length; k++) {
        const room = c.rooms[k % c.rooms.length];
        const text = `g${round}-${ui}-${k}`;
        await u.send(room, `.ai ${text}`);
        await u.waitForMessage(room, setup.userId, (t) => t.endsWith(`Echo: ${text}`), 120_000);
      }
    }));
    const seconds = (performance.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 5000));
    // Before the snapshot: taking one leaves hundreds of MB in malloc's heap.
    rss.push(await rssMb(bot.pid));
    const line = await stats();
    const smaps = formatSmaps(await smapsSummary(bot.pid));
    const json = await takeHeapSnapshot(port);
    if (values.save) await Deno.writeTextFile(`${values.save}/round-${round}.heapsnapshot`, json);
    const summary = summarize(json);
    snapshots.push(summary);
    console.log(
      `round ${round} (${exchanges} exchanges, ${seconds.toFixed(0)} s): RSS ${
        rss.at(-1)!.toFixed(1)
      } MB` + (rss.length > 1 ? ` (${(rss.at(-1)! - rss.at(-2)!).toFixed(1)} MB)` : "") +
        `, snapshot ${totalMb(summary).toFixed(1)} MB; ${line}`,
    );
    console.log(`  ${smaps}`);
    if (snapshots.length > 1) {
      for (const g of grew(snapshots.at(-2)!, summary, 15)) {
        console.log(
          `  ${(g.size / 1024).toFixed(0).padStart(7)} KB ${
            String(g.count).padStart(7)
          }  ${g.kind}`,
        );
      }
    }
  }
  c.users.forEach((u) => u.stop());
} catch (error) {
  console.error(`failed; the bot's last log lines:\n${log.slice(-40).join("\n")}`);
  throw error;
} finally {
  if (values.save) await Deno.writeTextFile(`${values.save}/bot.log`, log.join("\n"));
  bot.kill("SIGTERM");
  await bot.status;
  await Promise.all(pumps);
  owner.stop();
  await setup.remove();
}
