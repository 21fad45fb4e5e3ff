/**
 * The image types the bot handles (PNG, JPEG, GIF, WebP): told from the
 * first bytes of a file, from a file name's extension, and back to an
 * extension. The one place that knows their magic bytes.
 *
 * @module
 */

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
