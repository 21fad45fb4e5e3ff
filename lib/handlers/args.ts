/**
 * The argument shapes commands share and the pure readers for them. Each
 * command's own `parse` sits next to its handler.
 *
 * @module
 */

/**
 * Arguments a command does not accept. The handler does not run; `usage` is
 * replied when set, else the command is dropped silently.
 */
export interface Invalid {
  /** Marks arguments that were not accepted. */
  readonly invalid: true;
  /** What to reply instead of running the command; nothing when absent. */
  readonly usage?: string;
}

/** Arguments that are not accepted (see {@link Invalid}). */
export function invalid(usage?: string): Invalid {
  return usage === undefined ? { invalid: true } : { invalid: true, usage };
}

/** Whether parsed arguments are {@link Invalid}. */
export function isInvalid(args: unknown): args is Invalid {
  return typeof args === "object" && args !== null && (args as Invalid).invalid === true;
}

/** Commands that take no arguments: whatever follows the word is ignored. */
export type NoArgs = Record<never, never>;

/** Commands whose argument is free text (trimmed, inner newlines kept). */
export interface TextArgs {
  /** The text; empty when there was none. */
  readonly text: string;
}

/** Reads free text: the trimmed rest of the line, inner newlines kept. */
export function parseText(raw: string): TextArgs {
  return { text: raw.trim() };
}

/** Reads nothing: whatever follows a command word that takes no arguments is ignored. */
export function parseNothing(_raw: string): NoArgs {
  return {};
}
