/**
 * The layers hold (tests/architecture_rules.ts, shown in
 * docs/architecture.md): read from `deno info --json` of the entry points
 * and of every module in `lib/`, with type-only and dynamic imports counted
 * as imports,
 * - no core module imports an adapter or a forbidden package (matrix-js-sdk,
 *   node:sqlite, the MCP SDK, …), directly or through non-core modules;
 * - no import cycle anywhere in `lib/`;
 * - the library entry (`mod.ts`) loads nothing of the command line.
 */
import { deepStrictEqual, ok } from "node:assert/strict";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { ADAPTERS, CORE, FORBIDDEN_IN_CORE } from "./architecture_rules.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

// ---- globs ----

/** A glob of the rules file as a regular expression over repository paths. */
function globToRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    if (glob.startsWith("**/", i)) {
      re += "(?:.*/)?";
      i += 2;
    } else if (glob.startsWith("**", i)) {
      re += ".*";
      i += 1;
    } else if (glob[i] === "*") {
      re += "[^/]*";
    } else {
      re += glob[i].replace(/[.+?^${}()|[\]\\]/g, "\\$&");
    }
  }
  return new RegExp(`^${re}$`);
}

/** Whether `path` matches a positive glob of `globs` and no `!` glob. */
function matchesAny(globs: readonly string[], path: string): boolean {
  const included = globs.some((g) => !g.startsWith("!") && globToRegExp(g).test(path));
  return included && !globs.some((g) => g.startsWith("!") && globToRegExp(g.slice(1)).test(path));
}

const globCases: Array<[globs: string[], path: string, matches: boolean]> = [
  [["lib/bot.ts"], "lib/bot.ts", true],
  [["lib/bot.ts"], "lib/bot_ts", false],
  [["lib/bot.ts"], "lib/pipeline/bot.ts", false],
  [["lib/pipeline/**"], "lib/pipeline/intake.ts", true],
  [["lib/pipeline/**"], "lib/pipeline/steps/deep.ts", true],
  [["lib/pipeline/**"], "lib/pipeline.ts", false],
  [["lib/matrix*.ts"], "lib/matrix.ts", true],
  [["lib/matrix*.ts"], "lib/matrix_client.ts", true],
  [["lib/matrix*.ts"], "lib/matrix/client.ts", false],
  [["lib/**/x.ts"], "lib/x.ts", true],
  [["lib/**/x.ts"], "lib/a/b/x.ts", true],
  [["lib/tools/**", "!lib/tools/mcp*.ts"], "lib/tools/weather.ts", true],
  [["lib/tools/**", "!lib/tools/mcp*.ts"], "lib/tools/mcp_tools.ts", false],
];

for (const [globs, path, want] of globCases) {
  Deno.test(`glob ${JSON.stringify(globs)} ${want ? "matches" : "does not match"} ${path}`, () => {
    deepStrictEqual(matchesAny(globs, path), want);
  });
}

// ---- the import graph ----

interface InfoDependency {
  code?: { specifier: string };
  type?: { specifier: string };
  isDynamic?: boolean;
}

interface InfoModule {
  kind: string;
  specifier: string;
  dependencies?: InfoDependency[];
  error?: string;
}

interface Info {
  modules: InfoModule[];
  redirects: Record<string, string>;
}

/** How one module imports another. */
type How = "import" | "type import" | "dynamic import";

/** An import; `to` is a repository path, `node:x` or `npm:package`. */
interface Edge {
  to: string;
  how: How;
}

/** Modules by name, with their imports. */
type Graph = Map<string, Edge[]>;

async function denoInfo(root: string, entry: string): Promise<Info> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: root,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(stdout);
  ok(code === 0, `deno info --json ${entry}: ${new TextDecoder().decode(stderr)}`);
  return JSON.parse(text) as Info;
}

/** A module's name in the graph: its repository path, `node:x` or `npm:package`. */
function nameOf(root: string, specifier: string, redirects: Record<string, string>): string {
  const resolved = redirects[specifier] ?? specifier;
  if (resolved.startsWith("file:")) {
    return relative(root, fileURLToPath(resolved)).replaceAll("\\", "/");
  }
  const npm = /^npm:\/?((?:@[^/@]+\/)?[^/@]+)/.exec(resolved);
  return npm ? `npm:${npm[1]}` : resolved;
}

function addInfo(graph: Graph, root: string, info: Info): void {
  for (const module of info.modules) {
    const from = nameOf(root, module.specifier, info.redirects);
    ok(!module.error, `${from}: ${module.error}`);
    if (graph.has(from) && graph.get(from)!.length) continue;
    const edges: Edge[] = [];
    for (const dep of module.dependencies ?? []) {
      if (dep.code) {
        const how = dep.isDynamic ? "dynamic import" : "import";
        edges.push({ to: nameOf(root, dep.code.specifier, info.redirects), how });
      }
      if (dep.type) {
        edges.push({ to: nameOf(root, dep.type.specifier, info.redirects), how: "type import" });
      }
    }
    graph.set(from, edges);
  }
}

async function tsFiles(root: string, dir: string): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(join(root, dir))) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) files.push(...await tsFiles(root, path));
    else if (entry.name.endsWith(".ts")) files.push(path);
  }
  return files.sort();
}

/**
 * The import graph of the entry points and of every `.ts` file under `dir`
 * (a file no entry point reaches yet is read on its own), and the modules
 * each entry point loads.
 */
async function importGraph(
  root: string,
  entries: readonly string[],
  dir: string,
): Promise<{ graph: Graph; files: string[]; loads: Map<string, Set<string>> }> {
  const graph: Graph = new Map();
  const loads = new Map<string, Set<string>>();
  for (const entry of entries) {
    const info = await denoInfo(root, entry);
    addInfo(graph, root, info);
    loads.set(entry, new Set(info.modules.map((m) => nameOf(root, m.specifier, info.redirects))));
  }
  const files = await tsFiles(root, dir);
  for (const file of files) {
    if (!graph.has(file)) addInfo(graph, root, await denoInfo(root, file));
  }
  return { graph, files, loads };
}

function arrow(edge: Edge): string {
  return edge.how === "import" ? ` → ${edge.to}` : ` → (${edge.how}) ${edge.to}`;
}

/**
 * What `start` reaches that it may not, each with the path to it. The walk
 * does not go on through `stopAt` modules (checked on their own) nor past a
 * violation.
 */
function violations(
  graph: Graph,
  start: string,
  forbidden: (name: string) => string | undefined,
  stopAt: (name: string) => boolean,
): string[] {
  const found: string[] = [];
  const seen = new Set([start]);
  const queue: Array<{ name: string; path: string }> = [{ name: start, path: start }];
  while (queue.length) {
    const { name, path } = queue.shift()!;
    for (const edge of graph.get(name) ?? []) {
      if (seen.has(edge.to)) continue;
      seen.add(edge.to);
      const step = path + arrow(edge);
      const why = forbidden(edge.to);
      if (why) found.push(`${step} (${why})`);
      else if (!stopAt(edge.to)) queue.push({ name: edge.to, path: step });
    }
  }
  return found;
}

/** One cycle through each strongly connected group of `nodes` (Tarjan), as paths. */
function cycles(graph: Graph, nodes: ReadonlySet<string>): string[] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  let next = 0;
  const edgesOf = (n: string) => (graph.get(n) ?? []).filter((e) => nodes.has(e.to));
  const visit = (n: string): void => {
    index.set(n, next);
    low.set(n, next++);
    stack.push(n);
    onStack.add(n);
    for (const { to } of edgesOf(n)) {
      if (!index.has(to)) {
        visit(to);
        low.set(n, Math.min(low.get(n)!, low.get(to)!));
      } else if (onStack.has(to)) {
        low.set(n, Math.min(low.get(n)!, index.get(to)!));
      }
    }
    if (low.get(n) !== index.get(n)) return;
    const group: string[] = [];
    let m: string;
    do {
      m = stack.pop()!;
      onStack.delete(m);
      group.push(m);
    } while (m !== n);
    if (group.length > 1 || edgesOf(n).some((e) => e.to === n)) groups.push(group.sort());
  };
  for (const n of [...nodes].sort()) if (!index.has(n)) visit(n);
  return groups.map((group) => cyclePath(graph, group));
}

/** The shortest way from a group's first module back to itself, inside the group. */
function cyclePath(graph: Graph, group: string[]): string {
  const members = new Set(group);
  const start = group[0];
  const queue: Array<{ name: string; path: string }> = [{ name: start, path: start }];
  const seen = new Set<string>();
  while (queue.length) {
    const { name, path } = queue.shift()!;
    for (const edge of graph.get(name) ?? []) {
      if (!members.has(edge.to)) continue;
      if (edge.to === start) return path + arrow(edge);
      if (seen.has(edge.to)) continue;
      seen.add(edge.to);
      queue.push({ name: edge.to, path: path + arrow(edge) });
    }
  }
  return group.join(", ");
}

// ---- the checks ----

const { graph, files, loads } = await importGraph(ROOT, ["main.ts", "mod.ts"], "lib");
const core = files.filter((f) => matchesAny(CORE, f));
const families = Object.entries(ADAPTERS);
const familyOf = (name: string) => families.find(([, globs]) => matchesAny(globs, name))?.[0];
const forbiddenNames = new Map(
  FORBIDDEN_IN_CORE.map((p) => [p.startsWith("node:") ? p : `npm:${p}`, p] as const),
);

function forbiddenForCore(name: string): string | undefined {
  const pkg = forbiddenNames.get(name);
  if (pkg) return `forbidden in the core: ${pkg}`;
  const family = familyOf(name);
  return family ? `a ${family} adapter` : undefined;
}

for (const glob of CORE.filter((g) => !g.startsWith("!"))) {
  Deno.test(`the core glob ${glob} names at least one module in lib/`, () => {
    ok(files.some((f) => matchesAny([glob], f)), `no file matches ${glob}`);
  });
}

Deno.test("no module is both core and an adapter", () => {
  const both = core.map((f) => [f, familyOf(f)]).filter(([, family]) => family);
  deepStrictEqual(both, []);
});

for (const module of core) {
  Deno.test(`core module ${module} imports no adapter, matrix-js-sdk, node:sqlite or MCP SDK`, () => {
    const found = violations(graph, module, forbiddenForCore, (name) => core.includes(name));
    ok(found.length === 0, `${module} reaches what the core may not:\n${found.join("\n")}`);
  });
}

Deno.test("lib/ has no import cycles, type-only and dynamic imports included", () => {
  const found = cycles(graph, new Set(files));
  ok(found.length === 0, `import cycles:\n${found.join("\n")}`);
});

Deno.test("the library entry (mod.ts) loads no module of the command line", () => {
  const cli = [...loads.get("mod.ts")!].filter((m) => matchesAny(ADAPTERS.cli, m));
  deepStrictEqual(cli, []);
});

Deno.test("docs/architecture.md shows the core list and says where it lives", async () => {
  const doc = await Deno.readTextFile(join(ROOT, "docs/architecture.md"));
  ok(
    doc.includes("tests/architecture_rules.ts"),
    "docs/architecture.md does not name the rules file",
  );
  for (const glob of CORE) {
    ok(doc.includes(`\`${glob}\``), `docs/architecture.md does not show ${glob}`);
  }
});

// ---- the checker itself ----

Deno.test("a cycle made of type-only imports is found", async () => {
  const dir = await Deno.makeTempDir({ prefix: "architecture_test_" });
  try {
    await Deno.mkdir(join(dir, "lib"));
    await Deno.writeTextFile(
      join(dir, "lib/a.ts"),
      'import type { B } from "./b.ts";\nexport type A = B;\n',
    );
    await Deno.writeTextFile(
      join(dir, "lib/b.ts"),
      'import type { A } from "./a.ts";\nexport type B = { a?: A };\n',
    );
    await Deno.writeTextFile(
      join(dir, "lib/c.ts"),
      'import type { A } from "./a.ts";\nexport type C = A;\n',
    );
    const fixture = await importGraph(dir, ["lib/c.ts"], "lib");
    deepStrictEqual(cycles(fixture.graph, new Set(fixture.files)), [
      "lib/a.ts → (type import) lib/b.ts → (type import) lib/a.ts",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a core module reaching node:sqlite through a helper is found, with the path", () => {
  const fixture: Graph = new Map([
    ["lib/core.ts", [{ to: "lib/helper.ts", how: "import" }]],
    ["lib/helper.ts", [{ to: "node:sqlite", how: "type import" }]],
  ]);
  deepStrictEqual(violations(fixture, "lib/core.ts", forbiddenForCore, () => false), [
    "lib/core.ts → lib/helper.ts → (type import) node:sqlite (forbidden in the core: node:sqlite)",
  ]);
});
