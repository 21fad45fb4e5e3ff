/**
 * Decrypting an incoming event, waiting for its keys when they are not
 * there yet (another device shares them, the key backup, a slow to-device
 * message); after `matrix.decrypt_wait_seconds` the sender is told
 * (decision 42, `matrix_undecryptable.ts`), and an event too old to be
 * answered is no longer waited for.
 *
 * @module
 */
import * as sdk from "matrix-js-sdk";
import { eventAgeMs } from "./catch_up.ts";
import { getLogger } from "./log.ts";
import { lateAnswerSeconds } from "./undecryptable.ts";

const log = getLogger("matrix");

/** How often an event still waiting for its keys is tried again. */
const DECRYPT_RETRY_MS = 10_000;

/** How often the wait for keys looks at the clock (notice due, too old). */
const DECRYPT_TICK_MS = 1_000;

/** How a wait for an event's keys ended. */
export type Decrypted = "ok" | "stopped" | "expired";

/** Options for {@link decrypted}. */
export interface DecryptWaitOptions {
  /** `matrix.catch_up_seconds`. */
  catchUpSeconds: number;
  /** `matrix.decrypt_wait_seconds`. */
  decryptWaitSeconds: number;
  /** Aborted at the stop: the wait ends ("stopped"). */
  signal: AbortSignal;
  /** Called once, when the event stayed undecryptable for `decryptWaitSeconds`. */
  onUndecryptable(): void;
}

/**
 * Decrypts, waiting for late keys (another device shares them, the backup,
 * a slow to-device message: the SDK decrypts again and emits Decrypted).
 * After `decryptWaitSeconds` the sender is told (decision 42); an event
 * older than {@link lateAnswerSeconds} is no longer waited for ("expired").
 */
export async function decrypted(
  client: sdk.MatrixClient,
  event: sdk.MatrixEvent,
  options: DecryptWaitOptions,
): Promise<Decrypted> {
  if (!event.isEncrypted()) return "ok";
  await client.decryptEventIfNeeded(event);
  if (!event.isDecryptionFailure()) return "ok";
  log.info(`Waiting for the keys of ${event.getId()} from ${event.getSender()}`);
  const limitMs = lateAnswerSeconds(options.catchUpSeconds, options.decryptWaitSeconds) * 1000;
  const noticeAt = Date.now() + options.decryptWaitSeconds * 1000;
  let lastTry = Date.now();
  let told = false;
  return await new Promise((resolve) => {
    const done = (how: Decrypted) => {
      clearInterval(tick);
      event.off(sdk.MatrixEventEvent.Decrypted, onDecrypted);
      resolve(how);
    };
    const onDecrypted = () => {
      if (!event.isDecryptionFailure()) done("ok");
    };
    const tick = setInterval(() => {
      const now = Date.now();
      if (options.signal.aborted) return done("stopped");
      if ((eventAgeMs({ origin_server_ts: event.getTs() }, now, now) ?? 0) > limitMs) {
        return done("expired");
      }
      if (!told && now >= noticeAt) {
        told = true;
        options.onUndecryptable();
      } else if (now - lastTry < DECRYPT_RETRY_MS) return;
      lastTry = now;
      // Events restored from the inbox are not in a timeline; retry them
      // (a retry also asks the key backup for the missing session).
      client.decryptEventIfNeeded(event, { isRetry: true }).catch(() => {});
    }, DECRYPT_TICK_MS);
    event.on(sdk.MatrixEventEvent.Decrypted, onDecrypted);
  });
}
