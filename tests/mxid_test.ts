import { strictEqual } from "node:assert/strict";
import { isMxid, localpart } from "../lib/mxid.ts";

const ids: Array<[input: string, valid: boolean, localpart: string]> = [
  ["@alice:example.org", true, "alice"],
  ["@a.b_c:server:8448", true, "a.b_c"],
  ["@bot:[::1]:8448", true, "bot"],
  ["@you:console", true, "you"],
  ["alice", false, "alice"],
  ["not-an-mxid", false, "not-an-mxid"],
  ["@nocolon", false, "@nocolon"],
  ["@:example.org", false, "@:example.org"],
  ["@alice:", false, "alice"],
  ["@al ice:example.org", false, "al ice"],
  ["@alice:example .org", false, "alice"],
  [" @alice:example.org", false, " @alice:example.org"],
  ["#room:example.org", false, "#room:example.org"],
];

for (const [input, valid, name] of ids) {
  Deno.test(`${JSON.stringify(input)} is ${valid ? "" : "not "}a Matrix user ID`, () => {
    strictEqual(isMxid(input), valid);
  });
  Deno.test(`the localpart of ${JSON.stringify(input)} is ${JSON.stringify(name)}`, () => {
    strictEqual(localpart(input), name);
  });
}
