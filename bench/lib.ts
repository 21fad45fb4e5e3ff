/**
 * Shared pieces of the benchmarks: statistics and process memory. The bot
 * with a user on a real Synapse is `scenario` of tests/e2e/helpers.ts.
 *
 * @module
 */
import { smapsSummary } from "./smaps.ts";

/** Median, min and max of a sample. */
export interface Stats {
  median: number;
  min: number;
  max: number;
  n: number;
}

/** Summarises a sample. */
export function stats(values: number[]): Stats {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], n: sorted.length };
}

/** `median (min–max)` with a unit. */
export function fmt(s: Stats, unit: string, digits = 0): string {
  const f = (n: number) => n.toFixed(digits);
  return `${f(s.median)} ${unit} (${f(s.min)}–${f(s.max)}, n=${s.n})`;
}

/** Resident set size of a process in MB (Linux /proc). */
export async function rssMb(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

/** A process and its resident set size. */
export interface ProcessRss {
  pid: number;
  /** The command line, shortened. */
  command: string;
  rssMb: number;
  /** Of the RSS, pages of the `deno` executable file (shared by every Deno process). */
  exeMb: number;
}

/** Parent pid of a process (Linux /proc), or undefined when it is gone. */
function parentOf(pid: number): number | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return undefined;
  }
}

/** `pid` and all its descendants with their RSS (Linux /proc). */
export async function treeRss(pid: number): Promise<ProcessRss[]> {
  const all = [...Deno.readDirSync("/proc")].filter((e) => /^\d+$/.test(e.name)).map((e) =>
    Number(e.name)
  );
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) {
    for (const p of all) if (parentOf(p) === tree[i]) tree.push(p);
  }
  const out: ProcessRss[] = [];
  for (const p of tree) {
    try {
      const command = (await Deno.readTextFile(`/proc/${p}/cmdline`)).split("\0")
        .filter(Boolean).map((a) => a.length > 40 ? `${a.slice(0, 37)}...` : a).join(" ");
      const exeMb = (await smapsSummary(p))["deno executable"] ?? 0;
      out.push({ pid: p, command, rssMb: await rssMb(p), exeMb });
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}
