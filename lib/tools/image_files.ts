/**
 * Images made by tools: recognise their type from the bytes, save them in
 * the images directory under names that never collide, and read back only
 * files that live inside that directory (decision 13).
 *
 * @module
 */
import { basename, join, resolve, sep } from "node:path";

/** An image a tool produced, handed to the chat port as bytes. */
export interface ToolImage {
  bytes: Uint8Array;
  mimetype: string;
  name: string;
}

/** Image types we post, by extension. */
export const IMAGE_TYPES: Readonly<Record<string, string>> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  webp: "image/webp",
  gif: "image/gif",
};

/** The mimetype from the first bytes (PNG, JPEG, GIF, WebP); `undefined` otherwise. */
export function sniffImageType(bytes: Uint8Array): string | undefined {
  const b = bytes;
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) {
    return "image/png";
  }
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return "image/jpeg";
  if (b.length >= 6 && b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x38) {
    return "image/gif";
  }
  if (
    b.length >= 12 && b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46 &&
    b[8] === 0x57 && b[9] === 0x45 && b[10] === 0x42 && b[11] === 0x50
  ) return "image/webp";
  return undefined;
}

/** The usual extension of an image mimetype. */
export function extensionOf(mimetype: string): string {
  return mimetype === "image/jpeg" ? "jpg" : mimetype.replace(/^image\//, "") || "png";
}

function stamp(now: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${
    p(now.getMinutes())
  }${p(now.getSeconds())}`;
}

/**
 * Writes image bytes into `dir` as `<prefix>_<timestamp>-<random>.<ext>`
 * (created exclusively, so two images never overwrite each other) and
 * returns the image for the chat port.
 */
export async function saveImage(
  dir: string,
  prefix: string,
  bytes: Uint8Array,
  now: Date = new Date(),
): Promise<ToolImage & { path: string }> {
  const mimetype = sniffImageType(bytes) ?? "image/png";
  await Deno.mkdir(dir, { recursive: true });
  for (;;) {
    const suffix = crypto.randomUUID().slice(0, 8);
    const name = `${prefix}_${stamp(now)}-${suffix}.${extensionOf(mimetype)}`;
    const path = join(dir, name);
    try {
      await Deno.writeFile(path, bytes, { createNew: true, mode: 0o644 });
      return { bytes, mimetype, name, path };
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    }
  }
}

/**
 * Reads an image a tool named by path, but only from inside `dir` (after
 * resolving symlinks) and only with a known image extension. Returns why
 * not otherwise.
 */
export async function readImageFrom(
  dir: string,
  path: string,
): Promise<{ image: ToolImage } | { refused: string }> {
  const ext = path.toLowerCase().split(".").pop() ?? "";
  const mimetype = IMAGE_TYPES[ext];
  if (!mimetype) return { refused: "not an image file name" };
  let real: string;
  let root: string;
  try {
    root = await Deno.realPath(dir);
    real = await Deno.realPath(resolve(dir, path));
  } catch {
    try {
      root = await Deno.realPath(dir);
      real = await Deno.realPath(resolve(path));
    } catch {
      return { refused: "no such file" };
    }
  }
  if (real !== root && !real.startsWith(root + sep)) {
    return { refused: "outside the images directory" };
  }
  const bytes = await Deno.readFile(real);
  return { image: { bytes, mimetype: sniffImageType(bytes) ?? mimetype, name: basename(real) } };
}
