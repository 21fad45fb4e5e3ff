/**
 * What of the npm packages a release binary would embed is never loaded,
 * for `deno compile --exclude`: source maps, typings and docs, the
 * TypeScript sources (`src/`), CommonJS builds beside the ESM ones the bot
 * imports, browser bundles, the MCP SDK's server side, and whole packages
 * that no embedded file imports (the MCP server stack: express, hono, cors
 * and theirs).
 *
 * The rules only propose: a file they name stays when a kept file imports
 * it (relative imports, and package imports through `exports` with the
 * bot's conditions), and a package goes only when no kept file imports it.
 * `scripts/compile_check.ts` runs the program without the excluded files.
 *
 * @module
 */
import { basename, dirname, join, relative, resolve } from "node:path";

/** An npm package of the module graph (from `deno info --json`). */
export interface NpmPackage {
  /** `name@version` plus peer suffixes, as Deno names it. */
  id: string;
  name: string;
  version: string;
  /** Its folder in Deno's npm cache. */
  dir: string;
  /** Ids of its dependencies. */
  dependencies: string[];
}

/** Files never loaded, by name, in any package. */
const NEVER_LOADED_FILE = /\.(map|d\.ts|d\.mts|d\.cts)$|^(readme|changelog|history)(\.md)?$/i;

/**
 * Folders and files of particular packages that the bot never loads: their
 * package.json `exports` send ESM imports elsewhere (checked by
 * {@link scanImports}).
 */
export const NEVER_LOADED_PATHS: Readonly<Record<string, readonly string[]>> = {
  // TypeScript sources (only the "@zod/source"-style conditions point there).
  "openai": ["src"],
  "matrix-js-sdk": ["src"],
  "zod": ["src"],
  // Sources and browserify bundles; Node-style imports load lib/.
  "matrix-widget-api": ["src", "dist"],
  // The CommonJS build, the server side and the examples; the client is dist/esm/client.
  "@modelcontextprotocol/sdk": ["dist/cjs", "dist/esm/server", "dist/esm/examples"],
  // The "matrix-org:wasm-esm" condition loads index-wasm-esm.mjs and pkg/*_bg.js.
  "@matrix-org/matrix-sdk-crypto-wasm": [
    "index.cjs",
    "index.mjs",
    "node.cjs",
    "node.mjs",
    "pkg/matrix_sdk_crypto_wasm_bg.cjs",
  ],
  "@logtape/logtape": ["skills"],
};

/**
 * Packages whose CommonJS build lies beside the ESM one: `x.cjs` next to
 * `x.js` (zod), `x.js` next to `x.mjs` (openai).
 */
export const CJS_TWINS: readonly string[] = ["openai", "zod", "@logtape/logtape"];

/** The npm packages of `entry`'s module graph and the ones it imports directly. */
export async function npmGraph(
  root: string,
  entry = "main.ts",
): Promise<{ packages: Map<string, NpmPackage>; roots: string[] }> {
  const { stdout, code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: root,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (code !== 0) throw new Error(`deno info: ${new TextDecoder().decode(stderr)}`);
  const info = JSON.parse(new TextDecoder().decode(stdout));
  const packages = new Map<string, NpmPackage>();
  for (const [id, p] of Object.entries(info.npmPackages ?? {})) {
    const pkg = p as { name: string; version: string; dependencies: string[]; localPath: string };
    packages.set(id, {
      id,
      name: pkg.name,
      version: pkg.version,
      dir: pkg.localPath,
      dependencies: pkg.dependencies,
    });
  }
  const roots = [
    ...new Set(
      (info.modules as Array<{ kind: string; npmPackage?: string }>)
        .filter((m) => m.kind === "npm" && m.npmPackage).map((m) => m.npmPackage!),
    ),
  ];
  return { packages, roots };
}

async function walk(dir: string, out: string[] = []): Promise<string[]> {
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) await walk(path, out);
    else if (entry.isFile) out.push(path);
  }
  return out;
}

/** Whether a file of `pkg` (absolute path) is excluded by the rules (not by package). */
function excludedByRule(pkg: NpmPackage, file: string, files: Set<string>): boolean {
  const rel = relative(pkg.dir, file).replaceAll("\\", "/");
  if (rel === "package.json" || /^licen[cs]e/i.test(basename(rel))) return false;
  if (NEVER_LOADED_FILE.test(basename(rel))) return true;
  for (const path of NEVER_LOADED_PATHS[pkg.name] ?? []) {
    if (rel === path || rel.startsWith(`${path}/`)) return true;
  }
  if (CJS_TWINS.includes(pkg.name)) {
    if (rel.endsWith(".cjs") && files.has(file.replace(/\.cjs$/, ".js"))) return true;
    if (rel.endsWith(".js") && files.has(file.replace(/\.js$/, ".mjs"))) return true;
  }
  return false;
}

/** A module specifier found in a file, and whether it is a `require`. */
interface Found {
  specifier: string;
  require: boolean;
}

const IMPORTS = [
  /(?:^|[\s;}])(?:import|export)\s*(?:[\w*${}\s,]+?\s*from\s*)?["']([^"'\n]+)["']/g,
  /\bimport\(\s*["']([^"'\n]+)["']\s*\)/g,
];
const REQUIRE = /\brequire\(\s*["']([^"'\n]+)["']\s*\)/g;

/** Every literal module specifier of a JavaScript file. */
export function specifiers(text: string): Found[] {
  const found: Found[] = [];
  for (const pattern of IMPORTS) {
    for (const m of text.matchAll(pattern)) found.push({ specifier: m[1], require: false });
  }
  for (const m of text.matchAll(REQUIRE)) found.push({ specifier: m[1], require: true });
  return found;
}

const CONDITIONS_IMPORT = ["matrix-org:wasm-esm", "deno", "node", "import", "default"];
const CONDITIONS_REQUIRE = ["matrix-org:wasm-esm", "deno", "node", "require", "default"];

/** Resolves a package.json `exports` target for a subpath (`.` or `./x`). */
function exportsTarget(
  exports: unknown,
  subpath: string,
  conditions: string[],
): string | undefined {
  const pick = (value: unknown): string | undefined => {
    if (typeof value === "string") return value;
    if (Array.isArray(value)) {
      for (const v of value) {
        const t = pick(v);
        if (t) return t;
      }
      return undefined;
    }
    if (value && typeof value === "object") {
      for (const [key, v] of Object.entries(value)) {
        if (conditions.includes(key)) {
          const t = pick(v);
          if (t) return t;
        }
      }
    }
    return undefined;
  };
  if (typeof exports === "string" || Array.isArray(exports)) {
    return subpath === "." ? pick(exports) : undefined;
  }
  if (!exports || typeof exports !== "object") return undefined;
  const map = exports as Record<string, unknown>;
  if (!Object.keys(map).some((k) => k.startsWith("."))) {
    return subpath === "." ? pick(map) : undefined;
  }
  if (subpath in map) return pick(map[subpath]);
  for (const [key, value] of Object.entries(map)) {
    const star = key.indexOf("*");
    if (star < 0) continue;
    const [before, after] = [key.slice(0, star), key.slice(star + 1)];
    if (subpath.startsWith(before) && subpath.endsWith(after)) {
      const middle = subpath.slice(before.length, subpath.length - after.length);
      return pick(value)?.replaceAll("*", middle);
    }
  }
  return undefined;
}

/** What {@link neverLoaded} leaves out and keeps. */
export interface Excludes {
  /** Absolute paths for `--exclude` (whole package folders where a package goes). */
  paths: string[];
  /** Packages left out whole (no kept file imports them). */
  packages: string[];
  /** Files the rules name that are kept because a kept file imports them. */
  imported: string[];
  /** Files kept (absolute). */
  kept: Set<string>;
  /** Bytes left out. */
  bytes: number;
}

const JS = /\.(m|c)?js$/;
const PROBES = ["", ".js", ".mjs", ".cjs", ".json", "/index.js", "/index.mjs", "/index.cjs"];

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/** The file a relative or package path names on disk, probing like Node does. */
async function onDisk(path: string): Promise<string | undefined> {
  for (const ext of PROBES) if (await isFile(path + ext)) return path + ext;
  return undefined;
}

/**
 * Where an import in a file of `pkg` lands: a file, and the package it is
 * in. Undefined for `node:` modules, URLs, type-only paths and packages
 * Deno would not resolve from there.
 */
async function land(
  found: Found,
  file: string,
  pkg: NpmPackage,
  packages: Map<string, NpmPackage>,
): Promise<{ pkg: NpmPackage; file?: string } | undefined> {
  const { specifier } = found;
  if (/\.d\.[mc]?ts$/.test(specifier)) return undefined; // A type in a comment.
  if (specifier.startsWith(".")) {
    return { pkg, file: await onDisk(resolve(dirname(file), specifier)) };
  }
  const name = packageName(specifier);
  if (!name) return undefined;
  const id = name === pkg.name
    ? pkg.id
    : pkg.dependencies.find((d) => packages.get(d)?.name === name);
  const dep = id ? packages.get(id) : undefined;
  if (!dep) return undefined;
  const subpath = `.${specifier.slice(name.length)}`;
  let manifest: { exports?: unknown; main?: string } = {};
  try {
    manifest = JSON.parse(await Deno.readTextFile(join(dep.dir, "package.json")));
  } catch {
    // No manifest: plain paths.
  }
  const mapped = manifest.exports !== undefined
    ? exportsTarget(
      manifest.exports,
      subpath,
      found.require ? CONDITIONS_REQUIRE : CONDITIONS_IMPORT,
    )
    : subpath === "."
    ? (manifest.main ?? "index.js")
    : subpath;
  return { pkg: dep, file: mapped ? await onDisk(resolve(dep.dir, mapped)) : undefined };
}

/**
 * Applies the rules to the packages of the graph, keeping every file that a
 * kept file imports (relative imports, and package imports through
 * `exports` with the bot's conditions), then leaves out every package that
 * no kept file imports (starting from the packages the bot imports itself).
 */
export async function neverLoaded(
  graph: { packages: Map<string, NpmPackage>; roots: string[] },
): Promise<Excludes> {
  const files = new Map<string, string[]>();
  const all = new Set<string>();
  for (const pkg of graph.packages.values()) {
    const list = await walk(pkg.dir).catch(() => [] as string[]);
    files.set(pkg.id, list);
    list.forEach((f) => all.add(f));
  }
  const ruled = new Set<string>();
  for (const pkg of graph.packages.values()) {
    for (const file of files.get(pkg.id)!) if (excludedByRule(pkg, file, all)) ruled.add(file);
  }
  const imported: string[] = [];
  const used = new Set<string>();
  const queue: Array<{ pkg: NpmPackage; file: string }> = [];
  const use = (pkg: NpmPackage) => {
    if (used.has(pkg.id)) return;
    used.add(pkg.id);
    for (const file of files.get(pkg.id)!) {
      if (!ruled.has(file) && JS.test(file)) queue.push({ pkg, file });
    }
  };
  for (const id of graph.roots) {
    const pkg = graph.packages.get(id);
    if (pkg) use(pkg);
  }
  while (queue.length) {
    const { pkg, file } = queue.pop()!;
    for (const found of specifiers(await Deno.readTextFile(file))) {
      const target = await land(found, file, pkg, graph.packages);
      if (!target) continue;
      use(target.pkg);
      if (target.file && ruled.delete(target.file)) {
        imported.push(target.file);
        if (JS.test(target.file)) queue.push({ pkg: target.pkg, file: target.file });
      }
    }
  }
  const kept = new Set<string>();
  const paths: string[] = [];
  const packages: string[] = [];
  let bytes = 0;
  for (const pkg of graph.packages.values()) {
    const whole = !used.has(pkg.id);
    if (whole) {
      packages.push(pkg.id);
      paths.push(pkg.dir);
    }
    for (const file of files.get(pkg.id)!) {
      if (whole || ruled.has(file)) {
        bytes += (await Deno.stat(file)).size;
        if (!whole) paths.push(file);
      } else kept.add(file);
    }
  }
  return { paths: paths.sort(), packages: packages.sort(), imported: imported.sort(), kept, bytes };
}

/** `@scope/name` or `name` of a bare specifier; undefined for relative, node: and URLs. */
export function packageName(specifier: string): string | undefined {
  if (/^(\.|\/|[a-z]+:)/.test(specifier)) return undefined;
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}
