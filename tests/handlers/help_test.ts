import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { withBot } from "../fixtures/harness.ts";
import { splitHelp } from "../../lib/handlers/help.ts";
import { COMMANDS } from "../../lib/handlers/mod.ts";

const ALICE = "@alice:test";
const ADMIN = "@admin:test";
const HELP_MD = await Deno.readTextFile(new URL("../../help.md", import.meta.url));
const [USER_PART, ADMIN_PART] = HELP_MD.split("~~~");

const splitCases: Array<{ name: string; text: string; want: ReturnType<typeof splitHelp> }> = [
  {
    name: "user and admin parts",
    text: "User Help~~~Admin Help",
    want: { user: "User Help", admin: "Admin Help" },
  },
  {
    name: "no delimiter: user part only",
    text: "Only users",
    want: { user: "Only users", admin: undefined },
  },
  {
    name: "an empty admin part counts as none",
    text: "Users\n~~~\n  \n",
    want: { user: "Users", admin: undefined },
  },
  {
    name: "parts after the second are never used",
    text: "a~~~b~~~c",
    want: { user: "a", admin: "b" },
  },
];

for (const c of splitCases) {
  Deno.test(`splitHelp: ${c.name}`, () => {
    deepStrictEqual(splitHelp(c.text), c.want);
  });
}

Deno.test(".help sends a non-admin one message: the part of help.md before ~~~", async () => {
  await using bot = await withBot();
  await bot.say(ALICE, ".help");
  deepStrictEqual(bot.port.visible(), [USER_PART.trim()]);
  ok(USER_PART.trim().startsWith("# InfiniGPT"));
});

Deno.test(".help sends an admin two messages: the user part, then the admin part", async () => {
  await using bot = await withBot();
  await bot.say(ADMIN, ".help");
  deepStrictEqual(bot.port.visible(), [USER_PART.trim(), ADMIN_PART.trim()]);
});

Deno.test(".help splits a custom help text on ~~~ (reference test)", async () => {
  await using bot = await withBot({ help: "User Help~~~Admin Help" });
  await bot.say(ALICE, ".help");
  deepStrictEqual(bot.port.visible(), ["User Help"]);
  bot.port.clear();
  await bot.say(ADMIN, ".help me please");
  deepStrictEqual(bot.port.visible(), ["User Help", "Admin Help"]);
});

Deno.test(".help without an admin part sends admins one message", async () => {
  await using bot = await withBot({ help: "Just this" });
  await bot.say(ADMIN, ".help");
  deepStrictEqual(bot.port.visible(), ["Just this"]);
});

Deno.test("help.md has exactly one ~~~ delimiter", () => {
  strictEqual(HELP_MD.split("~~~").length, 2);
});

function mentions(part: string, command: string): boolean {
  // `.model` must not be found inside `.mymodel`: the name starts a code span.
  const escaped = command.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp("`" + escaped + "[`\\s]").test(part);
}

for (const command of COMMANDS) {
  const where = command.admin ? "after" : "before";
  Deno.test(`help.md documents ${command.name} ${where} the ~~~ delimiter`, () => {
    ok(
      mentions(command.admin ? ADMIN_PART : USER_PART, command.name),
      `${command.name} missing from the ${command.admin ? "admin" : "user"} part`,
    );
    ok(
      !mentions(command.admin ? USER_PART : ADMIN_PART, command.name),
      `${command.name} is also in the ${command.admin ? "user" : "admin"} part`,
    );
  });
}

/** Table rows of help.md (lines starting with `|`), with their line numbers. */
const TABLE_ROWS = HELP_MD.split("\n").map((line, i) => ({ line, n: i + 1 })).filter((r) =>
  r.line.trimStart().startsWith("|")
);

Deno.test("help.md tables have no | inside code spans", () => {
  ok(TABLE_ROWS.length > 0);
  for (const { line, n } of TABLE_ROWS) {
    for (const span of line.match(/`[^`]*`/g) ?? []) {
      ok(!span.includes("|"), `help.md line ${n}: ${span} contains |`);
    }
  }
});

Deno.test("every help.md table row has as many cells as its header", () => {
  let cells = -1;
  let previous = -1;
  for (const { line, n } of TABLE_ROWS) {
    const count = line.replace(/\\\|/g, "").split("|").length;
    if (n !== previous + 1) cells = count; // a new table starts with its header
    strictEqual(count, cells, `help.md line ${n} has a different number of cells`);
    previous = n;
  }
});
