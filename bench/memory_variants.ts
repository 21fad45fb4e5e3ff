/**
 * One bot, one encrypted room, N `.ai` exchanges one after another, with
 * extra environment variables for the bot (malloc tuning and the like):
 * prints RSS idle and after the run, and the bot's own Stats line
 * (V8 heap, external memory). Used to compare memory settings.
 *
 * `deno run -A --conditions=matrix-org:wasm-esm bench/memory_variants.ts '{"MALLOC_ARENA_MAX":"1"}' 400`
 *
 * @module
 */
import { rssMb, scenario } from "./lib.ts";

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
  const from = s.bot.log.length;
  Deno.kill(s.bot.pid, "SIGUSR1");
  await new Promise((r) => setTimeout(r, 500));
  const line = s.bot.log.slice(from).find((l) => l.includes("Stats: "));
  console.log(
    `${JSON.stringify(env)}: RSS idle ${idle.toFixed(1)} MB, after ${n}: ${after.toFixed(1)} MB; ${
      line?.slice(line.indexOf("Stats: ") + 7) ?? "(no stats)"
    }`,
  );
} finally {
  await s.close();
}
