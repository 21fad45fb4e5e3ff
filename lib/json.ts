/**
 * Looking into parsed JSON whose shape is not known yet (a config file, an
 * API answer) before a schema or a field check vouches for it.
 *
 * @module
 */

/** Whether `value` is a JSON object: not `null`, not an array. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
