/**
 * Where a process's resident memory is, from `/proc/<pid>/smaps` (Linux):
 * RSS summed by kind of mapping: the `deno` executable's pages, other
 * files, glibc's main heap, and anonymous memory (V8's heap and code, the
 * wasm memory, malloc arenas, thread stacks) split by size.
 *
 * `deno run -A bench/smaps.ts <pid>` prints it; {@link smapsSummary} is used
 * by the benchmarks.
 *
 * @module
 */

/** RSS in MB by kind of mapping. */
export type SmapsSummary = Record<string, number>;

/** Sums `Rss:` of every mapping of `pid` by kind. */
export async function smapsSummary(pid: number): Promise<SmapsSummary> {
  const text = await Deno.readTextFile(`/proc/${pid}/smaps`);
  const out: SmapsSummary = {};
  let kind = "";
  for (const line of text.split("\n")) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      const [start, end] = line.split(" ")[0].split("-").map((h) => parseInt(h, 16));
      const name = head[1];
      const size = (end - start) / 1048576;
      if (name.endsWith("/deno") || name.endsWith("/denort")) kind = "deno executable";
      else if (name === "[heap]") kind = "[heap] (glibc main heap)";
      else if (name.startsWith("[stack")) kind = "stacks";
      else if (name.startsWith("/")) kind = "other files";
      else if (name.startsWith("[")) kind = name;
      else if (size >= 60 && size <= 70) kind = "anon 64 MB regions (malloc arenas)";
      else if (size >= 1) kind = "anon ≥ 1 MB (V8 heap pages, wasm memory, big buffers)";
      else kind = "anon < 1 MB";
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) out[kind] = (out[kind] ?? 0) + Number(rss[1]) / 1024;
  }
  return out;
}

/** One line: `kind 12.3 MB, …`, largest first. */
export function formatSmaps(summary: SmapsSummary): string {
  return Object.entries(summary).sort((a, b) => b[1] - a[1])
    .map(([kind, mb]) => `${kind} ${mb.toFixed(1)} MB`).join(", ");
}

if (import.meta.main) {
  console.log(formatSmaps(await smapsSummary(Number(Deno.args[0] ?? Deno.pid))));
}
