/**
 * What libraries cost in memory with nothing else: imports them into an
 * otherwise empty process, waits, and prints RSS, V8 heap and external
 * memory. A comma-separated list imports several; `floor` is everything the
 * idle bot cannot do without (the Matrix SDK with its crypto wasm
 * instantiated, openai, zod, marked, logtape and an open SQLite database):
 * the least the bot process can cost with the design's libraries.
 *
 * `deno run -A --conditions=matrix-org:wasm-esm --v8-flags=--max-semi-space-size=1,--optimize-for-size bench/import_memory.ts <none|sdk|crypto|openai|zod|mcp|marked|logtape|sqlite|floor>[,…] [--smaps]`
 *
 * `--smaps` adds where the RSS is (bench/smaps.ts).
 *
 * @module
 */
const FLOOR = ["sdk", "crypto", "openai", "zod", "marked", "logtape", "sqlite"];
import { formatSmaps, smapsSummary } from "./smaps.ts";

const what = Deno.args[0] ?? "none";
const names = what.split(",").flatMap((n) => n === "floor" ? FLOOR : [n]);
// Literal specifiers only: the module graph stays static (compile-safe).
for (const name of names) {
  if (name === "sdk") await import("matrix-js-sdk");
  if (name === "crypto") {
    // The wasm module is compiled and instantiated by initAsync, not at import.
    const wasm = await import("@matrix-org/matrix-sdk-crypto-wasm");
    await wasm.initAsync();
  }
  if (name === "openai") await import("openai");
  if (name === "zod") await import("zod");
  if (name === "mcp") await import("@modelcontextprotocol/sdk/client/index.js");
  if (name === "marked") await import("marked");
  if (name === "logtape") await import("@logtape/logtape");
  if (name === "sqlite") {
    const { DatabaseSync } = await import("node:sqlite");
    new DatabaseSync(":memory:").exec("create table t (x)");
  }
}
await new Promise((r) => setTimeout(r, 1500));
const status = Deno.readTextFileSync("/proc/self/status");
const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024;
const m = Deno.memoryUsage();
const mb = (n: number) => (n / 1048576).toFixed(1);
console.log(
  `${what}: rss ${rss.toFixed(1)} MB, heap used ${mb(m.heapUsed)} MB, external ${
    mb(m.external)
  } MB`,
);
if (Deno.args.includes("--smaps")) console.log(formatSmaps(await smapsSummary(Deno.pid)));
