/**
 * What can be checked about the release build on a machine where
 * `deno compile` cannot download its runtime (`denort`):
 *
 * 1. the compile tasks run scripts/compile_all.ts, whose commands carry the
 *    locked lockfile, the wasm-esm condition and every embedded file;
 * 2. the permissions baked into binaries equal the ones the end-to-end
 *    binary test runs the bot under (tests/e2e/binary_test.ts);
 * 3. every data file the program reads (a text import, or a read through
 *    `import.meta.url`) is embedded, and what the program sees is the file;
 * 4. the real `deno compile` runs through: type check, module graph with the
 *    compile flags, npm packages, embedded files. When `denort` cannot be
 *    downloaded, the Deno executable stands in as the base binary
 *    (`DENORT_BIN`): the output is not runnable, but everything Deno adds to
 *    the base is built, listed and measured.
 *
 *     deno task compile:check
 *
 * @module
 */
import { deepStrictEqual, ok } from "node:assert/strict";
import { join, relative } from "node:path";
import {
  binaryPermissionFlags,
  binaryProfileRunArgs,
  COMPILE_INCLUDES,
} from "../lib/permissions.ts";
import { EXAMPLE_CONFIG, HELP } from "../lib/assets.ts";
import { compileArgs, ROOT, TARGETS } from "./compile_all.ts";
import denoJson from "../deno.json" with { type: "json" };

const results: Array<{ name: string; ok: boolean; detail?: string }> = [];

async function check(name: string, fn: () => unknown | Promise<unknown>): Promise<void> {
  try {
    const detail = await fn();
    results.push({ name, ok: true, detail: typeof detail === "string" ? detail : undefined });
  } catch (error) {
    results.push({ name, ok: false, detail: (error as Error).message.split("\n")[0] });
  }
}

/** Flags that decide how the binary runs (not how it is built). */
function runtimeFlags(args: readonly string[]): string[] {
  return args.filter((a) => /^--(allow-|deny-|v8-flags|conditions)/.test(a)).sort();
}

async function walk(dir: string): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) files.push(...await walk(path));
    else if (entry.name.endsWith(".ts")) files.push(path);
  }
  return files;
}

await check("compile tasks run scripts/compile_all.ts", () => {
  const tasks = denoJson.tasks as Record<string, string>;
  ok(/scripts\/compile_all\.ts --host$/.test(tasks.compile), `compile: ${tasks.compile}`);
  ok(
    /scripts\/compile_all\.ts$/.test(tasks["compile:all"]),
    `compile:all: ${tasks["compile:all"]}`,
  );
});

for (const target of TARGETS) {
  await check(`${target}: frozen lockfile, wasm-esm, embedded files, baked permissions`, () => {
    const args = compileArgs({ target, output: "dist/x" });
    ok(args.includes("--frozen"), "--frozen missing");
    ok(args.includes("--conditions=matrix-org:wasm-esm"), "wasm-esm condition missing");
    for (const file of COMPILE_INCLUDES) {
      ok(args.join(" ").includes(`--include ${file}`), `--include ${file} missing`);
    }
    deepStrictEqual(runtimeFlags(args), [...binaryPermissionFlags()].sort());
  });
}

await check("every embedded file exists", async () => {
  for (const file of COMPILE_INCLUDES) {
    const info = await Deno.stat(join(ROOT, file));
    ok(info.isFile && info.size > 0, `${file} is empty`);
  }
});

await check(
  "binary permissions equal the e2e binary test's (apart from the source dir)",
  async () => {
    const e2e = binaryProfileRunArgs(ROOT, []).map((a) =>
      a === `--allow-read=.,${ROOT}` ? "--allow-read=." : a
    );
    deepStrictEqual(runtimeFlags(e2e), runtimeFlags(compileArgs({ output: "dist/x" })));
    const test = await Deno.readTextFile(join(ROOT, "tests/e2e/binary_test.ts"));
    ok(
      /binaryProfileRunArgs\(/.test(test),
      "tests/e2e/binary_test.ts does not use binaryProfileRunArgs",
    );
    return "tests/e2e/binary_test.ts";
  },
);

await check(
  "every data file read through a text import or import.meta.url is embedded",
  async () => {
    const read = new Set<string>();
    for (const path of await walk(join(ROOT, "lib"))) {
      const text = await Deno.readTextFile(path);
      const reads = [
        ...text.matchAll(/new URL\(\s*"([^"]+)",\s*import\.meta\.url\s*\)/g),
        ...text.matchAll(/from\s+"([^"]+)"\s+with\s+\{\s*type:\s*"text"\s*\}/g),
      ];
      for (const m of reads) read.add(relative(ROOT, join(path, "..", m[1])));
    }
    ok(read.size > 0, "no text imports or import.meta.url reads found (the scan is broken)");
    for (const file of read) {
      ok(
        (COMPILE_INCLUDES as readonly string[]).includes(file),
        `${file} is read but not --include'd`,
      );
    }
    return [...read].sort().join(", ");
  },
);

await check("the embedded files are what the program reads", async () => {
  deepStrictEqual(HELP, await Deno.readTextFile(join(ROOT, "help.md")));
  deepStrictEqual(EXAMPLE_CONFIG, await Deno.readTextFile(join(ROOT, "config.example.json")));
});

await check("deno compile builds the host binary (graph, npm, embedded files)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "infinigpt-compile-" });
  try {
    const output = join(dir, "infinigpt");
    const env: Record<string, string> = { NO_COLOR: "1" };
    let base = "denort";
    if (!Deno.env.get("DENORT_BIN") && !(await denortReachable())) {
      env.DENORT_BIN = Deno.execPath();
      base = "deno as stand-in base";
    }
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: compileArgs({ output }),
      cwd: ROOT,
      env,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
    ok(code === 0, `deno compile exit ${code}: ${text.trim().split("\n").slice(-3).join(" | ")}`);
    for (const file of COMPILE_INCLUDES) {
      ok(new RegExp(`── ${file.replace(".", "\\.")} `).test(text), `${file} not embedded`);
    }
    const files = text.match(/Files: ([\d.]+ ?[KMG]?B)/)?.[1] ?? "?";
    const size = (await Deno.stat(output)).size;
    const baseSize = env.DENORT_BIN ? (await Deno.stat(env.DENORT_BIN)).size : undefined;
    const added = baseSize ? `, ${((size - baseSize) / 1e6).toFixed(1)} MB added to the base` : "";
    return `${base}; embedded files ${files}${added}`;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function denortReachable(): Promise<boolean> {
  try {
    const response = await fetch("https://dl.deno.land/", { signal: AbortSignal.timeout(3000) });
    await response.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

for (const r of results) {
  console.log(`${r.ok ? "ok  " : "FAIL"} ${r.name}${r.detail ? ` — ${r.detail}` : ""}`);
}
const failed = results.filter((r) => !r.ok).length;
console.log(`compile check: ${results.length - failed} passed, ${failed} failed`);
Deno.exit(failed ? 1 : 0);
