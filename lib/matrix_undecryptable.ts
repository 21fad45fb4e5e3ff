/**
 * A message that stayed undecryptable (decision 42; the wait is in
 * `matrix_decrypt.ts`): a request for its key to the sender's devices and a
 * notice to the sender — at most once per user per room per hour
 * (`lib/undecryptable.ts` decides and words it).
 *
 * The key request is sent by hand: matrix-js-sdk turns the Rust crypto's own
 * room key requests off (`olmMachine.roomKeyRequestsEnabled = false`), and
 * those would only go to the bot's own devices anyway. A client that honours
 * the request shares the key again; the SDK's Rust crypto takes an
 * `m.room_key` over Olm from the sender's device as any other.
 *
 * @module
 */
import type * as sdk from "matrix-js-sdk";
import { getLogger } from "./log.ts";
import { NoticeLimiter, undecryptableNotice } from "./undecryptable.ts";

const log = getLogger("matrix");

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
