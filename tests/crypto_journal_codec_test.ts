import "fake-indexeddb/auto"; // indexedDB.cmp: the premise of each equality below
import { deepStrictEqual, notStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import { decodeKey, encodeKey } from "../lib/crypto_journal_codec.ts";

const keys: Array<[string, IDBValidKey]> = [
  ["zero", 0],
  ["a negative float", -12.75],
  ["a large number", 1e21],
  ["the largest number", Number.MAX_VALUE],
  ["the smallest number", Number.MIN_VALUE],
  ["Infinity", Infinity],
  ["-Infinity", -Infinity],
  ["the empty string", ""],
  ["an ASCII string", "hello"],
  ["a string that looks like an encoded number", "n:1"],
  ["a string with quotes and backslashes", 'a"b\\c'],
  ["a unicode string", "ключ 🔑 中文 é"],
  ["a string with NUL and newlines", "a\u0000b\nc"],
  ["a date", new Date(1_700_000_000_123)],
  ["a date before 1970", new Date(-86_400_000)],
  ["the empty array", []],
  ["an array of mixed keys", [1, "two", new Date(3)]],
  ["nested arrays", [[1, [2, ["x", []]]], "y"]],
  ["an array holding an encoded-looking string", ["a:[]", "s:x"]],
  ["an ArrayBuffer", new Uint8Array([0, 1, 254, 255]).buffer],
  ["an empty ArrayBuffer", new ArrayBuffer(0)],
  ["an array with binary", [new Uint8Array([7, 8]).buffer, 1]],
];

for (const [name, key] of keys) {
  Deno.test(`decodeKey(encodeKey(k)) gives back ${name}`, () => {
    const text = encodeKey(key);
    strictEqual(typeof text, "string");
    deepStrictEqual(decodeKey(text), key);
    strictEqual(encodeKey(decodeKey(text)), text, "encoding the decoded key is stable");
  });
}

Deno.test("encodeKey gives one text per IndexedDB key (equal under indexedDB.cmp)", async (t) => {
  const u8 = new Uint8Array([1, 2, 3, 4]);
  const equal: Array<[string, IDBValidKey, IDBValidKey]> = [
    ["-0 and 0", -0, 0],
    ["[-0] and [0]", [-0], [0]],
    ["two equal dates", new Date(5), new Date(5)],
    ["ArrayBuffer and Uint8Array", u8.slice().buffer, u8],
    ["Uint8Array and DataView", u8, new DataView(u8.slice().buffer)],
    ["Uint8Array and Int8Array", u8, new Int8Array(u8.slice().buffer)],
    ["Uint16Array and its bytes", new Uint16Array([0x0201, 0x0403]), u8],
    ["a subarray and a copy", new Uint8Array([9, 1, 2, 3, 4, 9]).subarray(1, 5), u8],
    ["nested arrays with binary", [[u8]], [[u8.slice().buffer]]],
  ];
  for (const [name, a, b] of equal) {
    await t.step(name, () => {
      strictEqual(indexedDB.cmp(a, b), 0, "the premise: IndexedDB sees one key");
      strictEqual(encodeKey(a), encodeKey(b));
    });
  }
});

Deno.test("encodeKey gives different texts for different keys", () => {
  const distinct: IDBValidKey[] = [
    0,
    1,
    -1,
    1.5,
    "0",
    "",
    "n:0",
    new Date(0),
    new Date(1),
    [],
    [0],
    ["0"],
    [[0]],
    [0, 0],
    new ArrayBuffer(0),
    new Uint8Array([0]).buffer,
    new Uint8Array([0, 0]).buffer,
    "a",
    ["a"],
    "é",
    "e\u0301",
  ];
  const texts = distinct.map(encodeKey);
  strictEqual(new Set(texts).size, distinct.length, texts.join(" | "));
  for (let i = 0; i < distinct.length; i++) {
    for (let j = i + 1; j < distinct.length; j++) {
      notStrictEqual(indexedDB.cmp(distinct[i], distinct[j]), 0, `${texts[i]} vs ${texts[j]}`);
    }
  }
});

Deno.test("decodeKey returns binary keys as an ArrayBuffer", () => {
  const decoded = decodeKey(encodeKey(new Uint8Array([5, 6, 7]).subarray(1)));
  ok(decoded instanceof ArrayBuffer);
  deepStrictEqual([...new Uint8Array(decoded)], [6, 7]);
});

Deno.test("encodeKey rejects values that are not IndexedDB keys", async (t) => {
  const bad: Array<[string, unknown]> = [
    ["undefined", undefined],
    ["null", null],
    ["a boolean", true],
    ["a plain object", { a: 1 }],
    ["an array holding an object", [{}]],
  ];
  for (const [name, value] of bad) {
    await t.step(name, () => throws(() => encodeKey(value as IDBValidKey), TypeError));
  }
});

Deno.test("decodeKey rejects text it did not make", () => {
  throws(() => decodeKey("x:1"), TypeError);
  throws(() => decodeKey(""), TypeError);
  throws(() => decodeKey("a:not json"));
});
