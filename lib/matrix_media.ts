/**
 * Attachments from Matrix (decision 34): the image or file of the event a
 * message replies to (decrypted when the room is encrypted), and an
 * attachment's bytes through authenticated media
 * (`/_matrix/client/v1/media/download/…`), size-capped while reading, then
 * hash-checked and decrypted when it was encrypted.
 *
 * @module
 */
import * as sdk from "matrix-js-sdk";
import { decryptAttachment, type EncryptedFileInfo, mediaOf } from "./attachments.ts";
import { MediaError } from "./chat_port.ts";
import type { Attachment, MediaRef } from "./content.ts";
import { getLogger } from "./log.ts";

const log = getLogger("matrix");

/** How long one download may take. */
const DOWNLOAD_TIMEOUT_MS = 60_000;

/** The authenticated-media download path of an `mxc://server/id` URI, or undefined. */
export function downloadPath(mxc: string): string | undefined {
  const match = /^mxc:\/\/([^/?#]+)\/([A-Za-z0-9_-]+)$/.exec(mxc);
  if (!match) return undefined;
  return `/_matrix/client/v1/media/download/${encodeURIComponent(match[1])}/${match[2]}`;
}

/** Reads a body, throwing {@link MediaError} (too large) past `maxBytes`. */
async function readCapped(response: Response, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(response.headers.get("content-length") ?? NaN);
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw new MediaError("too large", { tooLarge: true });
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of response.body ?? []) {
    total += chunk.length;
    if (total > maxBytes) throw new MediaError("too large", { tooLarge: true });
    chunks.push(chunk);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** Media of the bot's Matrix client. */
export class MatrixMedia {
  readonly #client: sdk.MatrixClient;
  readonly #fetch: typeof fetch;

  /** Media through `client`'s homeserver and access token. */
  constructor(client: sdk.MatrixClient, fetcher: typeof fetch = fetch) {
    this.#client = client;
    this.#fetch = fetcher;
  }

  /** The attachment of event `eventId` in `room`, when it is an `m.image` or `m.file`. */
  async attachmentOf(room: string, eventId: string): Promise<Attachment | undefined> {
    const client = this.#client;
    let event = client.getRoom(room)?.findEventById(eventId);
    if (!event) {
      try {
        event = new sdk.MatrixEvent(await client.fetchRoomEvent(room, eventId));
      } catch (error) {
        log.info(`Could not fetch ${eventId} in ${room}: ${(error as Error).message}`);
        return undefined;
      }
    }
    if (event.isEncrypted()) await client.decryptEventIfNeeded(event);
    if (event.getType() !== "m.room.message") return undefined;
    return mediaOf(event.getContent())?.attachment;
  }

  /** The bytes of `ref`: downloaded (authenticated), decrypted and hash-checked when encrypted. */
  async download(ref: MediaRef, maxBytes: number): Promise<Uint8Array> {
    const path = downloadPath(ref.url);
    if (!path) throw new MediaError("not a Matrix media URI");
    const url = this.#client.getHomeserverUrl().replace(/\/+$/, "") + path;
    let response: Response;
    try {
      response = await this.#fetch(url, {
        headers: { Authorization: `Bearer ${this.#client.getAccessToken() ?? ""}` },
        signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS),
      });
    } catch (error) {
      throw new MediaError("the homeserver could not be reached", { cause: error });
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new MediaError(`the homeserver answered HTTP ${response.status}`);
    }
    // AES-CTR keeps the length, so the cap on the ciphertext is the cap on the file.
    const data = await readCapped(response, maxBytes);
    if (!ref.file) return data;
    try {
      return await decryptAttachment(data, ref.file as unknown as EncryptedFileInfo);
    } catch (error) {
      const mismatch = (error as Error).message.includes("hash");
      throw new MediaError(mismatch ? "its hash does not match" : "it could not be decrypted", {
        cause: error,
      });
    }
  }
}
