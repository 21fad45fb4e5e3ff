/**
 * `exec()` for Deno, which has none: replaces the running process with
 * another program through the C library's `execve` (FFI). The process keeps
 * its id, parent, stdio and process group, so whoever started it (the
 * `deno task` runner, systemd, a shell) signals and waits for the new
 * program directly; nothing of this process's memory stays.
 *
 * Only `scripts/launch.ts` uses it, to start the bot without a launcher
 * process waiting beside it (`--allow-ffi` is granted to the launcher, never
 * to the bot).
 *
 * @module
 */

/** The C library that holds `execve`, per OS; others have no exec here. */
const LIBC: Partial<Record<typeof Deno.build.os, string>> = {
  linux: "libc.so.6",
  darwin: "/usr/lib/libSystem.B.dylib",
  freebsd: "libc.so.7",
};

const SYMBOLS = {
  execve: { parameters: ["buffer", "buffer", "buffer"], result: "i32" },
} as const;

function cString(text: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(`${text}\0`);
}

/** A NULL-terminated array of pointers to the strings (they must stay referenced). */
function pointers(strings: Uint8Array<ArrayBuffer>[]): BigUint64Array<ArrayBuffer> {
  const array = new BigUint64Array(strings.length + 1);
  strings.forEach((s, i) => array[i] = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(s))));
  return array;
}

/**
 * Replaces this process with `program` run with `args` (without argv[0])
 * and exactly `env`. Returns only when that was not possible (no FFI
 * permission, an OS without a known C library, a musl system without
 * `libc.so.6`, execve failing); then nothing has changed and the caller
 * can start the program as a child instead.
 */
export function exec(program: string, args: readonly string[], env: Record<string, string>): void {
  const path = LIBC[Deno.build.os];
  if (!path || Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return;
  let lib: Deno.DynamicLibrary<typeof SYMBOLS>;
  try {
    lib = Deno.dlopen(path, SYMBOLS);
  } catch {
    return;
  }
  const argv = [program, ...args].map(cString);
  const envp = Object.entries(env).map(([name, value]) => cString(`${name}=${value}`));
  // Returns only on failure (ENOENT, E2BIG, ...).
  lib.symbols.execve(argv[0], pointers(argv), pointers(envp));
  lib.close();
}
