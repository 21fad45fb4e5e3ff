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
 *    the base is built, listed and measured, and the embedded files stay
 *    within {@link PAYLOAD_LIMIT_MB};
 * 5. the program runs without the npm files the compile leaves out
 *    (scripts/compile_excludes.ts): from a Deno cache that holds only the
 *    files the binary embeds, under the binary's permissions, `--version`,
 *    `check-config`, a console `.ai` against the fake model with a tool of
 *    a stdio MCP server, and the Matrix code loading up to the first login
 *    attempt.
 *
 *     deno task compile:check
 *
 * @module
 */
import { deepStrictEqual, ok } from "node:assert/strict";
import { dirname, join, relative } from "node:path";
import {
  binaryPermissionFlags,
  binaryProfileRunArgs,
  COMPILE_INCLUDES,
} from "../lib/permissions.ts";
import { EXAMPLE_CONFIG, HELP } from "../lib/assets.ts";
import { compileArgs, PAYLOAD_LIMIT_MB, ROOT, TARGETS } from "./compile_all.ts";
import { type Excludes, neverLoaded, npmGraph, type NpmPackage } from "./compile_excludes.ts";
import { FakeOpenAI } from "../tests/fixtures/fake_openai.ts";
import { rawConfig } from "../tests/fixtures/harness.ts";
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

const graph = await npmGraph(ROOT);
const excludes = await neverLoaded(graph);

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
      args: compileArgs({ output, exclude: excludes.paths }),
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
    const files = text.match(/Files: ([\d.]+) ?([KMG]?B)/);
    ok(files, "no Files: line in deno compile's output");
    const mb = Number(files[1]) * ({ B: 1e-6, KB: 1e-3, MB: 1, GB: 1e3 }[files[2]] ?? NaN);
    ok(mb <= PAYLOAD_LIMIT_MB, `embedded files ${mb} MB > ${PAYLOAD_LIMIT_MB} MB`);
    const size = (await Deno.stat(output)).size;
    const baseSize = env.DENORT_BIN ? (await Deno.stat(env.DENORT_BIN)).size : undefined;
    const added = baseSize ? `, ${((size - baseSize) / 1e6).toFixed(1)} MB added to the base` : "";
    return `${base}; embedded files ${files[1]} ${files[2]} (limit ${PAYLOAD_LIMIT_MB} MB; ` +
      `${excludes.paths.length} paths, ${(excludes.bytes / 1e6).toFixed(1)} MB left out)${added}`;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

await check("the program runs without the files the compile leaves out", async () => {
  const cache = await Deno.makeTempDir({ prefix: "infinigpt-embedded-cache-" });
  const data = await Deno.makeTempDir({ prefix: "infinigpt-embedded-run-" });
  await using fake = FakeOpenAI.start();
  try {
    const denoDir = await embeddedOnlyCache(cache, graph, excludes);
    await Deno.writeTextFile(
      join(data, "config.json"),
      JSON.stringify(rawConfig(fake.url, {
        matrix: { store_path: "store" },
        llm: {
          mcp_servers: {
            test: {
              command: "deno",
              args: ["run", "-A", join(ROOT, "tests/fixtures/mcp_test_server.ts")],
              // The server itself runs from the full cache.
              env: { DENO_DIR: denoDir },
            },
          },
        },
      })),
    );
    const run = (args: string[], stdin?: string) => {
      const command = binaryProfileRunArgs(ROOT, args);
      command.splice(1, 0, "--cached-only");
      const child = new Deno.Command(Deno.execPath(), {
        args: command,
        cwd: data,
        env: { DENO_DIR: cache, NO_COLOR: "1" },
        stdin: stdin === undefined ? "null" : "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      if (stdin !== undefined) {
        const writer = child.stdin.getWriter();
        void writer.write(new TextEncoder().encode(stdin)).then(() => writer.close());
      }
      return child;
    };
    const text = async (child: Deno.ChildProcess) => {
      const out = await child.output();
      return {
        code: out.code,
        text: new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr),
      };
    };
    const version = await text(run(["--version"]));
    ok(version.code === 0 && version.text.includes(denoJson.version), `--version: ${version.text}`);
    const checked = await text(run(["check-config", "--config", "config.json"]));
    ok(checked.code === 0, `check-config exit ${checked.code}: ${checked.text.slice(-300)}`);
    const chat = await text(
      run(
        ["console", "--config", "config.json"],
        '.ai hello\n.ai tool:echo {"text":"via stdio"}\n',
      ),
    );
    ok(chat.code === 0, `console exit ${chat.code}: ${chat.text.slice(-300)}`);
    ok(chat.text.includes("Echo: hello"), `no answer: ${chat.text.slice(-300)}`);
    ok(/Tool said: .*via stdio/.test(chat.text), `no MCP tool: ${chat.text.slice(-300)}`);
    // The Matrix code loads before the first login attempt (a homeserver that is not there).
    const bot = run(["--config", "config.json"]);
    const seen: string[] = [];
    const reader = (async () => {
      for await (const chunk of bot.stderr.pipeThrough(new TextDecoderStream())) seen.push(chunk);
    })();
    const deadline = Date.now() + 60_000;
    while (!/127\.0\.0\.1:1/.test(seen.join("")) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    try {
      bot.kill("SIGTERM");
    } catch {
      // It ended by itself: the log says why.
    }
    const status = await bot.status;
    await bot.stdout.cancel();
    await reader;
    const log = seen.join("");
    ok(/127\.0\.0\.1:1/.test(log), `no login attempt: ${log.slice(-300)}`);
    ok(status.code === 0, `run exit ${status.code}: ${log.slice(-300)}`);
    return `--version, check-config, console .ai and an MCP tool, the Matrix code: ${excludes.kept.size} files of ${
      graph.packages.size - excludes.packages.length
    } packages`;
  } finally {
    await Deno.remove(cache, { recursive: true });
    await Deno.remove(data, { recursive: true });
  }
});

/**
 * A Deno cache (`DENO_DIR`) holding only the npm files a binary embeds:
 * links to the kept files, and only `package.json` of the packages left out
 * (Deno wants every locked package present; nothing may load from them).
 * Returns the real cache's directory.
 */
async function embeddedOnlyCache(
  into: string,
  graph: { packages: Map<string, NpmPackage> },
  excludes: Excludes,
): Promise<string> {
  const info = JSON.parse(
    new TextDecoder().decode(
      (await new Deno.Command(Deno.execPath(), { args: ["info", "--json"], stdout: "piped" })
        .output()).stdout,
    ),
  );
  const npm: string = info.npmCache;
  const place = async (file: string) => {
    const to = join(into, "npm", relative(npm, file));
    await Deno.mkdir(dirname(to), { recursive: true });
    await Deno.link(file, to).catch(() => Deno.copyFile(file, to));
  };
  for (const file of excludes.kept) await place(file);
  const placed = new Set<string>();
  for (const pkg of graph.packages.values()) {
    if (excludes.packages.includes(pkg.id)) await place(join(pkg.dir, "package.json"));
    // The registry's answer, which Deno reads to resolve the locked versions.
    const registry = join(dirname(pkg.dir), "registry.json");
    if (!placed.has(registry)) {
      placed.add(registry);
      await place(registry).catch(() => {});
    }
  }
  return info.denoDir;
}

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
