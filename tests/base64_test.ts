import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import { decodeBase64, encodeBase64 } from "../lib/base64.ts";

const bytes = (...values: number[]) => new Uint8Array(values);

Deno.test("encodeBase64 gives standard padded base64 by default", async (t) => {
  const cases: Array<[Uint8Array, string]> = [
    [bytes(), ""],
    [bytes(0x66), "Zg=="],
    [bytes(0x66, 0x6f), "Zm8="],
    [bytes(0x66, 0x6f, 0x6f), "Zm9v"],
    [bytes(0xfb, 0xff, 0xbf), "+/+/"],
  ];
  for (const [input, expected] of cases) {
    await t.step(`${expected || "(empty)"}`, () => strictEqual(encodeBase64(input), expected));
  }
});

Deno.test("encodeBase64 with url=true uses the URL-safe alphabet without padding", async (t) => {
  const cases: Array<[Uint8Array, string]> = [
    [bytes(0x66), "Zg"],
    [bytes(0x66, 0x6f), "Zm8"],
    [bytes(0xfb, 0xff, 0xbf), "-_-_"],
  ];
  for (const [input, expected] of cases) {
    await t.step(expected, () => strictEqual(encodeBase64(input, true), expected));
  }
});

Deno.test("decodeBase64 round-trips every length 0..64 in both alphabets", () => {
  for (let n = 0; n <= 64; n++) {
    const data = Uint8Array.from({ length: n }, (_, i) => (i * 97 + n * 31) & 0xff);
    deepStrictEqual(decodeBase64(encodeBase64(data)), data, `standard, length ${n}`);
    deepStrictEqual(decodeBase64(encodeBase64(data, true)), data, `url-safe, length ${n}`);
  }
});

Deno.test("decodeBase64 detects the URL-safe alphabet from - and _", async (t) => {
  const cases: Array<[string, Uint8Array]> = [
    ["-_-_", bytes(0xfb, 0xff, 0xbf)],
    ["+/+/", bytes(0xfb, 0xff, 0xbf)],
    ["_w", bytes(0xff)],
    ["/w==", bytes(0xff)],
    ["-w", bytes(0xfb)],
  ];
  for (const [input, expected] of cases) {
    await t.step(input, () => deepStrictEqual(decodeBase64(input), expected));
  }
});

Deno.test("decodeBase64 tolerates whitespace and missing padding", async (t) => {
  const foo = bytes(0x66, 0x6f, 0x6f, 0x66);
  const cases = ["Zm9vZg==", "Zm9vZg", " Zm9v\nZg==\n", "\tZm 9v Zg\r\n"];
  for (const input of cases) {
    await t.step(JSON.stringify(input), () => deepStrictEqual(decodeBase64(input), foo));
  }
});

Deno.test("decodeBase64 rejects characters outside the alphabet", async (t) => {
  for (const input of ["Zm9v!", "Zm9v*g==", "äöü", "Z"]) {
    await t.step(JSON.stringify(input), () => throws(() => decodeBase64(input)));
  }
});
