/**
 * Pins what lib/matrix_classic_sas.ts assumes about matrix-js-sdk 43 and its Rust
 * crypto (decision 31), with the real crypto and no homeserver: the client's
 * HTTP goes to a fake `fetchFn` that records what the bot sends. If an SDK
 * update changes these internals, these tests fail before users notice.
 * The whole flow against matrix-nio and Synapse is
 * tests/e2e/journeys/verification_classic_test.ts.
 */
import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import { waitUntil } from "./fixtures/wait.ts";
import * as sdk from "matrix-js-sdk";
import {
  DeviceId,
  initAsync,
  KeysUploadRequest,
  OlmMachine,
  Sas,
  UserId,
} from "@matrix-org/matrix-sdk-crypto-wasm";
import {
  type ClassicSasAdapter,
  classicSasAdapter,
  missingInternals,
} from "../lib/matrix_classic_sas.ts";
import { setupVerification } from "../lib/matrix_verification.ts";
import { routeSdkLogs } from "../lib/matrix_client.ts";
import { CryptoEvent } from "matrix-js-sdk/lib/crypto-api/index.js";

routeSdkLogs(false);

const opts = { sanitizeOps: false, sanitizeResources: false };
const BOT = "@bot:example.org";
const BOT_DEVICE = "BOTDEVICE";
const PEER = "@peer:example.org";
const PEER_DEVICE = "PEERDEVICE";

interface Sent {
  method: string;
  path: string;
  body: Record<string, unknown> | undefined;
}

interface Harness {
  client: sdk.MatrixClient;
  sent: Sent[];
  /** Feeds to-device events through the crypto as a sync would, and emits them. */
  receive(events: object[]): Promise<void>;
  /** Makes the crypto fetch the peer's keys now (as for a member of an encrypted room). */
  trackPeer(): Promise<void>;
  /** The crypto's own SAS object for a flow with the peer. */
  rustSas(txnId: string): Sas | undefined;
  /** What the bot sent to the peer's device with this event type. */
  toPeer(type: string): Record<string, unknown>[];
  close(): void;
}

/** The peer's signed device keys, from a real Rust OlmMachine. */
async function peerDeviceKeys(): Promise<Record<string, unknown>> {
  await initAsync();
  const peer = await OlmMachine.initialize(new UserId(PEER), new DeviceId(PEER_DEVICE));
  const upload = (await peer.outgoingRequests()).find((r) => r instanceof KeysUploadRequest);
  ok(upload, "the peer wants to upload its keys");
  const keys = JSON.parse((upload as KeysUploadRequest).body).device_keys;
  peer.close();
  return keys;
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

/** A bot client with in-memory Rust crypto whose homeserver is a recording fake. */
async function harness(options: { peerKnownToServer?: boolean } = {}): Promise<Harness> {
  const keys = await peerDeviceKeys();
  const sent: Sent[] = [];
  const fetchFn = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const body = init?.body ? JSON.parse(String(init.body)) : undefined;
    sent.push({ method: init?.method ?? "GET", path: url.pathname, body });
    // Answer on a later task, as a network would: the SDK's request loops
    // would otherwise starve the timers.
    const later = (response: Response) =>
      new Promise<Response>((resolve) => setTimeout(() => resolve(response), 1));
    if (url.pathname.endsWith("/keys/query")) {
      const known = options.peerKnownToServer !== false;
      const users = Object.keys((body?.device_keys ?? {}) as Record<string, unknown>);
      return later(json({
        device_keys: Object.fromEntries(
          users.map((u) => [u, u === PEER && known ? { [PEER_DEVICE]: keys } : {}]),
        ),
        failures: {},
      }));
    }
    if (url.pathname.endsWith("/keys/upload")) {
      return later(json({ one_time_key_counts: { signed_curve25519: 50 } }));
    }
    if (url.pathname.includes("/sendToDevice/")) return later(json({}));
    return later(json({ errcode: "M_UNRECOGNIZED", error: "not in this fake" }, 404));
  };
  const client = sdk.createClient({
    baseUrl: "http://127.0.0.1:9",
    userId: BOT,
    deviceId: BOT_DEVICE,
    accessToken: "token",
    store: new sdk.MemoryStore(),
    fetchFn: fetchFn as typeof fetch,
    verificationMethods: ["m.sas.v1"],
  });
  await client.initRustCrypto({ useIndexedDB: false });
  // deno-lint-ignore no-explicit-any
  const crypto = client.getCrypto() as any;
  return {
    client,
    sent,
    async receive(events) {
      // What the sync does (SyncCryptoCallbacks.processSyncChanges, then the event).
      const received = await crypto.processSyncChanges({
        toDeviceEvents: events,
        deviceLists: {},
        oneTimeKeysCounts: { signed_curve25519: 50 },
        unusedFallbackKeys: ["signed_curve25519"],
      });
      for (const message of received) client.emit(sdk.ClientEvent.ReceivedToDeviceMessage, message);
    },
    async trackPeer() {
      await crypto.olmMachine.updateTrackedUsers([new UserId(PEER)]);
      await crypto.outgoingRequestsManager.doProcessOutgoingRequests();
      const device = await crypto.olmMachine.getDevice(
        new UserId(PEER),
        new DeviceId(PEER_DEVICE),
        5,
      );
      ok(device, "the crypto knows the peer's device");
    },
    rustSas(txnId) {
      const found = crypto.olmMachine.getVerification(new UserId(PEER), txnId);
      return found instanceof Sas ? found : undefined;
    },
    toPeer(type) {
      return sent
        .filter((s) => s.path.includes(`/sendToDevice/${type}/`))
        .map((s) => {
          const messages = s.body?.messages as Record<string, Record<string, unknown>>;
          return messages[PEER][PEER_DEVICE] as Record<string, unknown>;
        });
    },
    close: () => client.stopClient(),
  };
}

/** A classic start as matrix-nio sends it (no request before it). */
function start(txnId: string): { type: string; sender: string; content: Record<string, unknown> } {
  return {
    type: "m.key.verification.start",
    sender: PEER,
    content: {
      from_device: PEER_DEVICE,
      method: "m.sas.v1",
      transaction_id: txnId,
      key_agreement_protocols: ["curve25519-hkdf-sha256", "curve25519"],
      hashes: ["sha256"],
      message_authentication_codes: ["hkdf-hmac-sha256", "hmac-sha256"],
      short_authentication_string: ["emoji", "decimal"],
    },
  };
}

function adapterOf(client: sdk.MatrixClient): ClassicSasAdapter {
  const adapter = classicSasAdapter(client);
  if (typeof adapter === "string") throw new Error(adapter);
  return adapter;
}

Deno.test("missingInternals names what an SDK update took away", () => {
  strictEqual(missingInternals(undefined), "crypto.olmMachine");
  strictEqual(missingInternals({}), "crypto.olmMachine");
  const olmMachine = {
    getVerification() {},
    getVerificationRequest() {},
    getDevice() {},
    updateTrackedUsers() {},
    receiveSyncChangesMsc4186() {},
  };
  strictEqual(
    missingInternals({ olmMachine: { ...olmMachine, getVerification: undefined } }),
    "crypto.olmMachine.getVerification()",
  );
  strictEqual(missingInternals({ olmMachine }), "crypto.outgoingRequestProcessor");
  strictEqual(
    missingInternals({
      olmMachine,
      outgoingRequestProcessor: { makeOutgoingRequest() {} },
      outgoingRequestsManager: {},
    }),
    "crypto.outgoingRequestsManager.doProcessOutgoingRequests()",
  );
});

Deno.test("classicSasAdapter says why it cannot work on a client without crypto", () => {
  const client = sdk.createClient({ baseUrl: "http://127.0.0.1:9" });
  match(String(classicSasAdapter(client)), /^matrix-js-sdk internals changed \(crypto\.olmMachine/);
});

Deno.test({
  name:
    "matrix-js-sdk 43 with Rust crypto: a request-less start becomes a Sas the adapter finds, and the SDK's verifier sends the accept",
  ...opts,
  async fn() {
    const h = await harness();
    try {
      strictEqual(missingInternals(h.client.getCrypto()), undefined, "the internals are there");
      await h.trackPeer();
      const requestsSeen: unknown[] = [];
      h.client.on(CryptoEvent.VerificationRequestReceived, (r) => requestsSeen.push(r));
      await h.receive([start("txn-1")]);
      strictEqual(requestsSeen.length, 0, "the SDK itself shows nothing for it");
      const opened = await adapterOf(h.client).open(start("txn-1"), "txn-1", PEER_DEVICE);
      ok(opened.kind === "sas", `a Sas, not ${opened.kind}`);
      strictEqual(opened.fetched, false, "the device was known");
      const done = opened.sas.verifier.verify();
      const ended = done.then(() => "done", (e: Error) => e.message);
      await waitUntil("the accept", () => h.toPeer("m.key.verification.accept").length === 1);
      const accept = h.toPeer("m.key.verification.accept")[0];
      strictEqual(accept.transaction_id, "txn-1");
      strictEqual(accept.key_agreement_protocol, "curve25519-hkdf-sha256");
      strictEqual(accept.message_authentication_code, "hkdf-hmac-sha256");
      strictEqual(typeof accept.commitment, "string");

      await opened.sas.cancel("m.user", "Changed my mind");
      deepStrictEqual(h.toPeer("m.key.verification.cancel"), [
        { transaction_id: "txn-1", code: "m.user", reason: "Changed my mind" },
      ]);
      match(await ended, /cancelled by us with code m\.user/, "verify() ends when cancelled");
    } finally {
      h.close();
    }
  },
});

Deno.test({
  name:
    "a start from a device whose keys the crypto has not fetched yet is fed again once they are (Rust dropped it)",
  ...opts,
  async fn() {
    const h = await harness();
    try {
      await h.receive([start("txn-2")]);
      const opened = await adapterOf(h.client).open(start("txn-2"), "txn-2", PEER_DEVICE);
      ok(opened.kind === "sas", `a Sas, not ${opened.kind}`);
      strictEqual(opened.fetched, true);
      ok(
        h.sent.some((s) =>
          s.path.endsWith("/keys/query") &&
          PEER in (s.body?.device_keys as Record<string, unknown>)
        ),
        "the peer's keys were queried",
      );
    } finally {
      h.close();
    }
  },
});

Deno.test({
  name: "a start from a device the homeserver does not know either is reported, not answered",
  ...opts,
  async fn() {
    const h = await harness({ peerKnownToServer: false });
    try {
      await h.receive([start("txn-3")]);
      const opened = await adapterOf(h.client).open(start("txn-3"), "txn-3", PEER_DEVICE);
      deepStrictEqual(opened, {
        kind: "none",
        why: `the keys of device ${PEER_DEVICE} could not be fetched`,
      });
      deepStrictEqual(h.toPeer("m.key.verification.accept"), []);
    } finally {
      h.close();
    }
  },
});

Deno.test({
  name: "a start that follows a to-device request is left to the request flow",
  ...opts,
  async fn() {
    const h = await harness();
    try {
      await h.trackPeer();
      await h.receive([{
        type: "m.key.verification.request",
        sender: PEER,
        content: {
          from_device: PEER_DEVICE,
          methods: ["m.sas.v1"],
          transaction_id: "txn-4",
          timestamp: Date.now(),
        },
      }]);
      const opened = await adapterOf(h.client).open(start("txn-4"), "txn-4", PEER_DEVICE);
      strictEqual(opened.kind, "request");
    } finally {
      h.close();
    }
  },
});

/** setupVerification on the harness, with a persisted "seen" list. */
function verification(h: Harness, acceptFrom: "anyone" | "admins", seen = new Set<string>()) {
  return setupVerification({
    client: h.client,
    acceptFrom,
    admins: ["@admin:example.org"],
    startedAt: Date.now(),
    seen: (txn) => seen.has(txn),
    markSeen: (txn) => void seen.add(txn),
  });
}

Deno.test({
  name: "the bot accepts a classic start from someone accept_from allows, and marks it answered",
  ...opts,
  async fn() {
    const h = await harness();
    const seen = new Set<string>();
    const stop = verification(h, "anyone", seen);
    try {
      await h.trackPeer();
      await h.receive([start("txn-5")]);
      await new Promise((r) => setTimeout(r, 0));
      strictEqual(h.rustSas("txn-5")?.hasBeenAccepted(), true, "accepted at once");
      await waitUntil("the accept", () => h.toPeer("m.key.verification.accept").length === 1);
      ok(seen.has("txn-5"));
      deepStrictEqual(h.toPeer("m.key.verification.cancel"), []);
    } finally {
      stop();
      h.close();
    }
  },
});

Deno.test({
  name:
    'with accept_from "admins" a classic start from a non-admin is cancelled with the reason, never accepted',
  ...opts,
  async fn() {
    const h = await harness();
    const stop = verification(h, "admins");
    try {
      await h.trackPeer();
      await h.receive([start("txn-6")]);
      await waitUntil("the cancel", () => h.toPeer("m.key.verification.cancel").length === 1);
      deepStrictEqual(h.toPeer("m.key.verification.cancel"), [{
        transaction_id: "txn-6",
        code: "m.user",
        reason: "This bot accepts verification only from its admins",
      }]);
      deepStrictEqual(h.toPeer("m.key.verification.accept"), []);
    } finally {
      stop();
      h.close();
    }
  },
});

Deno.test({
  name: "a classic start the bot already answered (same transaction) is not answered again",
  ...opts,
  async fn() {
    const h = await harness();
    const stop = verification(h, "anyone", new Set(["txn-7"]));
    try {
      await h.trackPeer();
      await h.receive([start("txn-7")]);
      // Answering would call the crypto's accept() within microtasks of the
      // event (the device is known); after one macrotask it would have.
      await new Promise((r) => setTimeout(r, 0));
      strictEqual(h.rustSas("txn-7")?.hasBeenAccepted(), false, "not accepted");
      deepStrictEqual(h.toPeer("m.key.verification.accept"), []);
    } finally {
      stop();
      h.close();
    }
  },
});
