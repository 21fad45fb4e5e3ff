/**
 * Images and files in (decision 34), for the commands that ask the model:
 * the attachments of the message read and checked (vision, sizes, text
 * files), the user's content built from them, and the thread's images
 * resolved for a request (the most recent `llm.max_images`, the older ones
 * as `[image: <name>]`). The replies users see are in {@link MEDIA_MESSAGES}.
 *
 * @module
 */
import { MediaError } from "../chat_port.ts";
import {
  type Attachment,
  type Content,
  type FileText,
  isImageType,
  isTextFile,
  limitImages,
  type MediaRef,
  resolveImages,
  userContent,
} from "../content.ts";
import type { Message } from "../conversation.ts";
import { sniffImageType } from "../image_type.ts";
import { DEFAULT_VISION_MODELS, seesImages, visionModels } from "../vision.ts";
import type { Context, MediaSettings } from "./context.ts";

/** The defaults of the `llm` media keys. */
export const DEFAULT_MEDIA: MediaSettings = {
  visionModels: DEFAULT_VISION_MODELS,
  maxImages: 4,
  maxImageBytes: 10_000_000,
  maxFileBytes: 200_000,
};

/** What users read about their attachments. */
export const MEDIA_MESSAGES = {
  /** Decision 34's refusal for a model without vision. */
  noVision: (model: string, others: readonly string[]) =>
    others.length
      ? `${model} can't see images. Try .mymodel with one of: ${others.join(", ")}`
      : `${model} can't see images, and none of the configured models can.`,
  imageTooLarge: (name: string, limit: number) =>
    `The image ${name} is too large (the limit is ${amount(limit)}).`,
  fileTooLarge: (name: string, limit: number) =>
    `The file ${name} is too large (the limit is ${amount(limit)}).`,
  notText: (name: string) =>
    `I can only read text files and images; ${name} is neither (send it as text, or as an image).`,
  notImage: (name: string) => `${name} is not an image type I can send (PNG, JPEG, GIF or WebP).`,
  failed: (name: string, reason: string) => `Could not read ${name} (${reason}).`,
};

/** Bytes as people read them: `10 MB`, `200 kB`, `50 bytes`. */
function amount(n: number): string {
  if (n >= 1_000_000) return `${Math.round(n / 100_000) / 10} MB`;
  if (n >= 1_000) return `${Math.round(n / 100) / 10} kB`;
  return `${n} bytes`;
}

/** The message's attachments, read: the user's content, and the bytes of its images. */
export interface ReadAttachments {
  /** Files as text, in order. */
  files: FileText[];
  /** Image references, in order. */
  images: MediaRef[];
  /** Downloaded image bytes by URL (the request needs them right away). */
  loaded: Map<string, { mimetype: string; bytes: Uint8Array }>;
}

/** The media settings in effect. */
export function mediaOf(ctx: Pick<Context, "media">): MediaSettings {
  return ctx.media ?? DEFAULT_MEDIA;
}

/**
 * Reads the attachments of the message for `model`. Resolves a reply text
 * instead when they cannot go to the model (no vision, too large, not text,
 * not downloadable): then no request is made.
 */
export async function readAttachments(
  ctx: Context,
  model: string,
): Promise<ReadAttachments | string> {
  // An image sent as a file (m.file with an image type) is still an image.
  const attachments = ((await ctx.attachments?.()) ?? []).map((a): Attachment =>
    a.kind === "file" && isImageType(a.ref.mimetype) ? { ...a, kind: "image" } : a
  );
  const read: ReadAttachments = { files: [], images: [], loaded: new Map() };
  if (!attachments.length || !ctx.download) return read;
  const media = mediaOf(ctx);
  if (attachments.some((a) => a.kind === "image") && !seesImages(model, media.visionModels)) {
    return MEDIA_MESSAGES.noVision(model, visionModels(ctx.catalog.models, media.visionModels));
  }
  for (const attachment of attachments) {
    const problem = await readOne(ctx, attachment, media, read);
    if (problem) return problem;
  }
  return read;
}

async function readOne(
  ctx: Context,
  { kind, ref }: Attachment,
  media: MediaSettings,
  read: ReadAttachments,
): Promise<string | undefined> {
  const image = kind === "image";
  const limit = image ? media.maxImageBytes : media.maxFileBytes;
  const tooLarge = image ? MEDIA_MESSAGES.imageTooLarge : MEDIA_MESSAGES.fileTooLarge;
  if (!image && !isTextFile(ref.mimetype, ref.name)) return MEDIA_MESSAGES.notText(ref.name);
  if (ref.size !== undefined && ref.size > limit) return tooLarge(ref.name, limit);
  let bytes: Uint8Array;
  try {
    bytes = await ctx.download!(ref, limit);
  } catch (error) {
    if (error instanceof MediaError && error.tooLarge) return tooLarge(ref.name, limit);
    ctx.log.warn(`Could not download ${ref.url}: ${(error as Error).message}`);
    const reason = error instanceof MediaError ? error.reason : "the download failed";
    return MEDIA_MESSAGES.failed(ref.name, reason);
  }
  if (bytes.length > limit) return tooLarge(ref.name, limit);
  if (image) {
    const mimetype = sniffImageType(bytes) ?? ref.mimetype;
    if (!isImageType(mimetype)) return MEDIA_MESSAGES.notImage(ref.name);
    read.images.push(ref);
    read.loaded.set(ref.url, { mimetype, bytes });
  } else {
    read.files.push({ name: ref.name, text: new TextDecoder().decode(bytes) });
  }
  return undefined;
}

/** The user's content: the text with the files and images read. */
export function contentWith(text: string, read: ReadAttachments): Content {
  return userContent(text, read.files, read.images);
}

/**
 * The request's messages with their images: the most recent `llm.max_images`
 * (none for a model without vision) as `data:` URLs, older ones as text.
 * An older image that cannot be downloaded any more becomes text as well.
 */
export function withImages(
  ctx: Context,
  model: string,
  messages: readonly Message[],
  read: ReadAttachments,
): Promise<Message[]> {
  const media = mediaOf(ctx);
  const max = seesImages(model, media.visionModels) && ctx.download ? media.maxImages : 0;
  return resolveImages(limitImages(messages, max), async (ref) => {
    const cached = read.loaded.get(ref.url);
    if (cached) return cached;
    const bytes = await ctx.download!(ref, media.maxImageBytes);
    return { mimetype: sniffImageType(bytes) ?? ref.mimetype, bytes };
  }, (ref, error) => ctx.log.warn(`Image ${ref.url} left out: ${error.message}`));
}
