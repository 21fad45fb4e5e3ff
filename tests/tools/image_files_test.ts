import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { readImageFrom, saveImage } from "../../lib/tools/image_files.ts";
import { canSymlink } from "../fixtures/platform.ts";

const PNG = Uint8Array.fromBase64(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
);
const GIF = Uint8Array.fromBase64("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7");
const JPEG = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0, 1]);
const ascii = (s: string) => new TextEncoder().encode(s);
const WEBP = new Uint8Array([...ascii("RIFF"), 0x1a, 0, 0, 0, ...ascii("WEBPVP8L"), 0x0d, 0, 0]);

/** A fresh temp dir, removed at the end. */
async function tempDir(): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix: "image_files_test_" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

// --- saveImage ----------------------------------------------------------------

Deno.test("saveImage never overwrites: 20 images in the same second get 20 files", async () => {
  await using dir = await tempDir();
  const now = new Date(2025, 5, 7, 8, 9, 10);
  const saved = await Promise.all(
    Array.from({ length: 20 }, (_, i) => {
      const bytes = new Uint8Array([...PNG, i]);
      return saveImage(dir.path, "openai_image", bytes, now);
    }),
  );
  const names = new Set(saved.map((s) => s.name));
  strictEqual(names.size, 20);
  for (const [i, image] of saved.entries()) {
    match(image.name, /^openai_image_20250607-080910-[0-9a-f]{8}\.png$/);
    const onDisk = await Deno.readFile(image.path);
    strictEqual(onDisk.at(-1), i, `${image.name} holds its own bytes`);
  }
  let count = 0;
  for await (const _ of Deno.readDir(dir.path)) count++;
  strictEqual(count, 20);
});

Deno.test("saveImage writes files readable by everyone but writable only by the owner", {
  ignore: Deno.build.os === "windows",
}, async () => {
  await using dir = await tempDir();
  const saved = await saveImage(dir.path, "x", PNG);
  strictEqual((await Deno.stat(saved.path)).mode! & 0o777, 0o644);
});

const saveCases: Array<[string, Uint8Array, string, RegExp]> = [
  ["a PNG", PNG, "image/png", /\.png$/],
  ["a JPEG", JPEG, "image/jpeg", /\.jpg$/],
  ["a GIF", GIF, "image/gif", /\.gif$/],
  ["a WebP", WEBP, "image/webp", /\.webp$/],
];
for (const [what, bytes, mimetype, ext] of saveCases) {
  Deno.test(`saveImage names ${what} with its extension and reports ${mimetype}`, async () => {
    await using dir = await tempDir();
    const saved = await saveImage(dir.path, "gemini_image", bytes);
    strictEqual(saved.mimetype, mimetype);
    match(saved.name, ext);
    strictEqual(saved.path, join(dir.path, saved.name));
    deepStrictEqual(await Deno.readFile(saved.path), bytes);
  });
}

Deno.test("saveImage creates a missing images directory", async () => {
  await using dir = await tempDir();
  const nested = join(dir.path, "store", "images");
  const saved = await saveImage(nested, "grok_image", PNG);
  strictEqual(saved.path, join(nested, saved.name));
  ok((await Deno.stat(saved.path)).isFile);
});

// --- readImageFrom (decision 13) ----------------------------------------------

/** Windows makes symlinks only with a privilege the runner may lack. */
const NO_SYMLINKS = { ignore: !(await canSymlink()) };

interface Layout extends AsyncDisposable {
  root: string;
  images: string;
}

/** `<root>/images/dot.png`, `<root>/secret.png`, `<root>/images/notes.txt`. */
async function layout(): Promise<Layout> {
  const root = await Deno.makeTempDir({ prefix: "image_files_test_" });
  const images = join(root, "images");
  await Deno.mkdir(images);
  await Deno.writeFile(join(images, "dot.png"), PNG);
  await Deno.writeFile(join(images, "notes.txt"), ascii("hello"));
  await Deno.writeFile(join(root, "secret.png"), PNG);
  return { root, images, [Symbol.asyncDispose]: () => Deno.remove(root, { recursive: true }) };
}

Deno.test("readImageFrom reads an image inside the directory by its name", async () => {
  await using l = await layout();
  deepStrictEqual(await readImageFrom(l.images, "dot.png"), {
    image: { bytes: PNG, mimetype: "image/png", name: "dot.png" },
  });
});

Deno.test("readImageFrom reads an image inside the directory by its absolute path", async () => {
  await using l = await layout();
  const found = await readImageFrom(l.images, join(l.images, "dot.png"));
  ok("image" in found, JSON.stringify(found));
  strictEqual(found.image.name, "dot.png");
});

Deno.test("readImageFrom trusts the bytes over the extension for the mimetype", async () => {
  await using l = await layout();
  await Deno.writeFile(join(l.images, "photo.png"), JPEG);
  const found = await readImageFrom(l.images, "photo.png");
  ok("image" in found);
  strictEqual(found.image.mimetype, "image/jpeg");
});

Deno.test("readImageFrom refuses a ../ path that leaves the directory", async () => {
  await using l = await layout();
  deepStrictEqual(await readImageFrom(l.images, "../secret.png"), {
    refused: "outside the images directory",
  });
});

Deno.test("readImageFrom refuses an absolute path outside the directory", async () => {
  await using l = await layout();
  deepStrictEqual(await readImageFrom(l.images, join(l.root, "secret.png")), {
    refused: "outside the images directory",
  });
});

Deno.test(
  "readImageFrom refuses a symlink inside the directory that points outside",
  NO_SYMLINKS,
  async () => {
    await using l = await layout();
    await Deno.symlink(join(l.root, "secret.png"), join(l.images, "link.png"));
    deepStrictEqual(await readImageFrom(l.images, "link.png"), {
      refused: "outside the images directory",
    });
  },
);

Deno.test(
  "readImageFrom accepts a symlink inside the directory that points inside",
  NO_SYMLINKS,
  async () => {
    await using l = await layout();
    await Deno.symlink(join(l.images, "dot.png"), join(l.images, "alias.png"));
    const found = await readImageFrom(l.images, "alias.png");
    ok("image" in found, JSON.stringify(found));
    deepStrictEqual(found.image.bytes, PNG);
  },
);

Deno.test(
  "readImageFrom refuses a file reached through a directory symlink that leads outside",
  NO_SYMLINKS,
  async () => {
    await using l = await layout();
    // A link inside images/ to the root directory: images/up/secret.png is outside.
    await Deno.symlink(l.root, join(l.images, "up"));
    deepStrictEqual(await readImageFrom(l.images, "up/secret.png"), {
      refused: "outside the images directory",
    });
  },
);

const nonImageNames = ["notes.txt", "dot.png.txt", "archive.tar.gz", "noextension"];
for (const name of nonImageNames) {
  Deno.test(`readImageFrom refuses ${name} (not an image file name) even inside`, async () => {
    await using l = await layout();
    deepStrictEqual(await readImageFrom(l.images, name), { refused: "not an image file name" });
  });
}

Deno.test("readImageFrom says so when the file does not exist", async () => {
  await using l = await layout();
  deepStrictEqual(await readImageFrom(l.images, "missing.png"), { refused: "no such file" });
});
