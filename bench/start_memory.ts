/**
 * Cold start with a warm store (process start → ready, and the bot's own
 * "Ready in" figure) and RSS idle / after N exchanges.
 *
 * `deno run -A --conditions=matrix-org:wasm-esm bench/start_memory.ts [--starts 5] [--exchanges 500]`
 *
 * @module
 */
import { parseArgs } from "node:util";
import { scenario } from "../tests/e2e/helpers.ts";
import { fmt, rssMb, stats } from "./lib.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { starts: { type: "string" }, exchanges: { type: "string" } },
});
const starts = Number(values.starts ?? 5);
const exchanges = Number(values.exchanges ?? 500);

const s = await scenario({ config: { llm: { thinking: false } } });
try {
  await s.ask("warm up");
  // Restarts on the same (warm) store.
  const wall: number[] = [];
  const inner: number[] = [];
  for (let i = 0; i < starts; i++) {
    await s.bot.stop();
    const t0 = performance.now();
    const bot = await s.setup.start();
    const line = await bot.ready();
    wall.push(performance.now() - t0);
    console.error(`restart ${i + 1}: ${line.slice(0, 80)}`);
    inner.push(Number(/Ready in (\d+) ms/.exec(line)![1]));
    s.bot = bot;
  }
  await s.ask("after restarts");
  await new Promise((r) => setTimeout(r, 3000));
  const idle = await rssMb(s.bot.pid);
  const t0 = performance.now();
  for (let i = 0; i < exchanges; i++) {
    await s.ask(`x${i}`);
    if (i % 100 === 99) console.error(`${i + 1} exchanges`);
  }
  const seconds = (performance.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 3000));
  const after = await rssMb(s.bot.pid);
  console.log(`cold start, warm store, process start → ready: ${fmt(stats(wall), "ms")}`);
  console.log(`  of which inside the bot (config loaded → ready): ${fmt(stats(inner), "ms")}`);
  console.log(`RSS idle: ${idle.toFixed(1)} MB`);
  console.log(
    `RSS after ${exchanges} exchanges: ${after.toFixed(1)} MB (${
      (exchanges / seconds).toFixed(1)
    } exchanges/s, one at a time)`,
  );
} finally {
  await s.close();
}
