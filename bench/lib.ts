/**
 * Shared pieces of the benchmarks: statistics and process memory. The bot
 * with a user on a real Synapse is `scenario` of tests/e2e/helpers.ts.
 *
 * @module
 */

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
