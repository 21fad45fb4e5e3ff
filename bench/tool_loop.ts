/**
 * Tool-loop overhead per round with a zero-latency fake model: the median
 * time of answers needing 0, 1 and 5 tool rounds (calculate_expression),
 * and the slope per round. Includes the loopback HTTP request of each round.
 *
 * `deno run -A bench/tool_loop.ts [--runs 200]`
 *
 * @module
 */
import { parseArgs } from "node:util";
import { validateConfig } from "../lib/config.ts";
import { Llm } from "../lib/llm.ts";
import { setupLogging } from "../lib/log.ts";
import { Providers } from "../lib/providers.ts";
import { builtinTools } from "../lib/tools/builtins.ts";
import { ToolRegistry } from "../lib/tools/registry.ts";
import { FakeOpenAI } from "../tests/fixtures/fake_openai.ts";
import { rawConfig } from "../tests/fixtures/harness.ts";

const { values } = parseArgs({ args: Deno.args, options: { runs: { type: "string" } } });
const runs = Number(values.runs ?? 200);
setupLogging({ level: "error" });

const fake = FakeOpenAI.start();
const config = validateConfig(rawConfig(fake.url)).config;
const providers = new Providers({ config, env: {} });
const llm = new Llm({ providers, maxToolRounds: 10 });
const tools = new ToolRegistry(builtinTools());

// The model asks for `rounds` calculations, one per round, then answers.
let pending = 0;
fake.setHandler(() => {
  if (pending > 0) {
    pending--;
    return { toolCalls: [{ name: "calculate_expression", arguments: { expression: "6*7" } }] };
  }
  return { content: "done" };
});

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function measure(rounds: number): Promise<{ median: number; min: number; max: number }> {
  const times: number[] = [];
  for (let i = 0; i < runs + 20; i++) {
    pending = rounds;
    const t0 = performance.now();
    await llm.answer({ model: "gpt-4.1-nano", messages: [{ role: "user", content: "go" }], tools });
    if (i >= 20) times.push(performance.now() - t0); // the first 20 warm up
  }
  return { median: median(times), min: Math.min(...times), max: Math.max(...times) };
}

const r0 = await measure(0);
const r1 = await measure(1);
const r5 = await measure(5);
const f = (n: number) => n.toFixed(2).padStart(7);
console.log(`tool loop, zero-latency fake model, ${runs} runs each (ms: median / min / max)`);
console.log(`0 rounds (1 request):   ${f(r0.median)} / ${f(r0.min)} / ${f(r0.max)}`);
console.log(`1 round  (2 requests):  ${f(r1.median)} / ${f(r1.min)} / ${f(r1.max)}`);
console.log(`5 rounds (6 requests):  ${f(r5.median)} / ${f(r5.min)} / ${f(r5.max)}`);
console.log(`per round (1 - 0):      ${f(r1.median - r0.median)}`);
console.log(`per round ((5 - 0)/5):  ${f((r5.median - r0.median) / 5)}`);
await fake.close();
