/**
 * One bot, one encrypted room, N `.ai` exchanges one after another, with
 * extra environment variables for the bot (malloc tuning and the like):
 * prints RSS idle and after the run, the bot's CPU time, and its own Stats line
 * (V8 heap, external memory). Used to compare memory settings.
 *
 * `deno run -A --conditions=matrix-org:wasm-esm bench/memory_variants.ts '{"MALLOC_ARENA_MAX":"1"}' 400`
 *
 * @module
 */
import { scenario } from "../tests/e2e/helpers.ts";
import { rssMb } from "./lib.ts";

/** User + system CPU time of a process so far (Linux /proc). */
async function cpuSeconds(pid: number): Promise<number> {
  const fields = (await Deno.readTextFile(`/proc/${pid}/stat`)).replace(/^.*\) /, "").split(" ");
  // Fields 14 and 15 of stat (utime, stime), counted after the command name.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const env = JSON.parse(Deno.args[0] ?? "{}") as Record<string, string>;
const n = Number(Deno.args[1] ?? 400);
const s = await scenario({ env, config: { llm: { thinking: true } } });
try {
  await s.ask("warm");
  await new Promise((r) => setTimeout(r, 3000));
  const idle = await rssMb(s.bot.pid);
  for (let i = 0; i < n; i++) await s.ask(`q${i}`);
  await new Promise((r) => setTimeout(r, 5000));
  const after = await rssMb(s.bot.pid);
  const cpu = await cpuSeconds(s.bot.pid);
  const from = s.bot.log.length;
  Deno.kill(s.bot.pid, "SIGUSR1");
  await new Promise((r) => setTimeout(r, 500));
  const line = s.bot.log.slice(from).find((l) => l.includes("Stats: "));
  console.log(
    `${JSON.stringify(env)}: RSS idle ${idle.toFixed(1)} MB, after ${n}: ${after.toFixed(1)} MB, ` +
      `bot CPU ${cpu.toFixed(1)} s in all; ${
        line?.slice(line.indexOf("Stats: ") + 7) ?? "(no stats)"
      }`,
  );
} finally {
  await s.close();
}
