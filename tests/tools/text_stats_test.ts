import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { builtinTools } from "../../lib/tools/builtins.ts";
import { ToolRegistry } from "../../lib/tools/registry.ts";
import { computeTextStats, textStats } from "../../lib/tools/text_stats.ts";

// Expected counts checked against the reference's Python (re.findall on str, len).
const cases: Array<
  [name: string, text: string, words: number, characters: number, sentences: number]
> = [
  ["a plain English text", "Hello, world! How are you?", 5, 26, 2],
  ["German letters are word characters", "Grüße aus Zürich.", 3, 17, 1],
  ["a run of marks is one sentence end", "Wait... what?!", 2, 14, 2],
  ["mixed ?! runs count once each", "Really?!?! Yes.", 2, 15, 2],
  ["each emoji is one character and no word", "😀😀 ok", 1, 5, 0],
  ["a skin-tone emoji is two code points", "Hi 👋🏽 there", 2, 11, 0],
  ["a ZWJ family emoji is five code points", "👨‍👩‍👧", 0, 5, 0],
  ["the empty text counts zeros", "", 0, 0, 0],
  ["a blank text counts zeros", "   \n\t ", 0, 0, 0],
  ["underscores and digits are word characters", "snake_case and x2 3.14", 5, 22, 1],
  ["dunder names are one word", "__init__ x_1", 2, 12, 0],
  ["Japanese without spaces is one word", "日本語のテキスト。", 1, 9, 0],
  ["Cyrillic words count", "Привет, мир!", 2, 12, 1],
  ["an apostrophe splits a word", "don't stop", 3, 10, 0],
  ["a hyphen splits a word", "e-mail", 2, 6, 0],
  ["Arabic-Indic digits are a word", "١٢٣ arabic digits", 3, 17, 0],
  ["fractions, superscripts and roman numerals are word characters", "½ ² ⅷ", 3, 5, 0],
  ["a text without marks has no sentences", "No punctuation", 2, 14, 0],
  ["marks alone are one sentence and no words", "?!", 0, 2, 1],
  ["dots inside a word split it", "a.b.c", 3, 5, 2],
  ["an ellipsis alone is one sentence", "...", 0, 3, 1],
  ["a combining accent is a character but not a word character", "cafe\u0301", 1, 5, 0],
  ["combining accents split words as in Python", "e\u0301te\u0301", 2, 5, 0],
  ["Devanagari vowel signs split words as in Python", "नमस्ते दुनिया", 5, 13, 0],
  ["newlines are characters", "Line one.\nLine two!\n\nLine three?", 6, 32, 3],
];

for (const [name, text, words, characters, sentences] of cases) {
  Deno.test(`text_stats: ${name}`, () => {
    deepStrictEqual(computeTextStats(text), { words, characters, sentences });
  });
}

Deno.test("text_stats rejects a text that is not a string", async () => {
  deepStrictEqual(
    await textStats.run({ text: 42 }, { signal: new AbortController().signal }, {}),
    { error: "Invalid 'text' argument; expected a string." },
  );
});

Deno.test("text_stats through the registry gives the model the counts as JSON", async () => {
  const registry = new ToolRegistry(builtinTools({}));
  const result = await registry.call("text_stats", { text: "Grüße aus Zürich! 😀 Bis bald." });
  strictEqual(result.ok, true);
  strictEqual(result.content, '{"words":5,"characters":29,"sentences":2}');
});

Deno.test("text_stats through the registry reports a blank text as a missing argument (decision 26)", async () => {
  const registry = new ToolRegistry(builtinTools({}));
  const result = await registry.call("text_stats", { text: "   " });
  strictEqual(result.ok, false);
  strictEqual(
    JSON.parse(result.content).error.startsWith("Invalid arguments for text_stats:"),
    true,
  );
});
