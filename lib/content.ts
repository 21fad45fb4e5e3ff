/**
 * Messages with more than text (decision 34): the content parts a stored
 * message may hold (text, and references to images, never their bytes), the
 * parts of a request (images as `data:` URLs), and the pure rules between
 * them: which attachments become which parts, which images of a thread a
 * request carries, what a text view of a message is. A plain string stays a
 * valid content, so threads stored before images existed load unchanged.
 *
 * @module
 */
import { encodeBase64 } from "./base64.ts";

/** The encryption of an attachment (the `file` object of an encrypted event, without `url`). */
export interface MediaEncryption {
  /** The AES-256-CTR key as a JWK. */
  key: { k: string; [field: string]: unknown };
  /** The counter block, unpadded base64. */
  iv: string;
  /** `sha256` of the ciphertext, unpadded base64. */
  hashes: { sha256: string; [field: string]: string };
  /** Other fields (`v`) kept as received. */
  [field: string]: unknown;
}

/** Where an attachment lives: an `mxc://` URI (or a local `file://` URL on the console). */
export interface MediaRef {
  /** `mxc://server/id` or `file:///path`. */
  url: string;
  /** File name as the sender gave it. */
  name: string;
  /** MIME type as the sender gave it (may be empty). */
  mimetype: string;
  /** Size in bytes as the sender gave it, when given. */
  size?: number;
  /** Present when the attachment is encrypted. */
  file?: MediaEncryption;
}

/** An image or file a message brings (its caption, or the message it replies to). */
export interface Attachment {
  /** `m.image` or `m.file`. */
  kind: "image" | "file";
  /** Where it is. */
  ref: MediaRef;
}

/** A text part. */
export interface TextPart {
  /** The part's kind. */
  type: "text";
  /** The text. */
  text: string;
}

/** A stored image: a reference, resolved to its bytes for each request. */
export interface ImageRefPart {
  /** The part's kind. */
  type: "image";
  /** Where the image is. */
  image: MediaRef;
}

/** An image in a request, as OpenAI content parts carry it. */
export interface ImageUrlPart {
  /** The part's kind. */
  type: "image_url";
  /** The image as a `data:` URL. */
  image_url: { url: string };
}

/** One part of a message's content. */
export type ContentPart = TextPart | ImageRefPart | ImageUrlPart;

/** A message's content: plain text (as before images), or parts. */
export type Content = string | ContentPart[];

/** The text of a content: text parts joined, images as `[image: <name>]`. */
export function textOf(content: Content): string {
  if (typeof content === "string") return content;
  return content.map((part) => {
    if (part.type === "text") return part.text;
    if (part.type === "image") return `[image: ${part.image.name}]`;
    return "[image]";
  }).join("\n\n");
}

/** The image references in a content, in order. */
export function imagesOf(content: Content): MediaRef[] {
  if (typeof content === "string") return [];
  return content.flatMap((part) => part.type === "image" ? [part.image] : []);
}

/** A text file read for the model. */
export interface FileText {
  /** The file's name. */
  name: string;
  /** Its text. */
  text: string;
}

/**
 * A user message's content: the text alone when nothing is attached (so it
 * is stored as before), else the text part, then each file as a text part
 * `File <name>:\n<content>`, then the images.
 */
export function userContent(
  text: string,
  files: readonly FileText[] = [],
  images: readonly MediaRef[] = [],
): Content {
  if (!files.length && !images.length) return text;
  const parts: ContentPart[] = [];
  if (text) parts.push({ type: "text", text });
  for (const file of files) parts.push({ type: "text", text: `File ${file.name}:\n${file.text}` });
  for (const image of images) parts.push({ type: "image", image });
  return parts;
}

/** Anything with a content (a stored message, a request message). */
interface HasContent {
  content: Content;
}

/**
 * Messages with at most `max` images, the most recent ones (decision 34):
 * older images become the text part `[image: <name>]`. With `max` 0 (a
 * model without vision) every image does. Other messages are kept as they
 * are; the input is not changed.
 */
export function limitImages<M extends HasContent>(messages: readonly M[], max: number): M[] {
  let left = max;
  const out: M[] = [];
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (typeof m.content === "string" || !m.content.some((p) => p.type === "image")) {
      out.push(m);
      continue;
    }
    const parts = [...m.content];
    for (let j = parts.length - 1; j >= 0; j--) {
      const part = parts[j];
      if (part.type !== "image") continue;
      if (left > 0) left--;
      else parts[j] = { type: "text", text: `[image: ${part.image.name}]` };
    }
    out.push({ ...m, content: parts });
  }
  return out.reverse();
}

/** An image's bytes as a `data:` URL. */
export function dataUrl(mimetype: string, bytes: Uint8Array): string {
  return `data:${mimetype};base64,${encodeBase64(bytes)}`;
}

/**
 * Messages whose image references are replaced by `image_url` parts with the
 * bytes `load` gives (requests only; the thread keeps the references). An
 * image `load` fails on becomes the text `[image: <name>]`, told to `failed`.
 */
export async function resolveImages<M extends HasContent>(
  messages: readonly M[],
  load: (ref: MediaRef) => Promise<{ mimetype: string; bytes: Uint8Array }>,
  failed: (ref: MediaRef, error: Error) => void = () => {},
): Promise<M[]> {
  const out: M[] = [];
  for (const m of messages) {
    if (typeof m.content === "string") {
      out.push(m);
      continue;
    }
    const parts: ContentPart[] = [];
    for (const part of m.content) {
      if (part.type !== "image") {
        parts.push(part);
        continue;
      }
      try {
        const { mimetype, bytes } = await load(part.image);
        parts.push({ type: "image_url", image_url: { url: dataUrl(mimetype, bytes) } });
      } catch (error) {
        failed(part.image, error as Error);
        parts.push({ type: "text", text: `[image: ${part.image.name}]` });
      }
    }
    out.push({ ...m, content: parts });
  }
  return out;
}

const TEXT_MIME = new Set([
  "application/json",
  "application/ld+json",
  "application/xml",
  "application/javascript",
  "application/typescript",
  "application/x-sh",
  "application/x-python",
  "application/x-yaml",
  "application/yaml",
  "application/toml",
  "application/sql",
  "application/x-httpd-php",
]);

const TEXT_EXTENSIONS = new Set(
  ("txt md markdown rst csv tsv json jsonc ndjson yaml yml toml ini cfg conf env log xml html htm " +
    "css scss sass less js mjs cjs jsx ts tsx mts py rb go rs java kt kts scala c h cc cpp hpp cs " +
    "swift m mm php pl pm lua r jl sh bash zsh fish ps1 bat sql graphql proto tf nix dart ex exs " +
    "erl hs ml clj el vim gradle cmake makefile dockerfile diff patch tex bib srt vtt svg")
    .split(" "),
);

/**
 * True when a file is sent to the model as text (decision 34): `text/*`,
 * JSON and the other text types, or a common source or text extension when
 * the type says nothing more than `application/octet-stream`.
 */
export function isTextFile(mimetype: string, name: string): boolean {
  const mime = mimetype.toLowerCase().split(";")[0].trim();
  if (mime.startsWith("text/") || TEXT_MIME.has(mime)) return true;
  if (mime.endsWith("+json") || mime.endsWith("+xml")) return true;
  if (mime && mime !== "application/octet-stream") return false;
  const base = name.toLowerCase().split("/").at(-1) ?? "";
  const ext = base.includes(".") ? base.split(".").at(-1)! : base;
  return TEXT_EXTENSIONS.has(ext);
}

/** True when the image type is one vision models take. */
export function isImageType(mimetype: string): boolean {
  return /^image\/(png|jpeg|gif|webp)$/i.test(mimetype.split(";")[0].trim());
}
