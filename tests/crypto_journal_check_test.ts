import { deepStrictEqual } from "node:assert/strict";
import { join } from "node:path";
import { encodeKey } from "../lib/crypto_journal_codec.ts";
import { runOk, tempDir } from "./fixtures/journal_process.ts";

// Every other journal test expects the self-check to find nothing; this one
// proves it can find something (a check that always passed would pass them).
Deno.test("the self-check names every way the journal file can differ from the live databases", async () => {
  await using tmp = tempDir();
  const result = await runOk(join(tmp.path, "crypto.db"), "drift") as {
    before: string[];
    after: string[];
  };
  deepStrictEqual(result.before, [], "the premise: identical before the file was changed");
  deepStrictEqual(
    result.after.toSorted(),
    [
      "db-drift/ghost: not live",
      `db-drift/s: key ${encodeKey("b")} not journaled`,
      "db-drift/s: 3 live vs 2 journaled",
      `db-drift/s: value of ${encodeKey("c")} differs`,
      "db-drift/t: not journaled",
      "db-drift: version 1 vs 5",
      "db-ghost: journaled but not live",
      "db-unjournaled: live but not journaled",
    ].toSorted(),
  );
});
