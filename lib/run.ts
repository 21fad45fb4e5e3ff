/**
 * `infinigpt run`: the Matrix bot.
 *
 * @module
 */
import type { CliIo } from "./cli.ts";
import type { LoadedConfig } from "./config.ts";

/** Options for {@link runMatrix}. */
export interface RunOptions {
  loaded: LoadedConfig;
  io: CliIo;
  verbose: boolean;
}

/** Runs the Matrix bot until SIGINT/SIGTERM; resolves with the exit code. */
export function runMatrix(options: RunOptions): Promise<number> {
  options.io.stderr(
    "The Matrix transport is not available in this build yet; use 'infinigpt console'.\n",
  );
  return Promise.resolve(1);
}
