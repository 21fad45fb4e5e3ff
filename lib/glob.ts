/**
 * Model globs (`llm.omit_options`, `llm.vision_models`).
 *
 * @module
 */

/** Matches `*` (any run of characters) and `?` (one character); case-insensitive. */
export function globMatch(pattern: string, text: string): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(
    /\?/g,
    ".",
  );
  return new RegExp(`^${source}$`, "is").test(text);
}
