/**
 * `infinigpt init`: a starter `config.json` (from the embedded example),
 * a new store key in `store.key` (0600) that the config points at, and the
 * store directory, for a new user.
 *
 * @module
 */
import { EXAMPLE_CONFIG } from "./assets.ts";
import type { CliIo } from "./cli_io.ts";

/** Options for {@link runInit}. */
export interface InitOptions {
  path: string;
  force: boolean;
  io: CliIo;
}

/** Where `init` writes the store key (relative, like the store: the working directory). */
export const STORE_KEY_FILE = "store.key";

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** 32 random bytes as 64 hex characters, as `openssl rand -hex 32` writes them. */
export function newStoreKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The example config with `matrix.store_key_file` pointing at `keyFile`. */
export function starterConfig(keyFile: string): string {
  const text = EXAMPLE_CONFIG.replace(
    '"store_key_file": null',
    `"store_key_file": ${JSON.stringify(keyFile)}`,
  );
  if (text === EXAMPLE_CONFIG) throw new Error("config.example.json has no store_key_file: null");
  return text;
}

/**
 * Writes the starter config (never over an existing file unless forced)
 * and a store key (never over an existing one, forced or not: it may be the
 * key of an existing store).
 */
export async function runInit(options: InitOptions): Promise<number> {
  const { path, io } = options;
  if (await exists(path) && !options.force) {
    io.stderr(`${path} already exists; not overwriting it (use --force to replace it).\n`);
    return 2;
  }
  const text = starterConfig(STORE_KEY_FILE);
  const store = (JSON.parse(text) as { matrix?: { store_path?: string } }).matrix?.store_path ??
    "store";
  const keptKey = await exists(STORE_KEY_FILE);
  await Deno.writeTextFile(path, text, { mode: 0o600 });
  if (!keptKey) {
    await Deno.writeTextFile(STORE_KEY_FILE, newStoreKey() + "\n", {
      mode: 0o600,
      createNew: true,
    });
  }
  await Deno.mkdir(store, { recursive: true, mode: 0o700 });
  io.stdout(
    `Wrote ${path} and created the store directory ${store}/.\n` +
      (keptKey
        ? `Kept the existing store key ${STORE_KEY_FILE}.\n`
        : `Wrote a new store key to ${STORE_KEY_FILE}: back it up apart from the store.\n`) +
      `Next: edit ${path} (homeserver, bot account, models, API keys), then run:\n` +
      `  infinigpt check-config --config ${path}\n  infinigpt doctor --config ${path}\n` +
      `  infinigpt console --config ${path}\n  infinigpt --config ${path}\n`,
  );
  return 0;
}
