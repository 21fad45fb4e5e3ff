/**
 * Messages that cannot be decrypted (decision 42): the wait for their keys
 * (retried, the key backup asked), then a request for the key to the
 * sender's devices and a notice to the sender — at most once per user per
 * room per hour (`lib/undecryptable.ts` decides and words it).
 *
 * The key request is sent by hand: matrix-js-sdk turns the Rust crypto's own
 * room key requests off (`olmMachine.roomKeyRequestsEnabled = false`), and
 * those would only go to the bot's own devices anyway. A client that honours
 * the request shares the key again; the SDK's Rust crypto takes an
 * `m.room_key` over Olm from the sender's device as any other.
 *
 * @module
 */
import * as sdk from "matrix-js-sdk";
import { eventAgeMs } from "./catch_up.ts";
import { getLogger } from "./log.ts";
import { lateAnswerSeconds, NoticeLimiter, undecryptableNotice } from "./undecryptable.ts";

const log = getLogger("matrix");

/** How often an event still waiting for its keys is tried again. */
const DECRYPT_RETRY_MS = 10_000;

/** How often the wait for keys looks at the clock (notice due, too old). */
const DECRYPT_TICK_MS = 1_000;

/** How a wait for an event's keys ended. */
export type Decrypted = "ok" | "stopped" | "expired";

/** Options for {@link decryptWaiting}. */
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
export async function decryptWaiting(
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

/** What the notice needs of the transport. */
export interface UndecryptableWiring {
  /** Sends the notice into the room. */
  send(
    room: string,
    message: { body: string; txnId?: string; threadId?: string },
  ): Promise<unknown>;
  /** The sender's name in the room. */
  displayName(room: string, userId: string): Promise<string>;
}

/** Handles messages that stayed undecryptable. */
export class UndecryptableNotices {
  readonly #client: sdk.MatrixClient;
  readonly #wiring: UndecryptableWiring;
  readonly #limiter = new NoticeLimiter();

  /** Notices through `wiring`, key requests through `client`. */
  constructor(client: sdk.MatrixClient, wiring: UndecryptableWiring) {
    this.#client = client;
    this.#wiring = wiring;
  }

  /** Requests the key and tells the sender, when not told within the hour. */
  handle(event: sdk.MatrixEvent, roomId: string): void {
    const sender = event.getSender();
    if (!sender) return;
    log.warn(
      `Still cannot decrypt ${event.getId()} from ${sender} in ${roomId} (${event.decryptionFailureReason}); asking for its key`,
    );
    void this.#requestKey(event, roomId, sender);
    if (!this.#limiter.take(roomId, sender, Date.now())) return;
    void this.#notify(event, roomId, sender);
  }

  async #notify(event: sdk.MatrixEvent, roomId: string, sender: string): Promise<void> {
    try {
      const name = await this.#wiring.displayName(roomId, sender);
      const relates = event.getWireContent()["m.relates_to"] as
        | { rel_type?: string; event_id?: string }
        | undefined;
      await this.#wiring.send(roomId, {
        body: undecryptableNotice(name),
        txnId: `utd-${event.getId()}`,
        threadId: relates?.rel_type === "m.thread" ? relates.event_id : undefined,
      });
    } catch (error) {
      log.warn(`Could not tell ${sender} in ${roomId}: ${(error as Error).message}`);
    }
  }

  async #requestKey(event: sdk.MatrixEvent, roomId: string, sender: string): Promise<void> {
    const wire = event.getWireContent();
    if (typeof wire.session_id !== "string") return;
    const content = {
      action: "request",
      body: {
        algorithm: wire.algorithm,
        room_id: roomId,
        session_id: wire.session_id,
        ...(typeof wire.sender_key === "string" ? { sender_key: wire.sender_key } : {}),
      },
      request_id: crypto.randomUUID().replaceAll("-", ""),
      requesting_device_id: this.#client.getDeviceId(),
    };
    try {
      await this.#client.sendToDevice(
        "m.room_key_request",
        new Map([[sender, new Map([["*", content]])]]),
      );
    } catch (error) {
      log.debug(`Could not request the key of ${event.getId()}: ${(error as Error).message}`);
    }
  }
}
