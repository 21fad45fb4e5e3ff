/**
 * `infinigpt init`: a starter `config.json` (from the embedded example) and
 * the store directory, for a new user.
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

/** Writes the starter config (never over an existing file unless forced). */
export async function runInit(options: InitOptions): Promise<number> {
  const { path, io } = options;
  let exists = false;
  try {
    await Deno.stat(path);
    exists = true;
  } catch {
    // Not there yet: what we want.
  }
  if (exists && !options.force) {
    io.stderr(`${path} already exists; not overwriting it (use --force to replace it).\n`);
    return 2;
  }
  const text = EXAMPLE_CONFIG;
  const store = (JSON.parse(text) as { matrix?: { store_path?: string } }).matrix?.store_path ??
    "store";
  await Deno.writeTextFile(path, text, { mode: 0o600 });
  await Deno.mkdir(store, { recursive: true, mode: 0o700 });
  io.stdout(
    `Wrote ${path} and created the store directory ${store}/.\n` +
      `Next: edit ${path} (homeserver, bot account, models, API keys), then run:\n` +
      `  infinigpt check-config --config ${path}\n  infinigpt console --config ${path}\n  infinigpt --config ${path}\n`,
  );
  return 0;
}
