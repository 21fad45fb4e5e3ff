import { deepStrictEqual, ok } from "node:assert/strict";
import { COMMAND_TABLE, COMMANDS } from "../../lib/handlers/mod.ts";

const usage = (command: string) => ({
  invalid: true,
  usage: `Usage: ${command} [on|off|toggle]`,
});

/** Each command's `parse`: raw arguments (as routed: trimmed) → typed arguments. */
const cases: Record<string, Array<[raw: string, want: unknown]>> = {
  ".ai": [
    ["hello world", { text: "hello world" }],
    ["", { text: "" }],
    ["first\n  second", { text: "first\n  second" }],
    ["  padded  ", { text: "padded" }],
  ],
  ".x": [
    ["@bob:test hi", { text: "@bob:test hi" }],
    ["Bob Smith hello there", { text: "Bob Smith hello there" }],
    ["", { text: "" }],
  ],
  ".persona": [
    ["a pirate", { text: "a pirate" }],
    ["", { text: "" }],
  ],
  ".custom": [
    ["You are *very*  `terse`.", { text: "You are *very*  `terse`." }],
    ["", { invalid: true }],
    ["   ", { invalid: true }],
  ],
  ".reset": [
    ["", { stock: false }],
    ["stock", { stock: true }],
    ["STOCK", { stock: true }],
    [" Stock ", { stock: true }],
    ["stock please", { stock: false }],
    ["anything", { stock: false }],
  ],
  ".stock": [["", {}], ["ignored", {}]],
  ".help": [["", {}], ["me", {}]],
  ".clear": [["", {}], ["all", {}]],
  ".mymodel": [
    ["", { kind: "show" }],
    ["gpt-5-mini", { kind: "set", model: "gpt-5-mini" }],
    ["GPT-5-MINI", { kind: "set", model: "GPT-5-MINI" }],
    ["gpt-5-mini extra", { kind: "set", model: "gpt-5-mini extra" }],
    ["reset", { kind: "reset" }],
    ["RESET", { kind: "reset" }],
  ],
  ".model": [
    ["", { kind: "show" }],
    ["gpt-5-mini", { kind: "set", model: "gpt-5-mini" }],
    ["reset", { kind: "reset" }],
    ["Reset", { kind: "set", model: "Reset" }],
  ],
  ".tools": [
    ["", { action: "status" }],
    ["status", { action: "status" }],
    ["STATUS", { action: "status" }],
    ["on", { action: "on" }],
    ["enable", { action: "on" }],
    ["enabled", { action: "on" }],
    ["On", { action: "on" }],
    ["off", { action: "off" }],
    ["disable", { action: "off" }],
    ["disabled", { action: "off" }],
    ["toggle", { action: "toggle" }],
    ["of", { action: "toggle" }],
    ["banana", { action: "toggle" }],
    ["true", { action: "toggle" }],
  ],
  ".verbose": [
    ["", { action: "status" }],
    ["status", { action: "status" }],
    ["on", { action: "on" }],
    ["1", { action: "on" }],
    ["off", { action: "off" }],
    ["false", { action: "off" }],
    ["switch", { action: "toggle" }],
    ["banana", usage(".verbose")],
    ["on off", usage(".verbose")],
  ],
  ".usage": [
    ["", { all: false }],
    ["all", { all: true }],
    ["ALL", { all: true }],
    ["everyone", { invalid: true, usage: "Usage: .usage [all]" }],
  ],
  ".room": [
    ["", { kind: "show" }],
    ["model gpt-5-mini", { kind: "set", key: "model", value: "gpt-5-mini" }],
    ["tools reset", { kind: "reset", key: "tools" }],
    ["reset", { kind: "reset" }],
    ["stream maybe", {
      invalid: true,
      usage: "Usage: .room [model <id>|persona <text>|tools on|off|stream on|off] (or reset)",
    }],
  ],
  ".thinking": [
    ["", { action: "status" }],
    ["enabled", { action: "on" }],
    ["disabled", { action: "off" }],
    ["toggle", { action: "toggle" }],
    ["yes", usage(".thinking")],
  ],
};

for (const [name, table] of Object.entries(cases)) {
  for (const [raw, want] of table) {
    Deno.test(`parse: ${name} ${JSON.stringify(raw)} → ${JSON.stringify(want)}`, () => {
      const command = COMMAND_TABLE.get(name);
      ok(command, `${name} is in the command table`);
      deepStrictEqual(command.parse(raw), want);
    });
  }
}

Deno.test("parse: every command in the table has parse cases here", () => {
  deepStrictEqual(COMMANDS.map((c) => c.name).filter((n) => !cases[n]), []);
});
