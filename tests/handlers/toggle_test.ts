import { strictEqual } from "node:assert/strict";
import { applyToggle, parseToggle, type ToggleAction } from "../../lib/handlers/toggle.ts";

const parseCases: Array<[input: string, want: ToggleAction]> = [
  ["", "status"],
  ["   ", "status"],
  ["status", "status"],
  ["STATUS", "status"],
  ["on", "on"],
  ["true", "on"],
  ["1", "on"],
  ["enable", "on"],
  ["enabled", "on"],
  ["On", "on"],
  [" on ", "on"],
  ["off", "off"],
  ["false", "off"],
  ["0", "off"],
  ["disable", "off"],
  ["disabled", "off"],
  ["OFF", "off"],
  ["toggle", "toggle"],
  ["switch", "toggle"],
  ["Toggle", "toggle"],
  ["yes", "invalid"],
  ["banana", "invalid"],
  ["on off", "invalid"],
  ["2", "invalid"],
];

for (const [input, want] of parseCases) {
  Deno.test(`parseToggle reads ${JSON.stringify(input)} as ${want}`, () => {
    strictEqual(parseToggle(input), want);
  });
}

const applyCases: Array<[action: ToggleAction, current: boolean, want: boolean | undefined]> = [
  ["on", false, true],
  ["on", true, true],
  ["off", true, false],
  ["off", false, false],
  ["toggle", false, true],
  ["toggle", true, false],
  ["status", true, undefined],
  ["invalid", false, undefined],
];

for (const [action, current, want] of applyCases) {
  Deno.test(`applyToggle ${action} on ${current} gives ${want}`, () => {
    strictEqual(applyToggle(action, current), want);
  });
}
