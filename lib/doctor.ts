/**
 * `infinigpt doctor` (decision 46): checks a config online and prints one
 * ✓ or ✗ line per check, with a hint under each ✗. This module runs the
 * checks (each bounded in time, independent ones in parallel, a failed
 * step skipping the steps that need it) and writes the report; the checks
 * themselves are in `doctor_checks.ts`.
 *
 * @module
 */
import type { Config } from "./config.ts";
import type { Env } from "./env.ts";

/** What the checks need. */
export interface DoctorInputs {
  config: Config;
  env: Env;
  fetch?: typeof fetch;
}

/** What one check found. */
export interface CheckResult {
  ok: boolean;
  /** One line: what was found (✓) or what is wrong (✗). Never a secret. */
  detail: string;
  /** What to do about a ✗. */
  hint?: string;
}

/** One check. */
export interface Check {
  /** Shown first on its line, e.g. `provider openai`. */
  name: string;
  /** Runs the check; `signal` is aborted when its time is up. */
  run(signal: AbortSignal): Promise<CheckResult>;
}

/** A check's result with its name. */
export interface Reported extends CheckResult {
  name: string;
}

/** The most one check may take. */
export const CHECK_TIMEOUT_MS = 10_000;

/** Runs one check within `timeoutMs`; a throw or the timeout is a ✗ with the reason. */
export async function runCheck(check: Check, timeoutMs = CHECK_TIMEOUT_MS): Promise<Reported> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(() => {
      controller.abort(new Error(`no answer within ${timeoutMs / 1000} s`));
      resolve({
        ok: false,
        detail: `no answer within ${timeoutMs / 1000} s`,
        hint: "check that the address is right and reachable from this machine",
      });
    }, timeoutMs);
  });
  try {
    const result = await Promise.race([
      check.run(controller.signal).catch((error): CheckResult => ({
        ok: false,
        detail: (error as Error).message ?? String(error),
      })),
      timedOut,
    ]);
    return { name: check.name, ...result };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs every chain at once; within a chain the checks run in order and a
 * ✗ skips the rest (they need what failed). Results keep the given order.
 */
export async function runChains(
  chains: readonly (readonly Check[])[],
  timeoutMs = CHECK_TIMEOUT_MS,
): Promise<Reported[]> {
  const results = await Promise.all(chains.map(async (chain) => {
    const out: Reported[] = [];
    for (const check of chain) {
      if (out.some((r) => !r.ok)) {
        out.push({ name: check.name, ok: false, detail: "skipped: an earlier step failed" });
        continue;
      }
      out.push(await runCheck(check, timeoutMs));
    }
    return out;
  }));
  return results.flat();
}

/** The report: one line per check, a hint under each ✗, a last line with the count. */
export function formatReport(results: readonly Reported[]): string {
  const lines: string[] = [];
  for (const r of results) {
    lines.push(`${r.ok ? "✓" : "✗"} ${r.name}: ${r.detail}`);
    if (!r.ok && r.hint) lines.push(`    hint: ${r.hint}`);
  }
  const failed = results.filter((r) => !r.ok).length;
  lines.push(
    failed
      ? `${failed} of ${results.length} checks failed.`
      : `All ${results.length} checks passed.`,
  );
  return lines.join("\n");
}

/** The exit code of a report: 0 when every check passed, 1 otherwise. */
export function exitCodeOf(results: readonly Reported[]): number {
  return results.every((r) => r.ok) ? 0 : 1;
}
