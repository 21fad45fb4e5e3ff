/**
 * The deployment files (Dockerfile, .dockerignore, docker-compose.yml, the
 * systemd unit, the deployment docs) agree with the code: the binary the
 * compile task builds, the working-directory permissions of release
 * binaries, the exit code of configuration errors, the CI's Deno version.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { basename, dirname, join, posix } from "node:path";
import { fileURLToPath } from "node:url";
import { runCli } from "../lib/cli.ts";
import type { CliIo } from "../lib/cli_io.ts";
import { BOT_ENV, COMPILE_INCLUDES } from "../lib/permissions.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const read = (path: string) => Deno.readTextFileSync(join(ROOT, path));

// --- Dockerfile -------------------------------------------------------------

interface Instruction {
  op: string;
  args: string;
}

interface Stage {
  image: string;
  name?: string;
  instructions: Instruction[];
}

/** Instructions of a Dockerfile: comments dropped, continuation lines joined. */
function instructions(text: string): Instruction[] {
  const logical: string[] = [];
  let current = "";
  for (const raw of text.split("\n")) {
    if (/^\s*#/.test(raw)) continue;
    const line = raw.trimEnd();
    if (line.endsWith("\\")) {
      current += line.slice(0, -1) + " ";
      continue;
    }
    current += line;
    if (current.trim()) logical.push(current.trim());
    current = "";
  }
  return logical.map((line) => {
    const m = /^(\S+)\s*(.*)$/.exec(line)!;
    return { op: m[1].toUpperCase(), args: m[2].trim() };
  });
}

/** Build stages, with `${ARG}` in FROM replaced by the defaults of global ARGs. */
function stages(text: string): Stage[] {
  const globals: Record<string, string> = {};
  const out: Stage[] = [];
  for (const ins of instructions(text)) {
    if (ins.op === "ARG" && out.length === 0) {
      const m = /^(\w+)=(\S+)$/.exec(ins.args);
      if (m) globals[m[1]] = m[2];
    } else if (ins.op === "FROM") {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args)!;
      const image = m[1].replace(/\$\{?(\w+)\}?/g, (_, name) => globals[name] ?? "");
      out.push({ image, name: m[2], instructions: [] });
    } else if (out.length) out.at(-1)!.instructions.push(ins);
  }
  return out;
}

function last(stage: Stage, op: string): string | undefined {
  return stage.instructions.filter((i) => i.op === op).at(-1)?.args;
}

/** The exec form of ENTRYPOINT/CMD (`["a", "b"]`); the shell form is an error. */
function execForm(args: string | undefined, what: string): string[] {
  ok(args?.startsWith("["), `${what} must use the exec form (JSON array), got ${args}`);
  return JSON.parse(args!) as string[];
}

/** COPY instructions of a stage as { from, chown, sources, dest }. */
function copies(stage: Stage) {
  return stage.instructions.filter((i) => i.op === "COPY").map((i) => {
    const words = i.args.split(/\s+/);
    const flags = Object.fromEntries(
      words.filter((w) => w.startsWith("--")).map((w) => {
        const [k, v] = w.slice(2).split("=");
        return [k, v];
      }),
    );
    const paths = words.filter((w) => !w.startsWith("--"));
    return {
      from: flags.from as string | undefined,
      chown: flags.chown as string | undefined,
      sources: paths.slice(0, -1),
      dest: paths.at(-1)!,
    };
  });
}

const dockerfile = stages(read("Dockerfile"));
const runtime = dockerfile.at(-1)!;
const build = dockerfile[0];

/** The file `deno task compile` writes, from the command it would run. */
async function compileOutput(): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["task", "compile", "--print"],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(stdout);
  strictEqual(code, 0, new TextDecoder().decode(stderr));
  const commands = text.split("\n").filter((l) => /^deno compile /.test(l));
  strictEqual(commands.length, 1, `expected one compile command, got:\n${text}`);
  const m = /\s--output\s+(\S+)/.exec(commands[0]);
  ok(m, `no --output in: ${commands[0]}`);
  // On Windows the script joins the path with a backslash.
  return m[1].replaceAll("\\", "/");
}

Deno.test("the image has two stages: a Deno build stage and a separate runtime stage", () => {
  ok(dockerfile.length >= 2, `expected a multi-stage build, got ${dockerfile.length} stage(s)`);
  ok(build.name, "the build stage needs a name for COPY --from");
  ok(/^denoland\/deno:/.test(build.image), `build stage image: ${build.image}`);
  ok(!/deno/.test(runtime.image), `the runtime stage must not be the Deno image: ${runtime.image}`);
});

Deno.test("the build stage uses the Deno version CI pins in .ci/run", () => {
  const ci = /^DENO_VERSION=(\S+)$/m.exec(read(".ci/run"));
  ok(ci, ".ci/run has no DENO_VERSION=");
  const tag = /^denoland\/deno:(?:[a-z]+-)?(\d+\.\d+\.\d+)$/.exec(build.image);
  ok(tag, `build image is not pinned to a version: ${build.image}`);
  strictEqual(tag[1], ci[1]);
});

Deno.test("the build stage runs the compile task", () => {
  const runs = build.instructions.filter((i) => i.op === "RUN").map((i) => i.args).join("\n");
  ok(/\bdeno task compile(\s|$|&)/.test(runs), `no 'deno task compile' in:\n${runs}`);
});

Deno.test("the image's entrypoint is the binary the compile task builds", async () => {
  const output = await compileOutput();
  const entry = execForm(last(runtime, "ENTRYPOINT"), "ENTRYPOINT");
  strictEqual(entry.length, 1, `ENTRYPOINT should be the binary alone: ${entry}`);
  strictEqual(basename(entry[0]), basename(output));
  const workdir = last(build, "WORKDIR");
  ok(workdir, "the build stage has no WORKDIR");
  const copy = copies(runtime).find((c) => c.dest === entry[0]);
  ok(copy, `no COPY puts anything at ${entry[0]}`);
  strictEqual(copy.from, build.name);
  deepStrictEqual(copy.sources, [posix.join(workdir, output)]);
});

Deno.test("the container works in /data, a volume, with config.json from there", () => {
  strictEqual(last(runtime, "WORKDIR"), "/data");
  const volume = last(runtime, "VOLUME");
  ok(volume, "no VOLUME");
  const volumes = volume.startsWith("[") ? JSON.parse(volume) as string[] : volume.split(/\s+/);
  ok(volumes.includes("/data"), `VOLUME ${volume}`);
  deepStrictEqual(execForm(last(runtime, "CMD"), "CMD"), ["--config", "config.json"]);
});

Deno.test("the container runs as a non-root user who owns /data", () => {
  const user = last(runtime, "USER") ?? (/:nonroot$/.test(runtime.image) ? "65532" : undefined);
  ok(user, "no USER and not a :nonroot base image");
  const uid = user.split(":")[0];
  ok(uid !== "0" && uid !== "root", `runs as root: ${user}`);
  const data = copies(runtime).find((c) => c.dest.replace(/\/$/, "") === "/data");
  ok(data, "nothing creates /data with an owner (WORKDIR alone makes it root's)");
  strictEqual(data.chown?.split(":")[0], uid);
});

Deno.test("the container sets the malloc tuning the launcher sets", () => {
  const env = runtime.instructions.filter((i) => i.op === "ENV").map((i) => i.args).join(" ");
  for (const [name, value] of Object.entries(BOT_ENV)) {
    ok(new RegExp(`(^|\\s)${name}[= ]${value}\\b`).test(env), `${name} missing from ENV: ${env}`);
  }
});

// --- .dockerignore ----------------------------------------------------------

/** Whether a root-relative path is excluded (names and simple globs; no `!`). */
function dockerIgnored(patterns: string[], path: string): boolean {
  const parts = path.split("/");
  return patterns.some((pattern) => {
    const anyDepth = pattern.startsWith("**/");
    const glob = new RegExp(
      "^" +
        (anyDepth ? pattern.slice(3) : pattern).replace(/[.+^${}()|[\]\\]/g, "\\$&")
          .replace(/\*/g, "[^/]*").replace(/\?/g, "[^/]") +
        "$",
    );
    // A pattern matching a directory excludes everything below it.
    return parts.some((_, i) =>
      anyDepth ? glob.test(parts[i]) : glob.test(parts.slice(0, i + 1).join("/"))
    );
  });
}

const ignore = read(".dockerignore").split("\n").map((l) => l.trim()).filter((l) =>
  l && !l.startsWith("#")
);

Deno.test("the build context keeps every file the compile needs", () => {
  ok(!ignore.some((p) => p.startsWith("!")), "negations are not understood by this test");
  const needed = [
    "deno.json",
    "deno.lock",
    "main.ts",
    "lib/cli.ts",
    "scripts/compile_all.ts",
    ...COMPILE_INCLUDES,
  ];
  for (const file of needed) ok(!dockerIgnored(ignore, file), `${file} is excluded`);
});

Deno.test("the build context leaves out local state, secrets and build output", () => {
  for (
    const path of [
      "config.json",
      "store/state.db",
      "data/config.json",
      "dist/infinigpt",
      ".git/HEAD",
      "infinigpt.env",
    ]
  ) {
    ok(dockerIgnored(ignore, path), `${path} would be sent to the Docker build`);
  }
});

// --- docker-compose.yml -----------------------------------------------------

/** The lines of a YAML file that are not comments. */
const compose = read("docker-compose.yml").split("\n").filter((l) => !/^\s*#/.test(l)).join(
  "\n",
);

Deno.test("docker compose mounts a host directory at /data", () => {
  const mounts = [...compose.matchAll(/^\s+-\s+["']?([^"'\s:]+):([^"'\s:]+)(?::\w+)?["']?\s*$/gm)];
  const data = mounts.filter((m) => m[2] === "/data");
  strictEqual(data.length, 1, `volume entries: ${mounts.map((m) => m[0].trim()).join(", ")}`);
  ok(!/:ro\b/.test(data[0][0]), "/data must be writable");
});

Deno.test("docker compose restarts the bot, passes secrets from a file and waits for a graceful stop", () => {
  ok(/^\s+restart:\s*unless-stopped\s*$/m.test(compose), "restart: unless-stopped");
  ok(/^\s+env_file:/m.test(compose), "env_file");
  const grace = /^\s+stop_grace_period:\s*(\d+)s\s*$/m.exec(compose);
  ok(grace, "stop_grace_period in seconds");
  // The bot gives answers in progress 10 s; Docker's default of 10 s would cut that short.
  ok(Number(grace[1]) > 10, `stop_grace_period ${grace[1]}s`);
  ok(/^\s+max-size:/m.test(compose), "log rotation (max-size)");
});

// --- systemd unit -----------------------------------------------------------

/** `[Section]` → key → every value given (in order). */
function unitFile(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let section: Map<string, string[]> | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = new Map();
      sections.set(header[1], section);
      continue;
    }
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    ok(m && section, `not a key=value line in a section: ${line}`);
    section.set(m[1], [...(section.get(m[1]) ?? []), m[2].trim()]);
  }
  return sections;
}

const unit = unitFile(read("deploy/infinigpt.service"));
const service = unit.get("Service") ?? new Map<string, string[]>();
/** The effective value of a [Service] key (the last one given). */
const svc = (key: string) => service.get(key)?.at(-1);

const HARDENING: Array<[string, string]> = [
  ["NoNewPrivileges", "yes"],
  ["ProtectSystem", "strict"],
  ["ProtectHome", "yes"],
  ["PrivateTmp", "yes"],
  ["PrivateDevices", "yes"],
  ["ProtectKernelTunables", "yes"],
  ["ProtectKernelModules", "yes"],
  ["ProtectKernelLogs", "yes"],
  ["ProtectControlGroups", "yes"],
  ["RestrictNamespaces", "yes"],
  ["LockPersonality", "yes"],
  // V8's JIT needs writable+executable memory.
  ["MemoryDenyWriteExecute", "no"],
  ["SystemCallArchitectures", "native"],
  ["CapabilityBoundingSet", ""],
  ["UMask", "0077"],
  ["DynamicUser", "yes"],
  ["KillSignal", "SIGTERM"],
  ["Restart", "on-failure"],
];

for (const [key, value] of HARDENING) {
  Deno.test(`the systemd unit sets ${key}=${value}`, () => {
    strictEqual(svc(key), value, `${key} in [Service]`);
  });
}

Deno.test("the systemd unit allows only IPv4, IPv6 and Unix sockets", () => {
  const families = svc("RestrictAddressFamilies")?.split(/\s+/).sort();
  deepStrictEqual(families, ["AF_INET", "AF_INET6", "AF_UNIX"]);
});

Deno.test("the systemd unit raises the open file limit", () => {
  ok(/^\d+$/.test(svc("LimitNOFILE") ?? ""), `LimitNOFILE=${svc("LimitNOFILE")}`);
});

Deno.test("the systemd unit does not restart after the exit code of a configuration error", async () => {
  const prevented = (service.get("RestartPreventExitStatus") ?? []).flatMap((v) => v.split(/\s+/));
  // The code the CLI really returns for a config it cannot load.
  const dir = await Deno.makeTempDir();
  try {
    const io: CliIo = {
      stdout: () => {},
      stderr: () => {},
      stdin: new ReadableStream({ start: (c) => c.close() }),
      isTerminal: false,
      env: {},
    };
    const code = await runCli(["--config", join(dir, "missing.json")], io);
    strictEqual(code, 2);
    ok(prevented.includes(String(code)), `RestartPreventExitStatus=${prevented.join(" ")}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the systemd unit runs the image's binary in its state directory with config.json", () => {
  const entry = execForm(last(runtime, "ENTRYPOINT"), "ENTRYPOINT")[0];
  strictEqual(svc("ExecStart"), `${entry} --config config.json`);
  const state = svc("StateDirectory");
  ok(state, "StateDirectory");
  strictEqual(svc("WorkingDirectory"), `/var/lib/${state}`);
});

Deno.test("the systemd unit waits longer than the bot's 10 s grace before killing it", () => {
  const timeout = /^(\d+)s?$/.exec(svc("TimeoutStopSec") ?? "");
  ok(timeout, `TimeoutStopSec=${svc("TimeoutStopSec")}`);
  ok(Number(timeout[1]) > 10, `TimeoutStopSec=${timeout[1]}`);
});

Deno.test("the systemd unit reads secrets from an optional environment file and tunes malloc like the launcher", () => {
  deepStrictEqual(service.get("EnvironmentFile"), ["-/etc/infinigpt/env"]);
  for (const [name, value] of Object.entries(BOT_ENV)) {
    ok(
      (service.get("Environment") ?? []).includes(`${name}=${value}`),
      `${name} missing: Environment=${service.get("Environment")}`,
    );
  }
});

Deno.test("the systemd unit can be enabled at boot", () => {
  strictEqual(unit.get("Install")?.get("WantedBy")?.at(-1), "multi-user.target");
});

// --- docs -------------------------------------------------------------------

/** GitHub's anchor of a Markdown heading. */
function slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-");
}

function anchors(markdown: string): Set<string> {
  const text = markdown.replace(/^```[\s\S]*?^```/gm, "");
  return new Set([...text.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => slug(m[1].replace(/`/g, ""))));
}

for (const doc of ["docs/deployment.md", "docs/operations.md"]) {
  Deno.test(`every relative link in ${doc} points to an existing file and heading`, () => {
    const text = read(doc);
    const links = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]).filter((href) =>
      !/^[a-z]+:/.test(href)
    );
    ok(links.length > 0, "no relative links found (the scan is broken)");
    for (const href of links) {
      const [file, anchor] = href.split("#");
      const target = file ? join(ROOT, dirname(doc), file) : join(ROOT, doc);
      let content: string | undefined;
      try {
        content = Deno.statSync(target).isFile ? Deno.readTextFileSync(target) : "";
      } catch {
        content = undefined;
      }
      ok(content !== undefined, `${doc} links to ${href}, which does not exist`);
      if (anchor) ok(anchors(content).has(anchor), `${doc} links to ${href}: no such heading`);
    }
  });
}
