import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import { ConfigError } from "../lib/config_errors.ts";
import { jsonErrorAt, parseConfigText } from "../lib/config_json.ts";

// Where the scanner says the text stops being JSON (1-based line and column).
const ERRORS: Array<[string, { line: number; column: number } | undefined]> = [
  ['{"a": [1, 2.5e3, "x\\u00e9", true, false, null], "b": {}}', undefined],
  ["  []  ", undefined],
  ["", { line: 1, column: 1 }],
  ["{", { line: 1, column: 2 }],
  ['{"a" 1}', { line: 1, column: 6 }],
  ['{"a": 1,}', { line: 1, column: 9 }],
  ["[1,]", { line: 1, column: 4 }],
  ["[1 2]", { line: 1, column: 4 }],
  ['{\n  "a": tru\n}', { line: 2, column: 8 }],
  ['{\n  "a": "x\\q"\n}', { line: 2, column: 11 }],
  ['["\\u12G4"]', { line: 1, column: 4 }],
  ['["a\nb"]', { line: 1, column: 4 }],
  ["[01]", { line: 1, column: 3 }],
  ["[-]", { line: 1, column: 2 }],
  ["{} {}", { line: 1, column: 4 }],
  ['"open', { line: 1, column: 6 }],
  ["[".repeat(512) + "]".repeat(512), undefined],
  ["[".repeat(514), { line: 1, column: 514 }],
];

for (const [text, at] of ERRORS) {
  Deno.test(`jsonErrorAt(${JSON.stringify(text.slice(0, 30))}) is ${JSON.stringify(at)}`, () => {
    deepStrictEqual(jsonErrorAt(text), at);
  });
}

Deno.test("jsonErrorAt agrees with JSON.parse on what is JSON", () => {
  for (const [text] of ERRORS.slice(0, 16)) {
    let parses = true;
    try {
      JSON.parse(text);
    } catch {
      parses = false;
    }
    strictEqual(jsonErrorAt(text) === undefined, parses, text);
  }
});

Deno.test("parseConfigText skips a byte-order mark", () => {
  deepStrictEqual(parseConfigText('\uFEFF{"a": 1}'), { a: 1 });
});

Deno.test("parseConfigText reports the position of a syntax error, never the text", () => {
  const text = '{\n  "password": "hunter2",\n  "x": }';
  throws(() => parseConfigText(text, "c.json"), (error) => {
    ok(error instanceof ConfigError);
    deepStrictEqual(error.errors, ["(file): not valid JSON at line 3, column 8"]);
    strictEqual(error.path, "c.json");
    ok(!error.message.includes("hunter2"));
    return true;
  });
});
