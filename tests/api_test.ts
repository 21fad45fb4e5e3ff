/**
 * The public API (`mod.ts`, the package's `.` export) is complete: every
 * exported symbol is documented and every type it mentions is exported too
 * (`deno doc --lint`). Slow types are checked by `deno lint` itself, since
 * deno.json names the package and its exports.
 */
import { ok } from "node:assert/strict";
import { fileURLToPath } from "node:url";
import denoJson from "../deno.json" with { type: "json" };

const ROOT = fileURLToPath(new URL("..", import.meta.url));

Deno.test("deno doc --lint finds nothing to fix in the public API (mod.ts)", async () => {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--lint", "mod.ts"],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
  const problems = [...text.matchAll(/^error\[([\w-]+)\]: (.*)\n\s*--> (\S+)/gm)]
    .map(([, rule, what, where]) =>
      `${where.replace(`file://${ROOT}`, "").replace(ROOT, "")} ${rule}: ${what}`
    );
  ok(code === 0, `deno doc --lint mod.ts:\n${problems.join("\n") || text}`);
});

Deno.test("the package exports the library and the command line, nothing else", () => {
  const exports = denoJson.exports as Record<string, string>;
  ok(exports["."] === "./mod.ts", `"." is ${exports["."]}`);
  ok(exports["./cli"] === "./main.ts", `"./cli" is ${exports["./cli"]}`);
  ok(Object.keys(exports).length === 2, `exports: ${Object.keys(exports).join(", ")}`);
});
