/**
 * Whether the store key opens the encryption store: the journal is
 * replayed into memory (never written back: its hooks are not installed)
 * and the Rust crypto store is opened with the key, which decrypts the
 * store's cipher with it.
 *
 * @module
 */
import { initAsync, StoreHandle } from "@matrix-org/matrix-sdk-crypto-wasm";
import { IdbJournal } from "./crypto_journal.ts";

/** The crypto store's prefix (`cryptoDatabasePrefix` in matrix_client.ts). */
const CRYPTO_STORE = "infinigpt";

/** `undefined` when `key` opens the store in `cryptoDbPath`; otherwise why not. */
export async function storeKeyOpens(
  cryptoDbPath: string,
  key: Uint8Array,
): Promise<string | undefined> {
  const journal = IdbJournal.open(cryptoDbPath);
  try {
    const restored = await journal.restore();
    if (restored.databases === 0) return undefined;
    await initAsync();
    const handle = await StoreHandle.openWithKey(CRYPTO_STORE, key);
    handle.free();
    return undefined;
  } catch (error) {
    return (error as Error).message ?? String(error);
  } finally {
    journal.close();
  }
}
