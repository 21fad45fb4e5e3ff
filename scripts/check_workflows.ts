/**
 * Checks that the GitHub workflows call only what exists: every
 * `deno task <name>` is a task in deno.json, every `scripts/<file>` is a file,
 * and every setup-deno step installs the Deno version of `.ci/run`.
 *
 *     deno run --allow-read scripts/check_workflows.ts
 *
 * Exit 0 when all hold, 1 with one line per problem otherwise.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import denoJson from "../deno.json" with { type: "json" };

/** A reference a workflow makes that does not resolve. */
export interface Problem {
  file: string;
  line: number;
  message: string;
}

/** What {@link checkWorkflow} compares against. */
export interface Known {
  tasks: ReadonlySet<string>;
  exists: (path: string) => boolean;
  denoVersion: string;
}

/** The problems in one workflow's text. */
export function checkWorkflow(file: string, text: string, known: Known): Problem[] {
  const problems: Problem[] = [];
  text.split("\n").forEach((raw, index) => {
    const line = raw.replace(/(^|\s)#.*$/, "");
    const at = (message: string) => problems.push({ file, line: index + 1, message });
    for (const [, task] of line.matchAll(/\bdeno task ([\w:.-]+)/g)) {
      if (!known.tasks.has(task)) at(`deno task ${task}: no such task in deno.json`);
    }
    for (const [, path] of line.matchAll(/(?<![\w./-])(scripts\/[\w./-]*\w)/g)) {
      if (!known.exists(path)) at(`${path}: no such file`);
    }
    const version = line.match(/^\s*deno-version:\s*["']?([^"'\s]+)/)?.[1];
    if (version !== undefined && version !== known.denoVersion) {
      at(`deno-version ${version}, expected ${known.denoVersion} (as .ci/run)`);
    }
  });
  return problems;
}

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));

function exists(path: string): boolean {
  try {
    Deno.statSync(join(ROOT, path));
    return true;
  } catch {
    return false;
  }
}

if (import.meta.main) {
  const ciRun = Deno.readTextFileSync(join(ROOT, ".ci", "run"));
  const known: Known = {
    tasks: new Set(Object.keys(denoJson.tasks)),
    exists,
    denoVersion: ciRun.match(/^DENO_VERSION=(\S+)/m)?.[1] ?? "(none in .ci/run)",
  };
  const dir = join(ROOT, ".github", "workflows");
  const problems: Problem[] = [];
  let files = 0;
  for (const entry of [...Deno.readDirSync(dir)].sort((a, b) => a.name.localeCompare(b.name))) {
    if (!/\.ya?ml$/.test(entry.name)) continue;
    files++;
    const file = `.github/workflows/${entry.name}`;
    problems.push(...checkWorkflow(file, Deno.readTextFileSync(join(dir, entry.name)), known));
  }
  for (const p of problems) console.error(`${p.file}:${p.line}: ${p.message}`);
  console.log(`${files} workflow(s) checked, ${problems.length} problem(s)`);
  Deno.exit(problems.length || files === 0 ? 1 : 0);
}
