/**
 * The streams and environment the command line works with, in a module of
 * their own so that the subcommands (`run.ts`, `init.ts`) can take them
 * without importing `cli.ts`, which imports them.
 *
 * @module
 */
import { type Env, processEnv } from "./env.ts";

/** Streams the CLI writes to; tests capture them. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  stdin: ReadableStream<Uint8Array>;
  isTerminal: boolean;
  env: Env;
}

const encoder = new TextEncoder();

/** The real process streams. */
export const processIo: CliIo = {
  stdout: (text) => void Deno.stdout.writeSync(encoder.encode(text)),
  stderr: (text) => void Deno.stderr.writeSync(encoder.encode(text)),
  get stdin() {
    return Deno.stdin.readable;
  },
  get isTerminal() {
    return Deno.stdin.isTerminal();
  },
  env: processEnv,
};
