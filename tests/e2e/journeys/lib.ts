/**
 * Small helpers shared by journey tests: what the homeserver holds for the
 * bot's account (secret storage, key backup, cross-signing), and a user
 * verifying the bot user with emoji.
 *
 * @module
 */
import { ok } from "node:assert/strict";
import {
  type ShowSasCallbacks,
  VerificationPhase,
  type VerificationRequest,
  VerifierEvent,
} from "matrix-js-sdk/lib/crypto-api/index.js";
import { type BotSetup, SYNAPSE_URL, type TestClient, waitFor } from "../helpers.ts";

/** The session the bot keeps in its store. */
export async function botSession(
  setup: BotSetup,
): Promise<{ device_id: string; access_token: string }> {
  return JSON.parse(await Deno.readTextFile(`${setup.storePath}/session.json`));
}

/** What the homeserver holds for the bot's encryption, as the bot's own session reads it. */
export interface AccountKeys {
  /** `m.secret_storage.default_key`'s key id (null: no secret storage). */
  secretStorageKey: string | null;
  /** The key backup version on the server (null: none). */
  backupVersion: string | null;
  /** How many room keys the backup holds. */
  backupCount: number;
  /** The bot user's master cross-signing key (public). */
  masterKey: string | null;
}

/** Reads {@link AccountKeys} with `token` (the bot's). */
export async function accountKeys(userId: string, token: string): Promise<AccountKeys> {
  const get = async (path: string, init?: RequestInit) => {
    const res = await fetch(`${SYNAPSE_URL}/_matrix/client/v3${path}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    });
    return res.ok ? await res.json() : (await res.body?.cancel(), null);
  };
  const user = encodeURIComponent(userId);
  const defaultKey = await get(`/user/${user}/account_data/m.secret_storage.default_key`);
  const backup = await get("/room_keys/version");
  const keys = await get("/keys/query", {
    method: "POST",
    body: JSON.stringify({ device_keys: { [userId]: [] } }),
  });
  const master = keys?.master_keys?.[userId]?.keys;
  return {
    secretStorageKey: defaultKey?.key ?? null,
    backupVersion: backup?.version ?? null,
    backupCount: backup?.count ?? 0,
    masterKey: master ? String(Object.values(master)[0]) : null,
  };
}

/**
 * `user` (cross-signing set up first when it is not) verifies the bot user
 * with emoji in `room` (in-room request, the
 * bot auto-accepts), and waits until the bot user is cross-signing verified
 * for `user`. Keeps strong references to the request and verifier.
 */
export async function verifyBotUser(user: TestClient, botId: string, room: string) {
  const crypto = user.client.getCrypto()!;
  // Only a user with cross-signing can sign the bot user's master key.
  if (!(await crypto.isCrossSigningReady())) {
    await crypto.bootstrapCrossSigning({
      authUploadDeviceSigningKeys: async (makeRequest) => {
        await makeRequest({
          type: "m.login.password",
          identifier: { type: "m.id.user", user: user.userId },
          password: user.password,
        } as never);
      },
    });
  }
  const request: VerificationRequest = await crypto.requestVerificationDM(botId, room);
  await waitFor("the bot to accept", () => {
    if (request.phase === VerificationPhase.Cancelled) throw new Error("cancelled");
    return request.phase === VerificationPhase.Ready || undefined;
  }, 60_000);
  const verifier = await request.startVerification("m.sas.v1");
  const confirmed: Promise<void>[] = [];
  const onSas = (sas: ShowSasCallbacks) => {
    if (!confirmed.length) confirmed.push(sas.confirm());
  };
  verifier.on(VerifierEvent.ShowSas, onSas);
  const already = verifier.getShowSasCallbacks();
  if (already) onSas(already);
  await verifier.verify();
  await Promise.all(confirmed);
  ok(request.phase === VerificationPhase.Done, "the verification is done");
  await waitFor(
    "the bot user to be cross-signing verified",
    async () =>
      (await crypto.getUserVerificationStatus(botId)).isCrossSigningVerified() || undefined,
    30_000,
  );
  return { request, verifier };
}

/** The recovery key in `<store>/recovery-key.txt` (its last non-comment line). */
export async function recoveryKeyInStore(setup: BotSetup): Promise<string> {
  const text = await Deno.readTextFile(`${setup.storePath}/recovery-key.txt`);
  return text.split("\n").filter((l) => l.trim() && !l.startsWith("#")).at(-1)!.trim();
}
