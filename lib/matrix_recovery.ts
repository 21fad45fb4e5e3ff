/**
 * Secret storage, key backup and the recovery key on Matrix (decision 41):
 * at a start, after the first sync (account data is known then), the bot
 * creates secret storage when the account has none, or unlocks it with the
 * recovery key, signs its own device, turns the key backup on and, on an
 * empty store, restores room keys from it. `lib/recovery_key.ts` decides;
 * this module does.
 *
 * @module
 */
import type * as sdk from "matrix-js-sdk";
import { Method } from "matrix-js-sdk";
import type { CryptoCallbacks } from "matrix-js-sdk/lib/crypto-api/index.js";
import { getLogger } from "./log.ts";
import {
  maskRecoveryKey,
  type RecoveryKey,
  RecoveryKeyError,
  type RecoveryPlan,
  recoveryPlan,
  writeRecoveryKeyFile,
} from "./recovery_key.ts";

const log = getLogger("matrix");

/**
 * The secret storage key the SDK asks for (`getSecretStorageKey`): set once
 * the recovery key is known to open it, or when the bot creates it.
 */
export class SecretStorageKeyHolder {
  #key?: Uint8Array<ArrayBuffer>;

  /** Holds `key` from now on. */
  set(key: Uint8Array<ArrayBuffer>): void {
    this.#key = key;
  }

  /** The callbacks for `createClient({ cryptoCallbacks })`. */
  callbacks(): CryptoCallbacks {
    return {
      getSecretStorageKey: ({ keys }) => {
        const id = Object.keys(keys)[0];
        return Promise.resolve(this.#key && id ? [id, this.#key] : null);
      },
      cacheSecretStorageKey: (_id, _info, key) => this.set(key as Uint8Array<ArrayBuffer>),
    };
  }
}

/** Options for {@link setUpRecovery}. */
export interface RecoveryOptions {
  /** The recovery key, when one is configured or left in the store. */
  key?: RecoveryKey;
  /** `matrix.recovery_reset`. */
  reset: boolean;
  /** Where a key the bot creates is written (`<store>/recovery-key.txt`). */
  keyFile: string;
  /** The crypto store was empty at this start (a new device): restore from the backup. */
  freshStore: boolean;
  /** The holder the client's `getSecretStorageKey` reads. */
  holder: SecretStorageKeyHolder;
  /** Sets up cross-signing if it is not (user-interactive auth with the password). */
  ensureCrossSigning(options?: { replace?: boolean }): Promise<void>;
}

type Crypto = NonNullable<ReturnType<sdk.MatrixClient["getCrypto"]>>;

/** The plan of this start and how to carry it out. */
export interface Recovery {
  /** What is done (lib/recovery_key.ts). */
  plan: RecoveryPlan;
  /**
   * True when the start must wait for {@link Recovery.apply} before it
   * answers anything: a new store restores room keys first, a first start
   * creates secret storage. A plain restart does not wait: what it does then
   * (the backup turned on again) must not hold back the messages left from
   * before the restart, or newer ones are answered first.
   */
  blocking: boolean;
  /**
   * Carries the plan out; resolves true when a new store took over the
   * account's identity and room keys (the bot then looks for what was said
   * while it was gone).
   */
  apply(): Promise<boolean>;
}

/**
 * Reads the account's secret storage (from the first sync) and decides;
 * throws {@link RecoveryKeyError} for a wrong key, before anything changed.
 */
export async function planRecovery(
  client: sdk.MatrixClient,
  options: RecoveryOptions,
): Promise<Recovery | undefined> {
  const crypto = client.getCrypto();
  if (!crypto) return undefined;
  const storage = client.secretStorage;
  const found = await serverSecretStorageKey(client);
  const hasSecretStorage = found?.algorithm === "m.secret_storage.v1.aes-hmac-sha2";
  const { key } = options;
  const keyOpens = !!(key && found && hasSecretStorage &&
    await storage.checkKey(key.bytes, found as never));
  const plan = recoveryPlan({ hasSecretStorage, hasKey: !!key, keyOpens, reset: options.reset });
  if (plan === "wrong-key") {
    throw new RecoveryKeyError(
      `The recovery key from ${
        key!.source
      } does not open this account's secret storage; nothing was changed. ` +
        "Give the account's current recovery key (Element: Settings → Encryption), or set " +
        "matrix.recovery_reset: true once to replace secret storage and the key backup " +
        "(room keys in the old backup are then lost to the bot).",
    );
  }
  const blocking = options.freshStore || plan === "create" || plan === "reset";
  return { plan, blocking, apply: () => applyPlan(plan, client, crypto, options) };
}

/**
 * The account's default secret storage key description, read from the
 * homeserver: after a restart the SDK's copy of account data is the saved
 * sync cache until the first sync from the server, and deciding on it
 * created secret storage a second time after a crash (measured in the crash
 * test: the first start was killed right after creating it).
 */
async function serverSecretStorageKey(
  client: sdk.MatrixClient,
): Promise<{ algorithm?: string } | null> {
  const read = async (type: string) => {
    const path = `/user/${encodeURIComponent(client.getSafeUserId())}/account_data/${type}`;
    try {
      return await client.http.authedRequest<Record<string, unknown>>(Method.Get, path);
    } catch (error) {
      if ((error as { errcode?: string }).errcode === "M_NOT_FOUND") return null;
      throw error;
    }
  };
  const defaultKey = await read("m.secret_storage.default_key");
  const id = typeof defaultKey?.key === "string" ? defaultKey.key : undefined;
  return id ? await read(`m.secret_storage.key.${id}`) : null;
}

async function applyPlan(
  plan: RecoveryPlan,
  client: sdk.MatrixClient,
  crypto: Crypto,
  options: RecoveryOptions,
): Promise<boolean> {
  switch (plan) {
    case "create":
      await create(client, crypto, options);
      return false;
    case "unlock":
      if (options.reset) {
        log.warn(
          "matrix.recovery_reset is true but the recovery key opens secret storage: nothing is reset. Remove recovery_reset from the config.",
        );
      }
      await unlock(client, crypto, options, options.key!);
      return options.freshStore;
    case "reset":
      await reset(client, crypto, options);
      return false;
    default:
      await noKey(crypto, options);
      return false;
  }
}

/** The key to create secret storage with: the configured one, or a new one written to the store. */
async function newKey(crypto: Crypto, options: RecoveryOptions, userId: string) {
  if (options.key) return options.key.bytes;
  const generated = await crypto.createRecoveryKeyFromPassphrase();
  maskRecoveryKey(generated.privateKey);
  // Written before anything reaches the server: a start that fails halfway
  // finds it in the store again and goes on with the same key.
  await writeRecoveryKeyFile(options.keyFile, generated.privateKey, userId);
  log.warn(
    `A new recovery key for ${userId} was written to ${options.keyFile} (mode 0600). ` +
      "Copy it somewhere safe (a password manager), then delete the file or keep the store private; " +
      "give it to the bot as INFINIGPT_RECOVERY_KEY or matrix.recovery_key_file to move it to a new host or store.",
  );
  return generated.privateKey;
}

async function create(client: sdk.MatrixClient, crypto: Crypto, options: RecoveryOptions) {
  const userId = client.getSafeUserId();
  const key = await newKey(crypto, options, userId);
  options.holder.set(key);
  await options.ensureCrossSigning();
  const haveBackupKey = !!(await crypto.getSessionBackupPrivateKey());
  await crypto.bootstrapSecretStorage({
    createSecretStorageKey: () => Promise.resolve({ privateKey: key }),
    setupNewKeyBackup: !haveBackupKey,
  });
  await crypto.checkKeyBackupAndEnable();
  log.info(
    `Secret storage created (cross-signing keys and key backup version ${await crypto
      .getActiveSessionBackupVersion()}); room keys are backed up from now on`,
  );
}

async function unlock(
  client: sdk.MatrixClient,
  crypto: Crypto,
  options: RecoveryOptions,
  key: RecoveryKey,
) {
  options.holder.set(key.bytes);
  log.info(`Secret storage unlocked with the recovery key from ${key.source}`);
  // Imports the cross-signing keys from secret storage when the store has
  // none, and signs this device then.
  await options.ensureCrossSigning();
  await signOwnDevice(client, crypto);
  await enableBackup(client, crypto, options.freshStore);
}

async function signOwnDevice(client: sdk.MatrixClient, crypto: Crypto) {
  const deviceId = client.getDeviceId();
  if (!deviceId || !(await crypto.isCrossSigningReady())) return;
  const status = await crypto.getDeviceVerificationStatus(client.getSafeUserId(), deviceId);
  if (status?.signedByOwner) return;
  await crypto.crossSignDevice(deviceId);
  log.info(`Device ${deviceId} signed with the bot's cross-signing key`);
}

async function enableBackup(client: sdk.MatrixClient, crypto: Crypto, restore: boolean) {
  const info = await crypto.getKeyBackupInfo();
  if (!info?.version) {
    await crypto.resetKeyBackup();
    log.info(
      "No key backup on the server: a new one was created; room keys are backed up from now on",
    );
    return;
  }
  const local = await crypto.getSessionBackupPrivateKey();
  const check = local ? await crypto.checkKeyBackupAndEnable() : null;
  if (!check?.trustInfo.matchesDecryptionKey) {
    await crypto.loadSessionBackupPrivateKeyFromSecretStorage();
  }
  await crypto.checkKeyBackupAndEnable();
  const version = await crypto.getActiveSessionBackupVersion();
  log.info(
    `Key backup version ${version ?? info.version} on: room keys are backed up as they arrive`,
  );
  if (restore) await restoreBackup(client, crypto);
}

async function restoreBackup(_client: sdk.MatrixClient, crypto: Crypto) {
  const started = performance.now();
  const result = await crypto.restoreKeyBackup();
  const ms = Math.round(performance.now() - started);
  log.info(
    `Restored ${result.imported} of ${result.total} room keys from the key backup in ${ms} ms`,
  );
}

async function reset(client: sdk.MatrixClient, crypto: Crypto, options: RecoveryOptions) {
  const userId = client.getSafeUserId();
  log.error(
    `matrix.recovery_reset: REPLACING the secret storage and the key backup of ${userId}. ` +
      "Room keys in the old backup are lost to the bot; other devices of this account need the new recovery key. " +
      "Remove recovery_reset from the config after this start.",
  );
  const key = await newKey(crypto, options, userId);
  options.holder.set(key);
  const status = await crypto.getCrossSigningStatus();
  const local = status.privateKeysCachedLocally;
  await crypto.bootstrapSecretStorage({
    createSecretStorageKey: () => Promise.resolve({ privateKey: key }),
    setupNewSecretStorage: true,
    setupNewKeyBackup: true,
  });
  // Without the private cross-signing keys in the store, the old identity
  // cannot be kept: a new one goes into the new secret storage.
  if (!(local.masterKey && local.selfSigningKey && local.userSigningKey)) {
    await options.ensureCrossSigning({ replace: true });
  }
  await crypto.checkKeyBackupAndEnable();
  log.warn(
    `Secret storage and key backup replaced (backup version ${await crypto
      .getActiveSessionBackupVersion()})`,
  );
}

async function noKey(crypto: Crypto, options: RecoveryOptions) {
  const backup = await crypto.checkKeyBackupAndEnable();
  if (backup?.backupInfo && backup.trustInfo.matchesDecryptionKey) {
    log.info(
      "No recovery key configured: using the keys in the store; the key backup stays on",
    );
    return;
  }
  log.warn(
    `This account has secret storage but no recovery key is configured${
      options.freshStore ? " and the store is new" : ""
    }: the bot cannot sign its device, back up room keys or restore them. ` +
      "Set INFINIGPT_RECOVERY_KEY or matrix.recovery_key_file (or matrix.recovery_reset: true once to start over).",
  );
}
