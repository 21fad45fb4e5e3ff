import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { encodeBase64 } from "../lib/base64.ts";
import { loadStoreKey, parseStoreKey, StoreKeyError } from "../lib/store_key.ts";

const KEY = Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff);
const HEX = [...KEY].map((b) => b.toString(16).padStart(2, "0")).join("");

function tempDir(): AsyncDisposable & { path: string } {
  const path = Deno.makeTempDirSync({ prefix: "infinigpt-key-" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

async function storeKeyError(promise: Promise<unknown>): Promise<StoreKeyError> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  ok(caught instanceof StoreKeyError, `expected a StoreKeyError, got ${caught}`);
  return caught;
}

Deno.test("parseStoreKey accepts the accepted text forms of a 32-byte key", async (t) => {
  const cases: Array<[string, string]> = [
    ["64 hex characters", HEX],
    ["64 upper-case hex characters", HEX.toUpperCase()],
    ["hex with a trailing newline", HEX + "\n"],
    ["hex with surrounding spaces", `  ${HEX}\t`],
    ["padded base64", encodeBase64(KEY)],
    ["unpadded base64url", encodeBase64(KEY, true)],
    ["base64 with a newline", encodeBase64(KEY) + "\n"],
  ];
  for (const [name, text] of cases) {
    await t.step(name, () => deepStrictEqual(parseStoreKey(text, "test"), KEY));
  }
});

Deno.test("parseStoreKey rejects wrong lengths and garbage, naming the source, never the key", async (t) => {
  const cases: Array<[string, string]> = [
    ["62 hex characters", HEX.slice(0, 62)],
    ["66 hex characters", HEX + "ab"],
    ["base64 of 31 bytes", encodeBase64(KEY.subarray(0, 31))],
    ["base64 of 33 bytes", encodeBase64(new Uint8Array([...KEY, 1]))],
    ["garbage", "this is not a key at all!!"],
    ["hex with a non-hex character", HEX.slice(0, 63) + "g"],
    ["empty", ""],
    ["whitespace only", " \n "],
  ];
  for (const [name, text] of cases) {
    await t.step(name, () => {
      let caught: unknown;
      try {
        parseStoreKey(text, "SOURCE_NAME");
      } catch (error) {
        caught = error;
      }
      ok(caught instanceof StoreKeyError, `expected a StoreKeyError, got ${caught}`);
      const message = caught.message;
      ok(message.includes("SOURCE_NAME"), message);
      if (text.trim().length >= 8) ok(!message.includes(text.trim()), "the key text leaks");
      ok(!message.includes(HEX.slice(0, 16)), "key material leaks");
    });
  }
});

Deno.test("loadStoreKey returns undefined when neither env nor file is set", async () => {
  strictEqual(await loadStoreKey(undefined, undefined), undefined);
  strictEqual(await loadStoreKey("", null), undefined);
});

Deno.test("loadStoreKey reads INFINIGPT_STORE_KEY in hex or base64", async () => {
  deepStrictEqual(await loadStoreKey(HEX, undefined), KEY);
  deepStrictEqual(await loadStoreKey(encodeBase64(KEY), null), KEY);
});

Deno.test("loadStoreKey reads a raw 32-byte file", async () => {
  await using tmp = tempDir();
  const file = join(tmp.path, "key.bin");
  // Raw bytes that are also not valid UTF-8 text.
  const raw = KEY.map((b) => b | 0x80);
  await Deno.writeFile(file, raw);
  deepStrictEqual(await loadStoreKey(undefined, file), raw);
});

Deno.test("loadStoreKey reads a raw 32-byte file that happens to be printable", async () => {
  await using tmp = tempDir();
  const file = join(tmp.path, "key.bin");
  const raw = new TextEncoder().encode("abcdefghijklmnopqrstuvwxyz012345");
  await Deno.writeFile(file, raw);
  deepStrictEqual(await loadStoreKey(undefined, file), raw);
});

Deno.test("loadStoreKey reads a text file of hex with a newline, or of base64", async () => {
  await using tmp = tempDir();
  const hexFile = join(tmp.path, "key.hex");
  await Deno.writeTextFile(hexFile, HEX + "\n");
  deepStrictEqual(await loadStoreKey(undefined, hexFile), KEY);
  const b64File = join(tmp.path, "key.b64");
  await Deno.writeTextFile(b64File, encodeBase64(KEY) + "\n");
  deepStrictEqual(await loadStoreKey(undefined, b64File), KEY);
});

Deno.test("loadStoreKey prefers the environment over the file", async () => {
  await using tmp = tempDir();
  const file = join(tmp.path, "key.hex");
  const other = new Uint8Array(32).fill(7);
  await Deno.writeFile(file, other);
  deepStrictEqual(await loadStoreKey(HEX, file), KEY);
  deepStrictEqual(await loadStoreKey(undefined, file), other);
});

Deno.test("loadStoreKey with a bad environment value names INFINIGPT_STORE_KEY", async () => {
  await using tmp = tempDir();
  const file = join(tmp.path, "key.hex");
  await Deno.writeTextFile(file, HEX);
  const error = await storeKeyError(loadStoreKey("deadbeef".repeat(7), file));
  ok(error.message.includes("INFINIGPT_STORE_KEY"), error.message);
  ok(!error.message.includes("deadbeef"), error.message);
});

Deno.test("loadStoreKey rejects a file of the wrong length, naming the file, not the key", async (t) => {
  await using tmp = tempDir();
  const cases: Array<[string, Uint8Array | string]> = [
    ["31 raw bytes", KEY.subarray(0, 31)],
    ["33 raw bytes", new Uint8Array([...KEY, 0x99])],
    ["62 hex characters", HEX.slice(0, 62) + "\n"],
    ["base64 of 16 bytes", encodeBase64(KEY.subarray(0, 16))],
    ["an empty file", ""],
    ["garbage text", "secret-looking garbage: hunter2hunter2hunter2\n"],
  ];
  for (const [name, data] of cases) {
    await t.step(name, async () => {
      const file = join(tmp.path, name.replaceAll(" ", "_"));
      if (typeof data === "string") await Deno.writeTextFile(file, data);
      else await Deno.writeFile(file, data);
      const error = await storeKeyError(loadStoreKey(undefined, file));
      ok(error.message.includes("matrix.store_key_file"), error.message);
      ok(error.message.includes(file), error.message);
      ok(!error.message.includes("hunter2"), error.message);
      ok(!error.message.includes(HEX.slice(0, 16)), error.message);
      ok(!error.message.includes(encodeBase64(KEY.subarray(0, 16)).slice(0, 12)), error.message);
    });
  }
});

Deno.test("loadStoreKey of a missing file throws a StoreKeyError naming the file", async () => {
  await using tmp = tempDir();
  const file = join(tmp.path, "does-not-exist.key");
  const error = await storeKeyError(loadStoreKey(undefined, file));
  ok(error.message.includes(file), error.message);
  ok(error.message.includes("matrix.store_key_file"), error.message);
});

Deno.test("loadStoreKey of a directory throws a StoreKeyError", async () => {
  await using tmp = tempDir();
  await rejects(loadStoreKey(undefined, tmp.path), StoreKeyError);
});
