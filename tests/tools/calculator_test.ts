import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { calculateExpression, pyFloat, pyFloorDiv, pyMod } from "../../lib/tools/calculator.ts";

const INVALID = '{"error": "Invalid arithmetic expression."}';

const valid: Array<[expression: string, result: number]> = [
  ["2+2", 4],
  ["7 // 2", 3],
  ["-7 // 2", -4],
  ["7 // -2", -4],
  ["7.5 // 2", 3],
  ["-7 % 3", 2],
  ["7 % -3", -2],
  ["7 % 3", 1],
  ["-7 % -3", -1],
  ["5.5 % 2", 1.5],
  ["2 ** 10", 1024],
  ["-2 ** 2", -4],
  ["(-2) ** 2", 4],
  ["2 ** -1", 0.5],
  ["2 ** 3 ** 2", 512],
  ["2 ** 0.5", Math.SQRT2],
  ["(1+2)*3", 9],
  ["1+2*3", 7],
  ["10 - 4 - 3", 3],
  ["2 * 3 % 4", 2],
  ["7 / 2", 3.5],
  [".5 + 1.", 1.5],
  ["1e3", 1000],
  ["1.5e-3", 0.0015],
  ["1_000", 1000],
  ["0x10", 16],
  ["0o17", 15],
  ["0b101", 5],
  ["0", 0],
  ["--1", 1],
  ["+3", 3],
  ["  ( 4 )  ", 4],
];

for (const [expression, result] of valid) {
  Deno.test(`calculate_expression: ${JSON.stringify(expression)} is ${result}`, () => {
    deepStrictEqual(JSON.parse(calculateExpression(expression)), { result });
  });
}

Deno.test('calculate_expression: 2+2 is written as a Python float, {"result": 4.0}', () => {
  strictEqual(calculateExpression("2+2"), '{"result": 4.0}');
  strictEqual(calculateExpression("7 // 2"), '{"result": 3.0}');
  strictEqual(calculateExpression("1/4"), '{"result": 0.25}');
});

const invalid: Array<[name: string, expression: unknown]> = [
  ["division by zero", "1 / 0"],
  ["division by a float zero", "1 / 0.0"],
  ["modulo by zero", "5 % 0"],
  ["floor division by zero", "5 // 0"],
  ["a name", "x+1"],
  ["a call", "abs(1)"],
  ["attribute access", "(1).real"],
  ["attribute access on a spaced literal", "3 .real"],
  ["an import", "__import__('os')"],
  ["a string literal", "'a' * 3"],
  ["a boolean name", "True + 1"],
  ["a comparison", "1 < 2"],
  ["a conditional expression", "1 if 1 else 2"],
  ["a list", "[1, 2]"],
  ["two statements", "1; 2"],
  ["a huge tower of exponents", "10 ** 10 ** 10"],
  ["a huge power", "2 ** 100000"],
  ["an overflowing power used in a division", "1 / 2 ** 100000"],
  ["an overflowing power subtracted from itself", "2 ** 10000 - 2 ** 10000"],
  ["a literal beyond float range", "1e400"],
  ["a product beyond float range", "1e308 * 10"],
  ["zero to a negative power", "0 ** -1"],
  ["a complex result", "(-8) ** 0.5"],
  ["an empty string", ""],
  ["only whitespace", "   "],
  ["a number", 4],
  ["null", null],
  ["undefined", undefined],
  ["an object", { expression: "1+1" }],
  ["a 2000-character input", "1+".repeat(999) + "1" + " "],
  ["200 nested parentheses", "(".repeat(200) + "1" + ")".repeat(200)],
  ["200 nested unary minus signs", "-".repeat(200) + "1"],
  ["an imaginary literal", "2j"],
  ["a dangling operator", "1 +"],
  ["a leading-zero decimal", "012"],
  ["a double zero", "00"],
  ["a trailing underscore", "1_"],
  ["a double underscore", "1__0"],
  ["an exponent without digits", "1e"],
  ["a bare hex prefix", "0x"],
  ["empty parentheses", "()"],
  ["an unclosed parenthesis", "(1"],
  ["an unopened parenthesis", "1)"],
  ["juxtaposed numbers", "1 2"],
  ["juxtaposed parentheses", "(2)(3)"],
  ["a triple star", "2 *** 2"],
  ["a full-width digit", "１"],
];

for (const [name, expression] of invalid) {
  Deno.test(`calculate_expression rejects ${name}`, () => {
    strictEqual(calculateExpression(expression), INVALID);
  });
}

Deno.test("calculate_expression accepts 64 levels of parentheses", () => {
  const expression = "(".repeat(60) + "1+1" + ")".repeat(60);
  deepStrictEqual(JSON.parse(calculateExpression(expression)), { result: 2 });
});

const modCases: Array<[number, number, number]> = [
  [-7, 3, 2],
  [7, -3, -2],
  [7, 3, 1],
  [-7, -3, -1],
  [6, 3, 0],
  [-6, 3, 0],
];

for (const [a, b, want] of modCases) {
  Deno.test(`pyMod(${a}, ${b}) takes the divisor's sign: ${want}`, () => {
    strictEqual(pyMod(a, b), want);
  });
}

Deno.test("pyFloorDiv floors towards negative infinity", () => {
  strictEqual(pyFloorDiv(-7, 2), -4);
  strictEqual(pyFloorDiv(7, 2), 3);
  strictEqual(pyFloorDiv(-7, -2), 3);
});

const floats: Array<[number, string]> = [
  [4, "4.0"],
  [-3, "-3.0"],
  [0, "0.0"],
  [-0, "-0.0"],
  [0.5, "0.5"],
  [1e21, "1e+21"],
];

for (const [value, text] of floats) {
  Deno.test(`pyFloat(${Object.is(value, -0) ? "-0" : value}) is ${text}`, () => {
    strictEqual(pyFloat(value), text);
  });
}

Deno.test("pyMod gives a zero remainder the divisor's sign, as Python does", () => {
  strictEqual(Object.is(pyMod(-6, 3), 0), true);
  strictEqual(Object.is(pyMod(6, -3), -0), true);
});
