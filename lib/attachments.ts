/**
 * Media for Matrix: encrypted attachments (AES-256-CTR, SHA-256, as the
 * spec's `EncryptedFile`), image dimensions read from the file header, and
 * the attachment of an `m.image`/`m.file` event with its caption.
 *
 * @module
 */
import { decodeBase64, encodeBase64 } from "./base64.ts";
import type { Attachment, MediaEncryption, MediaRef } from "./content.ts";
import { sniffImageType } from "./image_type.ts";

/** The `file` object of an encrypted media event, without `url`. */
export interface EncryptedFileInfo {
  key: { kty: "oct"; key_ops: ["encrypt", "decrypt"]; alg: "A256CTR"; k: string; ext: true };
  iv: string;
  hashes: { sha256: string };
  v: "v2";
}

function unpadded(bytes: Uint8Array): string {
  return encodeBase64(bytes).replace(/=+$/, "");
}

/** Encrypts media for an encrypted room: the ciphertext to upload and the `file` info. */
export async function encryptAttachment(
  data: Uint8Array,
): Promise<{ data: Uint8Array; info: EncryptedFileInfo }> {
  const rawKey = crypto.getRandomValues(new Uint8Array(32));
  // 64-bit random nonce, 64-bit counter starting at zero (spec: the counter must not wrap).
  const iv = new Uint8Array(16);
  crypto.getRandomValues(iv.subarray(0, 8));
  const key = await crypto.subtle.importKey("raw", rawKey, "AES-CTR", true, ["encrypt"]);
  const cipher = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-CTR", counter: iv, length: 64 },
      key,
      data as BufferSource,
    ),
  );
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", cipher));
  return {
    data: cipher,
    info: {
      key: {
        kty: "oct",
        key_ops: ["encrypt", "decrypt"],
        alg: "A256CTR",
        k: encodeBase64(rawKey, true),
        ext: true,
      },
      iv: unpadded(iv),
      hashes: { sha256: unpadded(hash) },
      v: "v2",
    },
  };
}

/** Decrypts an encrypted attachment, checking its hash first. */
export async function decryptAttachment(
  data: Uint8Array,
  info: Pick<EncryptedFileInfo, "key" | "iv" | "hashes">,
): Promise<Uint8Array> {
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", data as BufferSource));
  if (unpadded(hash) !== info.hashes.sha256.replace(/=+$/, "")) {
    throw new Error("attachment hash mismatch");
  }
  const key = await crypto.subtle.importKey(
    "raw",
    decodeBase64(info.key.k) as BufferSource,
    "AES-CTR",
    false,
    [
      "decrypt",
    ],
  );
  return new Uint8Array(
    await crypto.subtle.decrypt(
      { name: "AES-CTR", counter: decodeBase64(info.iv) as BufferSource, length: 64 },
      key,
      data as BufferSource,
    ),
  );
}

/** Width and height of a PNG, JPEG, GIF or WebP image, when the header tells. */
export function imageSize(bytes: Uint8Array): { w: number; h: number } | undefined {
  const b = bytes;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  switch (sniffImageType(b)) {
    case "image/png":
      // The IHDR chunk comes first and holds the size.
      if (b.length >= 24 && b[12] === 0x49 && b[13] === 0x48) {
        return { w: view.getUint32(16), h: view.getUint32(20) };
      }
      return undefined;
    case "image/gif":
      return b.length >= 10
        ? { w: view.getUint16(6, true), h: view.getUint16(8, true) }
        : undefined;
    case "image/webp":
      return webpSize(b, view);
    case "image/jpeg":
      return jpegSize(b, view);
    default:
      return undefined;
  }
}

function webpSize(b: Uint8Array, view: DataView): { w: number; h: number } | undefined {
  if (b.length < 30) return undefined;
  const chunk = String.fromCharCode(b[12], b[13], b[14], b[15]);
  if (chunk === "VP8 ") {
    return { w: view.getUint16(26, true) & 0x3fff, h: view.getUint16(28, true) & 0x3fff };
  }
  if (chunk === "VP8L") {
    const bits = view.getUint32(21, true);
    return { w: (bits & 0x3fff) + 1, h: ((bits >> 14) & 0x3fff) + 1 };
  }
  if (chunk === "VP8X") {
    const w = 1 + (b[24] | (b[25] << 8) | (b[26] << 16));
    const h = 1 + (b[27] | (b[28] << 8) | (b[29] << 16));
    return { w, h };
  }
  return undefined;
}

function jpegSize(b: Uint8Array, view: DataView): { w: number; h: number } | undefined {
  let i = 2;
  while (i + 9 < b.length) {
    if (b[i] !== 0xff) {
      i++;
      continue;
    }
    const marker = b[i + 1];
    const length = view.getUint16(i + 2);
    // SOF0..SOF15, except DHT (C4), JPG (C8) and DAC (CC), carry the size.
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
      return { h: view.getUint16(i + 5), w: view.getUint16(i + 7) };
    }
    if (marker === 0xd9 || marker === 0xda) break;
    i += 2 + length;
  }
  return undefined;
}

/** What an `m.image` or `m.file` event carries: the attachment, and its caption if any. */
export interface MediaEvent {
  /** The attachment. */
  attachment: Attachment;
  /**
   * The caption: `body` when the event has a `filename` that differs from
   * it (Matrix captions, spec v1.10); otherwise `body` is the file's name.
   */
  caption?: string;
}

function isEncryption(file: Record<string, unknown>): boolean {
  const key = file.key as { k?: unknown } | undefined;
  const hashes = file.hashes as { sha256?: unknown } | undefined;
  return typeof key?.k === "string" && typeof file.iv === "string" &&
    typeof hashes?.sha256 === "string";
}

/** The attachment of an `m.image`/`m.file` content, when it is well-formed. Pure. */
export function mediaOf(content: Record<string, unknown>): MediaEvent | undefined {
  const kind = content.msgtype === "m.image"
    ? "image"
    : content.msgtype === "m.file"
    ? "file"
    : undefined;
  if (!kind || typeof content.body !== "string") return undefined;
  const file = content.file && typeof content.file === "object"
    ? content.file as Record<string, unknown>
    : undefined;
  if (file && !isEncryption(file)) return undefined;
  const url = file ? file.url : content.url;
  if (typeof url !== "string" || !url.startsWith("mxc://")) return undefined;
  const info = content.info && typeof content.info === "object"
    ? content.info as { mimetype?: unknown; size?: unknown }
    : {};
  const filename = typeof content.filename === "string" && content.filename
    ? content.filename
    : undefined;
  const ref: MediaRef = {
    url,
    name: filename ?? content.body,
    mimetype: typeof info.mimetype === "string" ? info.mimetype : "",
  };
  if (typeof info.size === "number" && Number.isFinite(info.size)) ref.size = info.size;
  if (file) {
    const { url: _url, ...encryption } = file;
    ref.file = encryption as unknown as MediaEncryption;
  }
  const caption = filename !== undefined && content.body !== filename ? content.body : undefined;
  return { attachment: { kind, ref }, ...(caption !== undefined ? { caption } : {}) };
}
