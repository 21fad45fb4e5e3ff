import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { COMMAND_TABLE, determine, type Routed } from "../../lib/handlers/mod.ts";
import { determineStep } from "../../lib/pipeline/determine.ts";
import { passes, testTurn } from "../fixtures/turns.ts";

const cases: Array<[routed: Routed, want: { command: string; args: unknown } | null]> = [
  [{ command: ".ai", args: "hello" }, { command: ".ai", args: { text: "hello" } }],
  [{ command: ".model", args: "reset" }, { command: ".model", args: { kind: "reset" } }],
  [{ command: ".mymodel", args: "RESET" }, { command: ".mymodel", args: { kind: "reset" } }],
  [{ command: ".model", args: "RESET" }, {
    command: ".model",
    args: { kind: "set", model: "RESET" },
  }],
  [{ command: ".reset", args: "stock" }, { command: ".reset", args: { stock: true } }],
  [{ command: ".tools", args: "banana" }, { command: ".tools", args: { action: "toggle" } }],
  [{ command: ".verbose", args: "banana" }, {
    command: ".verbose",
    args: { invalid: true, usage: "Usage: .verbose [on|off|toggle]" },
  }],
  [{ command: ".custom", args: "" }, { command: ".custom", args: { invalid: true } }],
  [{ command: ".clear", args: "everything" }, { command: ".clear", args: {} }],
  [{ command: ".weather", args: "Paris" }, null],
];

for (const [routed, want] of cases) {
  Deno.test(`determine: ${routed.command} ${JSON.stringify(routed.args)} → ${JSON.stringify(want?.args ?? null)}`, async () => {
    const found = determine(routed, COMMAND_TABLE);
    deepStrictEqual(found && { command: found.command.name, args: found.args }, want);
    const turn = testTurn();
    turn.address = routed;
    strictEqual(await passes(determineStep(COMMAND_TABLE), turn), want !== null);
    strictEqual(turn.determination?.command, found?.command);
  });
}

Deno.test("determine: a turn nobody addressed goes no further", async () => {
  const turn = testTurn();
  strictEqual(await passes(determineStep(COMMAND_TABLE), turn), false);
  strictEqual(turn.determination, undefined);
});
