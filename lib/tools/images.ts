/**
 * TODO: implemented by the tools work of issue 3.
 *
 * @module
 */
import type { BuiltinImplementation } from "./options.ts";

const todo: BuiltinImplementation = { run: () => Promise.reject(new Error("not implemented")) };
/** Not implemented yet. */
export const openaiImage = todo;
/** Not implemented yet. */
export const grokImage = todo;
/** Not implemented yet. */
export const geminiImage = todo;
