/**
 * TODO: implemented by the tools work of issue 3.
 *
 * @module
 */
import type { BuiltinImplementation } from "./options.ts";

/** Not implemented yet. */
export const getTime: BuiltinImplementation = {
  run: () => Promise.reject(new Error("not implemented")),
};
