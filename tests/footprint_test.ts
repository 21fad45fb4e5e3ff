import { deepStrictEqual, ok } from "node:assert/strict";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

interface Module {
  specifier: string;
  dependencies?: Array<{ code?: { specifier?: string }; isDynamic?: boolean }>;
}

/** `deno info --json main.ts`: every module, and the redirects. */
async function graph(): Promise<
  { modules: Map<string, Module>; redirects: Record<string, string> }
> {
  const { stdout, code } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "main.ts"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "inherit",
  }).output();
  ok(code === 0, "deno info failed");
  const info = JSON.parse(new TextDecoder().decode(stdout));
  return {
    modules: new Map((info.modules as Module[]).map((m) => [m.specifier, m])),
    redirects: info.redirects ?? {},
  };
}

/** Modules reached from `roots` through static imports only. */
function staticClosure(
  g: { modules: Map<string, Module>; redirects: Record<string, string> },
  roots: string[],
): Set<string> {
  const seen = new Set<string>();
  const stack = [...roots];
  while (stack.length) {
    const specifier = stack.pop()!;
    if (seen.has(specifier)) continue;
    seen.add(specifier);
    for (const dep of g.modules.get(specifier)?.dependencies ?? []) {
      const target = dep.code?.specifier;
      if (target && !dep.isDynamic) stack.push(g.redirects[target] ?? target);
    }
  }
  return seen;
}

Deno.test("the MCP SDK is not loaded at start: lib/mcp.ts is imported only dynamically, by lib/app.ts (llm.mcp_servers set) and the doctor's MCP check", async () => {
  const g = await graph();
  const url = (path: string) => new URL(path, `file://${ROOT}`).href;
  // What every start of the bot loads: main.ts, and lib/run.ts that the CLI imports to run.
  const start = staticClosure(g, [url("main.ts"), url("lib/run.ts")]);
  ok(start.has(url("lib/app.ts")), "the scan is broken: lib/app.ts not reached");
  const mcp = [...start].filter((s) => s.includes("modelcontextprotocol") || s.endsWith("/mcp.ts"));
  deepStrictEqual(mcp, [], "loaded at start");
  const importers = [...g.modules.values()].flatMap((m) =>
    (m.dependencies ?? []).filter((d) => d.code?.specifier === url("lib/mcp.ts"))
      .map((d) => `${m.specifier.slice(url("").length)}${d.isDynamic ? " (dynamic)" : ""}`)
  );
  deepStrictEqual(importers.sort(), ["lib/app.ts (dynamic)", "lib/doctor_checks.ts (dynamic)"]);
});
