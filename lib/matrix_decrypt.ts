/**
 * Decrypting an incoming event, waiting for its keys when they are not
 * there yet (another device shares them, a backup, a slow to-device
 * message).
 *
 * @module
 */
import * as sdk from "matrix-js-sdk";
import { getLogger } from "./log.ts";

const log = getLogger("matrix");

/** How often an event still waiting for its keys is tried again. */
const DECRYPT_RETRY_MS = 10_000;

/**
 * Resolves true once `event` is readable (at once for a plain event), false
 * when `signal` aborts first while waiting for its keys.
 */
export async function decrypted(
  client: sdk.MatrixClient,
  event: sdk.MatrixEvent,
  signal: AbortSignal,
): Promise<boolean> {
  if (!event.isEncrypted()) return true;
  await client.decryptEventIfNeeded(event);
  if (!event.isDecryptionFailure()) return true;
  // The SDK decrypts again when the keys arrive and emits Decrypted.
  log.info(`Waiting for the keys of ${event.getId()} from ${event.getSender()}`);
  return await new Promise<boolean>((resolve) => {
    const onDecrypted = () => {
      if (event.isDecryptionFailure()) return;
      cleanup();
      resolve(true);
    };
    const retry = setInterval(() => {
      if (signal.aborted) {
        cleanup();
        resolve(false);
        return;
      }
      // Events restored from the inbox are not in a timeline; retry them.
      client.decryptEventIfNeeded(event, { isRetry: true }).catch(() => {});
    }, DECRYPT_RETRY_MS);
    const cleanup = () => {
      clearInterval(retry);
      event.off(sdk.MatrixEventEvent.Decrypted, onDecrypted);
    };
    event.on(sdk.MatrixEventEvent.Decrypted, onDecrypted);
  });
}
