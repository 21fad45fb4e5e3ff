/**
 * The one place that reaches into matrix-js-sdk's Rust crypto internals, for
 * SAS verification started the classic way (decision 31): a to-device
 * `m.key.verification.start` with no `m.key.verification.request` before it,
 * as matrix-nio and other older clients send.
 *
 * Why internals: matrix-sdk-crypto (0.19, in crypto-wasm 18.9) answers such a
 * start by creating a `Sas` with no `VerificationRequest`, and matrix-js-sdk 43
 * only emits `VerificationRequestReceived` for requests, so nothing public
 * ever shows that `Sas`. We take it from the `OlmMachine` (`getVerification`),
 * wrap it in the SDK's own `RustSASVerifier` (the same class the request flow
 * hands out as `request.verifier`), and let that send through the SDK's
 * `OutgoingRequestProcessor`. Assumptions, pinned by tests/matrix_classic_sas_test.ts:
 * `getCrypto()` has `olmMachine`, `outgoingRequestProcessor` and
 * `outgoingRequestsManager` with the methods used below. When they are gone
 * (an SDK update), {@link classicSasAdapter} says so once and classic starts
 * are left unanswered, as before; the request flow is unaffected.
 *
 * @module
 */
import type { MatrixClient } from "matrix-js-sdk";
import type { Verifier } from "matrix-js-sdk/lib/crypto-api/index.js";
import { RustSASVerifier } from "matrix-js-sdk/lib/rust-crypto/verification.js";
import {
  DeviceId,
  DeviceLists,
  type OlmMachine,
  type OutgoingVerificationRequest,
  Sas,
  UserId,
} from "@matrix-org/matrix-sdk-crypto-wasm";

/** A SAS flow started the classic way: its sender, their device and the flow id. */
export interface ClassicStart {
  /** Who started it. */
  userId: string;
  /** Their device. */
  deviceId: string;
  /** The flow's transaction id. */
  txnId: string;
}

/**
 * Recognises a to-device `m.key.verification.start` for emoji (`m.sas.v1`)
 * that another device sent to us. Whether a request came before it is the
 * crypto's to tell ({@link ClassicSasAdapter.open}). Pure.
 */
export function classicStart(
  message: { type?: unknown; sender?: unknown; content?: unknown },
  own: { userId: string; deviceId: string },
): ClassicStart | undefined {
  if (message.type !== "m.key.verification.start") return undefined;
  const content = message.content as Record<string, unknown> | undefined;
  const userId = message.sender;
  const deviceId = content?.from_device;
  const txnId = content?.transaction_id;
  if (typeof userId !== "string" || !userId) return undefined;
  if (typeof deviceId !== "string" || !deviceId) return undefined;
  if (typeof txnId !== "string" || !txnId) return undefined;
  if (content?.method !== "m.sas.v1") return undefined;
  if (userId === own.userId && deviceId === own.deviceId) return undefined;
  return { userId, deviceId, txnId };
}

/** A to-device event as the SDK hands it to `ClientEvent.ReceivedToDeviceMessage`. */
export interface ToDeviceMessage {
  /** The event type (`m.key.verification.start`). */
  type: string;
  /** The sending user. */
  sender: string;
  /** The event's content. */
  content: Record<string, unknown>;
}

/** A classic SAS flow the bot can answer. */
export interface ClassicSas {
  /** The SDK's verifier around the Rust `Sas`: `verify()` accepts and resolves when done. */
  readonly verifier: Verifier;
  /**
   * Cancels the flow in the Rust state and tells the other device why. The
   * reason is ours: Rust's cancel content only has a fixed text per code.
   */
  cancel(code: string, reason: string): Promise<void>;
}

/** What {@link ClassicSasAdapter.open} found for a start event. */
export type OpenResult =
  /** `fetched`: the device's keys had to be fetched first (see {@link ClassicSasAdapter.open}). */
  | { kind: "sas"; sas: ClassicSas; fetched: boolean }
  /** The start belongs to a request flow; `VerificationRequestReceived` covers it. */
  | { kind: "request" }
  /** Rust made no `Sas`: the device's keys could not be fetched, or Rust refused the start. */
  | { kind: "none"; why: string };

/** Access to classic SAS flows. */
export interface ClassicSasAdapter {
  /**
   * Finds the `Sas` Rust created for this start. Rust silently drops a start
   * from a device whose keys it has not fetched yet (a client that starts
   * right after joining, before the bot's next key query); then the keys are
   * fetched and the start is fed to Rust once more.
   */
  open(start: ToDeviceMessage, txnId: string, deviceId: string): Promise<OpenResult>;
}

/** The SDK internals used here (matrix-js-sdk 43 `RustCrypto`). */
interface Internals {
  olmMachine: OlmMachine;
  outgoingRequestProcessor: {
    makeOutgoingRequest(request: OutgoingVerificationRequest): Promise<void>;
  };
  outgoingRequestsManager: { doProcessOutgoingRequests(): Promise<void> };
}

/** How long to wait for the sender's device keys (the `/keys/query` round trip). */
const KEY_QUERY_WAIT_SECONDS = 10;

/**
 * Checks that `crypto` (from `client.getCrypto()`) still has the internals
 * this module relies on; returns what is missing, or undefined when all is there.
 */
export function missingInternals(crypto: unknown): string | undefined {
  const c = crypto as Partial<Record<keyof Internals, Record<string, unknown>>> | undefined;
  const wanted: Array<[keyof Internals, string[]]> = [
    ["olmMachine", [
      "getVerification",
      "getVerificationRequest",
      "getDevice",
      "updateTrackedUsers",
      "receiveSyncChangesMsc4186",
    ]],
    ["outgoingRequestProcessor", ["makeOutgoingRequest"]],
    ["outgoingRequestsManager", ["doProcessOutgoingRequests"]],
  ];
  for (const [field, methods] of wanted) {
    const target = c?.[field];
    if (!target) return `crypto.${field}`;
    for (const method of methods) {
      if (typeof target[method] !== "function") return `crypto.${field}.${method}()`;
    }
  }
  if (typeof RustSASVerifier !== "function") return "RustSASVerifier";
  return undefined;
}

/** A Rust `Sas` as a {@link ClassicSas}. */
function wrapSas(
  client: MatrixClient,
  processor: Internals["outgoingRequestProcessor"],
  sas: Sas,
  peer: { userId: string; deviceId: string },
): ClassicSas {
  return {
    // The SDK's own class: it sends the accept, shows the emojis (ShowSas)
    // and sends the MAC on confirm. It expects a request, which a classic
    // flow does not have; it never reads it.
    verifier: new RustSASVerifier(sas, undefined as never, processor as never),
    async cancel(code, reason) {
      // Cancel in Rust first so it does not keep the flow as ongoing (it
      // would cancel the user's next start together with it), then send our
      // own text instead of Rust's request.
      sas.cancelWithCode(code);
      const content = { transaction_id: sas.flowId, code, reason };
      await client.sendToDevice(
        "m.key.verification.cancel",
        new Map([[peer.userId, new Map([[peer.deviceId, content]])]]),
      );
    },
  };
}

/**
 * Fetches the keys of the sender's device, then hands the start to the
 * crypto again; false when the device's keys could not be had.
 */
async function fetchDeviceAndReplay(
  internals: Internals,
  start: ToDeviceMessage,
  deviceId: string,
): Promise<boolean> {
  const olm = internals.olmMachine;
  const userId = start.sender;
  // Track the user (a no-op when tracked) and mark their device list as
  // changed, so the next outgoing batch carries a /keys/query for them.
  await olm.updateTrackedUsers([new UserId(userId)]);
  await olm.receiveSyncChangesMsc4186("[]", new DeviceLists([new UserId(userId)]), new Map());
  void internals.outgoingRequestsManager.doProcessOutgoingRequests().catch(() => {});
  const device = await olm.getDevice(
    new UserId(userId),
    new DeviceId(deviceId),
    KEY_QUERY_WAIT_SECONDS,
  );
  if (!device) return false;
  device.free();
  // The MSC4186 variant: no one-time key counts means "unchanged".
  await olm.receiveSyncChangesMsc4186(JSON.stringify([start]), new DeviceLists(), new Map());
  return true;
}

/**
 * Builds the adapter for a client whose Rust crypto is initialised, or
 * returns why it cannot (an SDK whose internals changed).
 */
export function classicSasAdapter(client: MatrixClient): ClassicSasAdapter | string {
  const crypto = client.getCrypto();
  const missing = missingInternals(crypto);
  if (missing) {
    return `matrix-js-sdk internals changed (${missing} is missing)`;
  }
  const internals = crypto as unknown as Internals;
  const olm = internals.olmMachine;

  // wasm consumes the ids passed to it: build fresh ones for every call.
  const sasOf = (userId: string, txnId: string): Sas | undefined => {
    const found = olm.getVerification(new UserId(userId), txnId);
    return found instanceof Sas ? found : undefined;
  };

  return {
    async open(start, txnId, deviceId) {
      const userId = start.sender;
      if (olm.getVerificationRequest(new UserId(userId), txnId)) return { kind: "request" };
      let sas = sasOf(userId, txnId);
      const fetched = !sas;
      if (!sas) {
        if (!await fetchDeviceAndReplay(internals, start, deviceId)) {
          return { kind: "none", why: `the keys of device ${deviceId} could not be fetched` };
        }
        sas = sasOf(userId, txnId);
      }
      if (!sas) return { kind: "none", why: "the crypto refused the start" };
      const wrapped = wrapSas(client, internals.outgoingRequestProcessor, sas, {
        userId,
        deviceId,
      });
      return { kind: "sas", sas: wrapped, fetched };
    },
  };
}
