import { strictEqual } from "node:assert/strict";
import { isObject } from "../lib/json.ts";

const values: Array<[what: string, value: unknown, object: boolean]> = [
  ["an empty object", {}, true],
  ["an object with keys", { a: 1 }, true],
  ["an object without prototype", Object.create(null), true],
  ["null", null, false],
  ["an array", [], false],
  ["a string", "{}", false],
  ["a number", 1, false],
  ["undefined", undefined, false],
];

for (const [what, value, object] of values) {
  Deno.test(`isObject: ${what} is ${object ? "" : "not "}a JSON object`, () => {
    strictEqual(isObject(value), object);
  });
}
