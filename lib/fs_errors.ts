/**
 * File-system error messages for operators. A permission refusal names the
 * rule that caused it instead of Deno's "run again with --allow-read" hint,
 * which a release binary's user cannot follow.
 *
 * @module
 */

/** A readable reason for a failed file operation on `path`. */
export function describeFsError(error: unknown, path?: string): string {
  if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
    const denied = /Requires (read|write) access/.exec((error as Error).message);
    if (denied) {
      let cwd = "the working directory";
      try {
        cwd = Deno.cwd();
      } catch {
        // Keep the generic wording.
      }
      return `no permission to ${denied[1]} ${path ?? "it"}: a release binary reads and writes ` +
        `only inside its working directory (${cwd}); run it from the directory that holds ` +
        `config.json and the store, or use relative paths inside it`;
    }
  }
  return error instanceof Error ? error.message : String(error);
}
