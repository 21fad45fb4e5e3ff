/**
 * The key that encrypts the crypto state at rest: 32 bytes from
 * `INFINIGPT_STORE_KEY` or `matrix.store_key_file`, as 64 hex characters,
 * base64, or a raw 32-byte file.
 *
 * @module
 */
import { decodeBase64 } from "./base64.ts";

/** Why a store key could not be used. */
export class StoreKeyError extends Error {}

/** Parses a key given as 64 hex characters or base64 of 32 bytes. */
export function parseStoreKey(text: string, source: string): Uint8Array {
  const value = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(value)) {
    return Uint8Array.from(value.match(/../g)!.map((h) => parseInt(h, 16)));
  }
  let bytes: Uint8Array | undefined;
  try {
    bytes = decodeBase64(value);
  } catch {
    bytes = undefined;
  }
  if (bytes?.length === 32) return bytes;
  throw new StoreKeyError(
    `The store key from ${source} must be 32 bytes: 64 hex characters or base64 (for example: openssl rand -hex 32)`,
  );
}

/**
 * Loads the store key: the environment value wins over the file. Returns
 * `undefined` when neither is set.
 */
export async function loadStoreKey(
  envValue: string | undefined,
  file: string | null | undefined,
): Promise<Uint8Array | undefined> {
  if (envValue) return parseStoreKey(envValue, "INFINIGPT_STORE_KEY");
  if (!file) return undefined;
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(file);
  } catch (error) {
    throw new StoreKeyError(
      `Cannot read matrix.store_key_file ${file}: ${(error as Error).message}`,
    );
  }
  if (bytes.length === 32) return bytes;
  return parseStoreKey(new TextDecoder().decode(bytes), `matrix.store_key_file ${file}`);
}
