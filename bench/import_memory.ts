/**
 * What one library costs in memory on its own: imports it into an otherwise
 * empty process, waits, and prints RSS, V8 heap and external memory.
 *
 * `deno run -A --conditions=matrix-org:wasm-esm --v8-flags=--max-semi-space-size=1 bench/import_memory.ts <none|sdk|crypto|openai|zod>`
 *
 * @module
 */
const what = Deno.args[0] ?? "none";
// Literal specifiers only: the module graph stays static (compile-safe).
if (what === "sdk") await import("matrix-js-sdk");
if (what === "crypto") {
  // The wasm module is compiled and instantiated by initAsync, not at import.
  const wasm = await import("@matrix-org/matrix-sdk-crypto-wasm");
  await wasm.initAsync();
}
if (what === "openai") await import("openai");
if (what === "zod") await import("zod");
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
