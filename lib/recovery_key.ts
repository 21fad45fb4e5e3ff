/**
 * The recovery key (decision 41): where it comes from (`INFINIGPT_RECOVERY_KEY`,
 * `matrix.recovery_key`, `matrix.recovery_key_file`, `<store>/recovery-key.txt`),
 * its format (the Matrix recovery key Element shows: base58 in groups of four),
 * and what the bot does with the account's secret storage at a start — decided
 * here as a pure function, done in `matrix_recovery.ts`.
 *
 * @module
 */
import { decodeRecoveryKey, encodeRecoveryKey } from "matrix-js-sdk/lib/crypto-api/recovery-key.js";
import { registerSecret } from "./log.ts";

/** The file in the store where a recovery key the bot created is written once. */
export const RECOVERY_KEY_FILE = "recovery-key.txt";

/** A recovery key that cannot be used: the start stops with exit code 2. */
export class RecoveryKeyError extends Error {
  /** Exit code of a start stopped by it. */
  readonly exitCode = 2;
}

/** A recovery key and where it came from (never the key itself in messages). */
export interface RecoveryKey {
  /** The 32-byte secret storage key. */
  bytes: Uint8Array<ArrayBuffer>;
  /** Where it was read, for messages: `INFINIGPT_RECOVERY_KEY`, `matrix.recovery_key`, a path. */
  source: string;
  /** True for the key file the bot wrote itself in the store. */
  fromStore?: boolean;
}

/**
 * Parses a recovery key as Element shows it (spaces and line breaks are
 * ignored). The error names the source and what is wrong, never the key.
 */
export function parseRecoveryKey(text: string, source: string): Uint8Array<ArrayBuffer> {
  const compact = text.replace(/\s+/g, "");
  try {
    if (!/^[1-9A-HJ-NP-Za-km-z]+$/.test(compact)) throw new Error("not base58");
    return decodeRecoveryKey(compact);
  } catch (error) {
    throw new RecoveryKeyError(
      `The recovery key from ${source} is not a Matrix recovery key (${
        (error as Error).message.replace(/^Incorrect/, "wrong")
      }): use the key exactly as Element or the bot's recovery-key.txt shows it, 48 characters in groups of four`,
    );
  }
}

/** The key in the format Element shows (groups of four). */
export function formatRecoveryKey(bytes: Uint8Array): string {
  return encodeRecoveryKey(bytes)!;
}

/** Masks the key in the log in every form it may be written in. */
export function maskRecoveryKey(bytes: Uint8Array): void {
  const formatted = formatRecoveryKey(bytes);
  registerSecret(formatted);
  registerSecret(formatted.replaceAll(" ", ""));
}

/** Where the key may come from; the first one set wins. */
export interface RecoveryKeySources {
  /** `INFINIGPT_RECOVERY_KEY` (already merged into `matrix.recovery_key` by the config loader). */
  env?: string;
  /** `matrix.recovery_key`. */
  config?: string | null;
  /** `matrix.recovery_key_file`. */
  file?: string | null;
  /** `<store>/recovery-key.txt`, used when nothing else is configured. */
  storeFile: string;
}

/** Reads a text file; `undefined` when it does not exist. */
async function readIfThere(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw new RecoveryKeyError(
      `Cannot read the recovery key file ${path}: ${(error as Error).message}`,
    );
  }
}

/** Loads the recovery key from the first source set; `undefined` when none is. */
export async function loadRecoveryKey(
  sources: RecoveryKeySources,
): Promise<RecoveryKey | undefined> {
  if (sources.env) {
    return {
      bytes: parseRecoveryKey(sources.env, "INFINIGPT_RECOVERY_KEY"),
      source: "INFINIGPT_RECOVERY_KEY",
    };
  }
  if (sources.config) {
    return {
      bytes: parseRecoveryKey(sources.config, "matrix.recovery_key"),
      source: "matrix.recovery_key",
    };
  }
  if (sources.file) {
    const text = await readIfThere(sources.file);
    if (text === undefined) {
      throw new RecoveryKeyError(`matrix.recovery_key_file ${sources.file} does not exist`);
    }
    const source = `matrix.recovery_key_file ${sources.file}`;
    return { bytes: parseRecoveryKey(keyLine(text), source), source };
  }
  const text = await readIfThere(sources.storeFile);
  if (text === undefined) return undefined;
  return {
    bytes: parseRecoveryKey(keyLine(text), sources.storeFile),
    source: sources.storeFile,
    fromStore: true,
  };
}

/** The key in a key file: the first line that is not a comment. */
function keyLine(text: string): string {
  return text.split("\n").find((l) => l.trim() && !l.trim().startsWith("#")) ?? "";
}

/** The text of `<store>/recovery-key.txt`. */
export function recoveryKeyFileText(bytes: Uint8Array, userId: string): string {
  return `# Matrix recovery key of ${userId} (InfiniGPT wrote it once; copy it somewhere safe,\n` +
    `# then delete this file or keep the store private). Element calls it the "Security Key".\n` +
    `${formatRecoveryKey(bytes)}\n`;
}

/**
 * Writes a new recovery key to `path`, mode 0600, never over an existing
 * file (the key in it may be the only copy of an older one).
 */
export async function writeRecoveryKeyFile(
  path: string,
  bytes: Uint8Array,
  userId: string,
): Promise<void> {
  await Deno.writeTextFile(path, recoveryKeyFileText(bytes, userId), {
    createNew: true,
    mode: 0o600,
  });
  // The umask does not narrow 0600 further, but an existing umask of 0 or a
  // filesystem that ignores the mode at creation does not widen it either.
  await Deno.chmod(path, 0o600).catch(() => {});
}

/** What the account and the configuration say at a start. */
export interface RecoveryState {
  /** The account has secret storage (a default AES key). */
  hasSecretStorage: boolean;
  /** A recovery key is configured (or left in the store). */
  hasKey: boolean;
  /** The key opens the account's secret storage. */
  keyOpens: boolean;
  /** `matrix.recovery_reset`. */
  reset: boolean;
}

/**
 * What to do with secret storage at a start:
 * - `create`: the account has none; create it (with the given key, or a new one);
 * - `unlock`: the key opens it;
 * - `reset`: replace it (only with `matrix.recovery_reset`);
 * - `wrong-key`: stop with exit 2, nothing changed;
 * - `no-key`: run on what the store has (nothing restored, nothing signed anew).
 */
export type RecoveryPlan = "create" | "unlock" | "reset" | "wrong-key" | "no-key";

/** Decides the {@link RecoveryPlan}. Pure. */
export function recoveryPlan(state: RecoveryState): RecoveryPlan {
  if (!state.hasSecretStorage) return "create";
  if (state.hasKey && state.keyOpens) return "unlock";
  if (state.reset) return "reset";
  return state.hasKey ? "wrong-key" : "no-key";
}
