/**
 * The argument grammar shared by `.verbose` and `.thinking` (reference §2.12).
 *
 * @module
 */

/** What a toggle argument asks for. */
export type ToggleAction = "status" | "on" | "off" | "toggle" | "invalid";

/** Parses `on|true|1|enable|enabled`, `off|false|0|disable|disabled`, `toggle|switch`, `status`. */
export function parseToggle(args: string): ToggleAction {
  const a = args.trim().toLowerCase();
  if (a === "" || a === "status") return "status";
  if (["on", "true", "1", "enable", "enabled"].includes(a)) return "on";
  if (["off", "false", "0", "disable", "disabled"].includes(a)) return "off";
  if (a === "toggle" || a === "switch") return "toggle";
  return "invalid";
}

/** Applies a toggle action to the current value; `undefined` for status/invalid. */
export function applyToggle(action: ToggleAction, current: boolean): boolean | undefined {
  if (action === "on") return true;
  if (action === "off") return false;
  if (action === "toggle") return !current;
  return undefined;
}
