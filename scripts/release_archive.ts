/**
 * Packs the binaries of `deno task compile:all` for a release: one archive per
 * target in `dist/release/`, named like the binary
 * (`infinigpt-<version>-<target>.tar.gz`, `.zip` for Windows), holding a
 * folder of that name with the binary as `infinigpt` (`infinigpt.exe`),
 * README.md and LICENSE; and `SHA256SUMS` (the `sha256sum` format) of the
 * archives.
 *
 *     deno run -A scripts/release_archive.ts [--tag v0.1.0] [--target <t>]... [--dist dist] [--out dist/release]
 *
 * `--tag` refuses (exit 2) a tag other than `v` + deno.json "version". Under
 * GitHub Actions the version is also written to `$GITHUB_OUTPUT` (`version=`).
 * Uses the system `tar` (GNU) and `zip`, as on the Linux build runner.
 * `SOURCE_DATE_EPOCH` sets the files' times, for reproducible archives.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { basename, join } from "node:path";
import { binaryName, ROOT, TARGETS } from "./compile_all.ts";
import denoJson from "../deno.json" with { type: "json" };

/** Files shipped beside the binary. */
export const DOCS = ["README.md", "LICENSE"] as const;

/** The archive file name of a target's binary. */
export function archiveName(target: string, version: string = denoJson.version): string {
  const base = binaryName(target, version).replace(/\.exe$/, "");
  return `${base}${target.includes("windows") ? ".zip" : ".tar.gz"}`;
}

/** The binary's name inside the archive. */
export function innerBinaryName(target: string): string {
  return target.includes("windows") ? "infinigpt.exe" : "infinigpt";
}

/** One `sha256sum` line: hex digest, two spaces, file name. */
export async function sha256Line(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  const hex = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex}  ${basename(path)}`;
}

async function run(cmd: string, args: string[], cwd: string): Promise<void> {
  const { code, stderr } = await new Deno.Command(cmd, { args, cwd, stderr: "piped" }).output();
  if (code !== 0) {
    throw new Error(
      `${cmd} ${args.join(" ")} failed (exit ${code}): ${new TextDecoder().decode(stderr)}`,
    );
  }
}

class UsageError extends Error {}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args: Deno.args,
      options: {
        tag: { type: "string" },
        target: { type: "string", multiple: true },
        dist: { type: "string", default: join(ROOT, "dist") },
        out: { type: "string" },
        root: { type: "string", default: ROOT },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values } = parsed;
  const version = denoJson.version;
  if (values.tag !== undefined && values.tag !== `v${version}`) {
    throw new UsageError(
      `tag ${values.tag} does not match deno.json version ${version} (v${version})`,
    );
  }
  const targets = values.target?.length ? values.target : [...TARGETS];
  for (const target of targets) {
    if (!(TARGETS as readonly string[]).includes(target)) {
      throw new UsageError(`unknown target ${target}; one of: ${TARGETS.join(", ")}`);
    }
  }
  const dist = values.dist!;
  const out = values.out ?? join(dist, "release");
  const missing = [
    ...targets.map((t) => join(dist, binaryName(t, version))),
    ...DOCS.map((d) => join(values.root!, d)),
  ].filter((path) => {
    try {
      return !Deno.statSync(path).isFile;
    } catch {
      return true;
    }
  });
  if (missing.length) throw new Error(`missing: ${missing.join(", ")}`);

  const epoch = Deno.env.get("SOURCE_DATE_EPOCH");
  const time = epoch && /^\d+$/.test(epoch) ? new Date(Number(epoch) * 1000) : new Date();
  await Deno.remove(out, { recursive: true }).catch(() => {});
  const stage = join(out, ".stage");
  await Deno.mkdir(stage, { recursive: true });
  const archives: string[] = [];
  for (const target of targets) {
    const name = archiveName(target, version);
    const folder = name.replace(/\.(tar\.gz|zip)$/, "");
    const dir = join(stage, folder);
    await Deno.mkdir(dir);
    const files: Array<[string, string, number]> = [
      [join(dist, binaryName(target, version)), innerBinaryName(target), 0o755],
      ...DOCS.map((d): [string, string, number] => [join(values.root!, d), d, 0o644]),
    ];
    for (const [from, to, mode] of files) {
      await Deno.copyFile(from, join(dir, to));
      await Deno.chmod(join(dir, to), mode);
      await Deno.utime(join(dir, to), time, time);
    }
    await Deno.utime(dir, time, time);
    const archive = join(out, name);
    if (name.endsWith(".zip")) {
      await run("zip", ["-q", "-X", "-r", archive, folder], stage);
    } else {
      await run("tar", [
        "--sort=name",
        "--owner=0",
        "--group=0",
        "--numeric-owner",
        `--mtime=@${Math.floor(time.getTime() / 1000)}`,
        "-czf",
        archive,
        folder,
      ], stage);
    }
    archives.push(archive);
    console.error(`Packed ${name}`);
  }
  await Deno.remove(stage, { recursive: true });
  const sums = await Promise.all(archives.sort().map(sha256Line));
  await Deno.writeTextFile(join(out, "SHA256SUMS"), sums.join("\n") + "\n");
  console.log(sums.join("\n"));
  const output = Deno.env.get("GITHUB_OUTPUT");
  if (output) await Deno.writeTextFile(output, `version=${version}\n`, { append: true });
}

if (import.meta.main) {
  try {
    await main();
  } catch (error) {
    console.error((error as Error).message);
    Deno.exit(error instanceof UsageError ? 2 : 1);
  }
}
