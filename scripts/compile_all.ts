/**
 * Builds release binaries: `infinigpt-<version>-<target>[.exe]` in `dist/`,
 * each with the embedded help, tool schema and example config, the crypto
 * wasm as a module, the locked dependency versions and the least-privilege
 * permissions of a release binary (lib/permissions.ts). What of the npm
 * packages is never loaded (source maps, typings, sources, CommonJS builds,
 * the MCP server stack) is left out (scripts/compile_excludes.ts).
 *
 *     deno task compile:all                 # the five release targets
 *     deno task compile:all --target <t>    # one of them
 *     deno task compile                     # this machine, as dist/infinigpt
 *     deno task compile:all --print         # print the commands, build nothing
 *                                           # (the --exclude paths summarised)
 *
 * @module
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { binaryPermissionFlags, COMPILE_INCLUDES } from "../lib/permissions.ts";
import { neverLoaded, npmGraph } from "./compile_excludes.ts";
import denoJson from "../deno.json" with { type: "json" };

/** The release targets (`deno compile --target`). */
export const TARGETS = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
  "x86_64-pc-windows-msvc",
] as const;

/** The most the embedded files of a release binary may weigh (`deno compile`'s `Files:`). */
export const PAYLOAD_LIMIT_MB = 40;

/** The repository root. */
export const ROOT: string = dirname(dirname(fileURLToPath(import.meta.url)));

/** The release file name of a target's binary. */
export function binaryName(target: string, version: string = denoJson.version): string {
  return `infinigpt-${version}-${target}${target.includes("windows") ? ".exe" : ""}`;
}

/** Inputs of {@link compileArgs}. */
export interface CompileOptions {
  /** Output path (without `.exe`; Deno adds it for Windows targets). */
  output: string;
  /** A `--target`; the host when absent. */
  target?: string;
  /** Paths left out of the embedded files (`--exclude`), from {@link excludePaths}. */
  exclude?: readonly string[];
}

/**
 * The npm files and packages the program never loads, for `--exclude`
 * (scripts/compile_excludes.ts). Paths in this machine's Deno cache.
 */
export async function excludePaths(): Promise<string[]> {
  return (await neverLoaded(await npmGraph(ROOT))).paths;
}

/**
 * The `deno compile` arguments of a release build. `--exclude-unused-npm`
 * leaves out npm packages the program never imports (the MCP test server).
 */
export function compileArgs(options: CompileOptions): string[] {
  return [
    "compile",
    "--frozen",
    "--exclude-unused-npm",
    ...binaryPermissionFlags(),
    ...COMPILE_INCLUDES.flatMap((file) => ["--include", file]),
    ...(options.exclude ?? []).flatMap((path) => ["--exclude", path]),
    ...(options.target ? ["--target", options.target] : []),
    "--output",
    options.output,
    "main.ts",
  ];
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      target: { type: "string", multiple: true },
      host: { type: "boolean" },
      print: { type: "boolean" },
    },
  });
  const builds: CompileOptions[] = values.host
    ? [{ output: join("dist", "infinigpt") }]
    : (values.target?.length ? values.target : [...TARGETS]).map((target) => {
      if (!(TARGETS as readonly string[]).includes(target)) {
        throw new Error(`unknown target ${target}; one of: ${TARGETS.join(", ")}`);
      }
      return { target, output: join("dist", binaryName(target).replace(/\.exe$/, "")) };
    });
  const exclude = await excludePaths();
  for (const build of builds) {
    const args = compileArgs({ ...build, exclude });
    if (values.print) {
      const shown = compileArgs(build);
      shown.splice(shown.indexOf("--output"), 0, "--exclude", `<${exclude.length} paths>`);
      console.log(["deno", ...shown].join(" "));
      continue;
    }
    console.error(`Building ${build.output} (${build.target ?? "this machine"})`);
    const { code } = await new Deno.Command(Deno.execPath(), {
      args,
      cwd: ROOT,
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    if (code !== 0) {
      console.error(`deno compile failed for ${build.target ?? "this machine"} (exit ${code})`);
      return code;
    }
  }
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main());
  } catch (error) {
    console.error((error as Error).message);
    Deno.exit(2);
  }
}
