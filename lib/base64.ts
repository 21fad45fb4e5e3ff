/**
 * Base64 helpers on the built-in `Uint8Array.fromBase64` / `toBase64`
 * (the standard library is not reachable from here).
 *
 * @module
 */

type Base64Uint8Array = typeof Uint8Array & {
  fromBase64(text: string, options?: { alphabet?: "base64" | "base64url" }): Uint8Array;
};
type Base64Bytes = Uint8Array & {
  toBase64(options?: { alphabet?: "base64" | "base64url"; omitPadding?: boolean }): string;
};

/** Decodes standard or URL-safe base64 (whitespace and missing padding tolerated). */
export function decodeBase64(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, "");
  const alphabet = /[-_]/.test(clean) ? "base64url" : "base64";
  return (Uint8Array as Base64Uint8Array).fromBase64(clean, { alphabet });
}

/** Encodes bytes as base64; `url` gives the URL-safe alphabet without padding. */
export function encodeBase64(bytes: Uint8Array, url = false): string {
  return (bytes as Base64Bytes).toBase64(
    url ? { alphabet: "base64url", omitPadding: true } : undefined,
  );
}
