/**
 * Images made by tools: recognise their type from the bytes, save them in
 * the images directory under names that never collide, and read back only
 * files that live inside that directory (decision 13).
 *
 * @module
 */
import { basename, join, resolve, sep } from "node:path";
import { extensionOf, IMAGE_TYPES, sniffImageType } from "../image_type.ts";

/** An image a tool produced, handed to the chat port as bytes. */
export interface ToolImage {
  /** The file's content. */
  bytes: Uint8Array;
  /** Its type, e.g. `image/png`. */
  mimetype: string;
  /** Its file name. */
  name: string;
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
