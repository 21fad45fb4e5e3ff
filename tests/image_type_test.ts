import { strictEqual } from "node:assert/strict";
import { extensionOf, IMAGE_TYPES, sniffImageType } from "../lib/image_type.ts";

const PNG = Uint8Array.fromBase64(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
);
const GIF = Uint8Array.fromBase64("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7");
const JPEG = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0, 1]);
const ascii = (s: string) => new TextEncoder().encode(s);
const WEBP = new Uint8Array([...ascii("RIFF"), 0x1a, 0, 0, 0, ...ascii("WEBPVP8L"), 0x0d, 0, 0]);

// --- sniffImageType ---

const sniffCases: Array<[name: string, bytes: Uint8Array, want: string | undefined]> = [
  ["PNG magic bytes", PNG, "image/png"],
  ["JPEG magic bytes", JPEG, "image/jpeg"],
  ["GIF89a magic bytes", GIF, "image/gif"],
  ["GIF87a magic bytes", ascii("GIF87a\x01\x00"), "image/gif"],
  ["RIFF....WEBP magic bytes", WEBP, "image/webp"],
  ["a RIFF file that is WAVE audio", ascii("RIFF\x1a\x00\x00\x00WAVEfmt "), undefined],
  ["HTML text", ascii("<!doctype html><p>hi</p>"), undefined],
  ["a PNG signature cut to 4 bytes", PNG.slice(0, 4), undefined],
  ["JPEG missing its third marker byte", new Uint8Array([0xff, 0xd8, 0x00, 0xe0]), undefined],
  ["no bytes", new Uint8Array(), undefined],
];
for (const [name, bytes, want] of sniffCases) {
  Deno.test(`sniffImageType recognises ${name} as ${want ?? "no image"}`, () => {
    strictEqual(sniffImageType(bytes), want);
  });
}

const extensionCases: Array<[string, string]> = [
  ["image/png", "png"],
  ["image/jpeg", "jpg"],
  ["image/gif", "gif"],
  ["image/webp", "webp"],
];
for (const [mimetype, ext] of extensionCases) {
  Deno.test(`extensionOf gives .${ext} for ${mimetype}`, () => {
    strictEqual(extensionOf(mimetype), ext);
  });
}

const extensions: Array<[ext: string, mimetype: string | undefined]> = [
  ["png", "image/png"],
  ["jpg", "image/jpeg"],
  ["jpeg", "image/jpeg"],
  ["gif", "image/gif"],
  ["webp", "image/webp"],
  ["svg", undefined],
  ["txt", undefined],
];
for (const [ext, mimetype] of extensions) {
  Deno.test(`a .${ext} file name means ${mimetype ?? "no image type we post"}`, () => {
    strictEqual(IMAGE_TYPES[ext], mimetype);
  });
}
