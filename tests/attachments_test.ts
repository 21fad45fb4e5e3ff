import { deepStrictEqual, match, ok, rejects, strictEqual } from "node:assert/strict";
import { deflateSync } from "node:zlib";
import { decryptAttachment, encryptAttachment, imageSize } from "../lib/attachments.ts";
import { decodeBase64, encodeBase64 } from "../lib/base64.ts";

function pattern(n: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = 12345;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

for (const size of [0, 1, 15, 16, 17, 4096, 1024 * 1024]) {
  Deno.test(`encryptAttachment → decryptAttachment round-trips ${size} bytes`, async () => {
    const plain = pattern(size);
    const { data, info } = await encryptAttachment(plain);
    strictEqual(data.length, size, "AES-CTR keeps the length");
    if (size >= 16) ok(!deepStrictEqualBool(data, plain), "the upload is not the plaintext");
    deepStrictEqual(await decryptAttachment(data, info), plain);
  });
}

function deepStrictEqualBool(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

Deno.test("encryptAttachment's file info has the shape of the spec's EncryptedFile", async () => {
  const { data, info } = await encryptAttachment(pattern(1000));
  deepStrictEqual(Object.keys(info).sort(), ["hashes", "iv", "key", "v"]);
  strictEqual(info.v, "v2");
  strictEqual(info.key.kty, "oct");
  strictEqual(info.key.alg, "A256CTR");
  deepStrictEqual(info.key.key_ops, ["encrypt", "decrypt"]);
  strictEqual(info.key.ext, true);
  match(info.key.k, /^[A-Za-z0-9_-]{43}$/, "k is unpadded base64url of 32 bytes");
  strictEqual(decodeBase64(info.key.k).length, 32);

  match(info.iv, /^[A-Za-z0-9+/]{22}$/, "iv is unpadded base64 of 16 bytes");
  const iv = decodeBase64(info.iv);
  strictEqual(iv.length, 16);
  deepStrictEqual([...iv.subarray(8)], [0, 0, 0, 0, 0, 0, 0, 0], "the counter half starts at 0");

  match(info.hashes.sha256, /^[A-Za-z0-9+/]{43}$/, "sha256 is unpadded base64");
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data as BufferSource));
  strictEqual(info.hashes.sha256, encodeBase64(digest).replace(/=+$/, ""), "hash of the upload");
  deepStrictEqual(Object.keys(info.hashes), ["sha256"]);
});

Deno.test("encryptAttachment's output decrypts with plain WebCrypto as other clients do", async () => {
  const plain = pattern(70_000);
  const { data, info } = await encryptAttachment(plain);
  const key = await crypto.subtle.importKey(
    "jwk",
    { kty: "oct", k: info.key.k, alg: "A256CTR", ext: true, key_ops: ["encrypt", "decrypt"] },
    "AES-CTR",
    false,
    ["decrypt"],
  );
  const out = await crypto.subtle.decrypt(
    { name: "AES-CTR", counter: decodeBase64(info.iv) as BufferSource, length: 64 },
    key,
    data as BufferSource,
  );
  deepStrictEqual(new Uint8Array(out), plain);
});

Deno.test("encryptAttachment uses a new key and iv every time", async () => {
  const plain = pattern(64);
  const a = await encryptAttachment(plain);
  const b = await encryptAttachment(plain);
  ok(a.info.key.k !== b.info.key.k);
  ok(a.info.iv !== b.info.iv);
  ok(!deepStrictEqualBool(a.data, b.data));
});

Deno.test("decryptAttachment rejects a tampered ciphertext by its hash", async () => {
  const { data, info } = await encryptAttachment(pattern(256));
  const tampered = data.slice();
  tampered[100] ^= 1;
  await rejects(decryptAttachment(tampered, info), /hash mismatch/);
  await rejects(decryptAttachment(data.subarray(0, 255), info), /hash mismatch/);
});

Deno.test("decryptAttachment accepts a padded hash and iv as some clients send", async () => {
  const plain = pattern(33);
  const { data, info } = await encryptAttachment(plain);
  const padded = {
    ...info,
    iv: info.iv + "==",
    hashes: { sha256: info.hashes.sha256 + "=" },
  };
  deepStrictEqual(await decryptAttachment(data, padded), plain);
});

// ---- imageSize ----

function crc32(bytes: Uint8Array): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function concat(...chunks: ArrayLike<number>[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

const ascii = (s: string) => new TextEncoder().encode(s);
const u16be = (n: number) => [n >> 8, n & 0xff];
const u16le = (n: number) => [n & 0xff, n >> 8];
const u32be = (n: number) => [n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
const u32le = (n: number) => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24];

/** A complete, valid RGB PNG (real zlib data and CRCs). */
function png(w: number, h: number): Uint8Array {
  const chunk = (type: string, data: Uint8Array) => {
    const body = concat(ascii(type), data);
    return concat(u32be(data.length), body, u32be(crc32(body)));
  };
  const raw = new Uint8Array(h * (1 + w * 3)); // filter byte 0 + black pixels per row
  return concat(
    [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
    chunk("IHDR", concat(u32be(w), u32be(h), [8, 2, 0, 0, 0])),
    chunk("IDAT", new Uint8Array(deflateSync(raw))),
    chunk("IEND", new Uint8Array()),
  );
}

/** A complete 1-colour GIF89a. */
function gif(w: number, h: number): Uint8Array {
  return concat(
    ascii("GIF89a"),
    u16le(w),
    u16le(h),
    [0x80, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff], // global colour table of 2
    [0x2c, 0, 0, 0, 0, ...u16le(w), ...u16le(h), 0], // image descriptor
    [0x02, 0x02, 0x44, 0x01, 0x00], // LZW data
    [0x3b],
  );
}

/** A JPEG header: SOI, APP0 (JFIF), DQT, DHT, then SOFn, SOS, EOI. */
function jpeg(w: number, h: number, sof: number): Uint8Array {
  const segment = (
    marker: number,
    data: number[],
  ) => [0xff, marker, ...u16be(data.length + 2), ...data];
  return concat(
    [0xff, 0xd8],
    segment(0xe0, [...ascii("JFIF\0"), 1, 1, 0, 0, 1, 0, 1, 0, 0]),
    segment(0xdb, [0, ...new Array(64).fill(1)]),
    segment(0xc4, [0x00, 1, ...new Array(15).fill(0), 0]),
    segment(sof, [8, ...u16be(h), ...u16be(w), 1, 1, 0x11, 0]),
    segment(0xda, [1, 1, 0, 0, 63, 0]),
    [0x00, 0xff, 0xd9],
  );
}

function webp(chunk: string, payload: number[]): Uint8Array {
  const body = concat(ascii("WEBP"), ascii(chunk), u32le(payload.length), payload);
  return concat(ascii("RIFF"), u32le(body.length), body);
}

/** A lossy WebP: VP8 key frame header with the 14-bit sizes. */
function webpVp8(w: number, h: number): Uint8Array {
  return webp("VP8 ", [
    0x30,
    0x01,
    0x00,
    0x9d,
    0x01,
    0x2a,
    ...u16le(w),
    ...u16le(h),
    ...new Array(10).fill(0),
  ]);
}

/** A lossless WebP: signature 0x2f, then width-1 and height-1 in 14 bits each. */
function webpVp8l(w: number, h: number): Uint8Array {
  const bits = ((w - 1) & 0x3fff) | (((h - 1) & 0x3fff) << 14);
  return webp("VP8L", [0x2f, ...u32le(bits), ...new Array(10).fill(0)]);
}

/** An extended WebP: VP8X with 24-bit canvas width-1 and height-1. */
function webpVp8x(w: number, h: number): Uint8Array {
  const u24 = (n: number) => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff];
  return webp("VP8X", [0x10, 0, 0, 0, ...u24(w - 1), ...u24(h - 1)]);
}

// Real 1×1 files as other tools write them.
const PNG_1X1 =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
const GIF_1X1 = "R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7";

const imageCases: Array<[string, Uint8Array, { w: number; h: number }]> = [
  ["PNG 1×1 (real file)", decodeBase64(PNG_1X1), { w: 1, h: 1 }],
  ["PNG 640×480", png(640, 480), { w: 640, h: 480 }],
  ["PNG 3×70000", png(3, 70000), { w: 3, h: 70000 }],
  ["GIF 1×1 (real file)", decodeBase64(GIF_1X1), { w: 1, h: 1 }],
  ["GIF 300×2", gif(300, 2), { w: 300, h: 2 }],
  ["JPEG baseline (SOF0) 1920×1080", jpeg(1920, 1080, 0xc0), { w: 1920, h: 1080 }],
  ["JPEG extended (SOF1) 17×9", jpeg(17, 9, 0xc1), { w: 17, h: 9 }],
  ["JPEG progressive (SOF2) 800×601", jpeg(800, 601, 0xc2), { w: 800, h: 601 }],
  ["WebP VP8 (lossy) 550×368", webpVp8(550, 368), { w: 550, h: 368 }],
  ["WebP VP8 with scale bits set", webpVp8(550 | 0x4000, 368 | 0x8000), { w: 550, h: 368 }],
  ["WebP VP8L (lossless) 386×395", webpVp8l(386, 395), { w: 386, h: 395 }],
  ["WebP VP8L 16384×16384", webpVp8l(16384, 16384), { w: 16384, h: 16384 }],
  ["WebP VP8X (extended) 1000×2000", webpVp8x(1000, 2000), { w: 1000, h: 2000 }],
  ["WebP VP8X 16777216×1", webpVp8x(16777216, 1), { w: 16777216, h: 1 }],
];

for (const [name, bytes, size] of imageCases) {
  Deno.test(`imageSize reads ${name}`, () => {
    deepStrictEqual(imageSize(bytes), size);
  });
}

Deno.test("imageSize reads an image inside a larger buffer (subarray offset)", () => {
  const image = png(12, 34);
  const big = new Uint8Array(image.length + 7);
  big.set(image, 7);
  deepStrictEqual(imageSize(big.subarray(7)), { w: 12, h: 34 });
  deepStrictEqual(imageSize(big.subarray(7, 7 + 24)), { w: 12, h: 34 }, "the header is enough");
});

const garbage: Array<[string, Uint8Array]> = [
  ["empty", new Uint8Array()],
  ["one byte", new Uint8Array([0x89])],
  ["random bytes", pattern(500)],
  ["text", ascii("<html><body>not an image</body></html>")],
  ["PNG signature only", png(5, 5).subarray(0, 16)],
  ["GIF magic only", ascii("GIF89a")],
  ["JPEG SOI only", new Uint8Array([0xff, 0xd8])],
  ["JPEG cut before SOF", jpeg(10, 10, 0xc0).subarray(0, 100)],
  ["JPEG cut inside SOF", jpeg(10, 10, 0xc2).subarray(0, 118)],
  [
    "JPEG with a segment length past the end",
    new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0xff, 0xff, 0, 0, 0, 0, 0, 0]),
  ],
  ["JPEG of 0xff only", new Uint8Array(64).fill(0xff).map((v, i) => (i === 1 ? 0xd8 : v))],
  [
    "JPEG with zero segment lengths",
    new Uint8Array([
      0xff,
      0xd8,
      ...new Array(40).fill(0).map((_, i) => (i % 4 === 0 ? 0xff : i % 4 === 1 ? 0xe1 : 0)),
    ]),
  ],
  [
    "JPEG ending at EOI without SOF",
    new Uint8Array([0xff, 0xd8, 0xff, 0xd9, ...new Array(20).fill(0)]),
  ],
  ["RIFF WAVE", concat(ascii("RIFF"), u32le(30), ascii("WAVEfmt "), new Array(30).fill(0))],
  ["WebP of an unknown chunk", webp("ABCD", new Array(20).fill(0))],
  ["WebP truncated in the header", webpVp8(10, 10).subarray(0, 28)],
];

for (const [name, bytes] of garbage) {
  Deno.test(`imageSize gives undefined for ${name} without throwing`, () => {
    strictEqual(imageSize(bytes), undefined);
  });
}

Deno.test("imageSize never throws on any truncation of a real image", () => {
  for (const image of [png(7, 9), gif(7, 9), jpeg(7, 9, 0xc0), jpeg(7, 9, 0xc2), webpVp8x(7, 9)]) {
    for (let n = 0; n <= image.length; n++) {
      const size = imageSize(image.subarray(0, n));
      if (size !== undefined) deepStrictEqual(size, { w: 7, h: 9 }, `truncated at ${n}`);
    }
  }
});
