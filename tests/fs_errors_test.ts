import { match, strictEqual } from "node:assert/strict";
import { describeFsError } from "../lib/fs_errors.ts";

Deno.test("a permission refusal names the working-directory rule instead of Deno's flag hint", () => {
  const error = new Deno.errors.NotCapable(
    'Requires read access to "../cfg.json", run again with the --allow-read flag',
  );
  const text = describeFsError(error, "../cfg.json");
  match(text, /^no permission to read \.\.\/cfg\.json: a release binary reads and writes only/);
  match(text, new RegExp(`\\(${Deno.cwd().replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}\\)`));
  strictEqual(text.includes("--allow-read"), false);
});

Deno.test("a write refusal says write", () => {
  const error = new Deno.errors.NotCapable('Requires write access to "/srv/x", run again');
  match(describeFsError(error, "/srv/x"), /^no permission to write \/srv\/x:/);
});

Deno.test("other errors keep their own message", () => {
  strictEqual(describeFsError(new Deno.errors.NotFound("gone")), "gone");
  strictEqual(describeFsError("plain"), "plain");
});
