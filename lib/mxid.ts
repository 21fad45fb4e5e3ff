/**
 * Matrix user IDs (`@localpart:server`): the one pattern the config, the
 * command line and the transports check them with.
 *
 * @module
 */

/** A full Matrix user ID: `@`, a localpart, `:`, a server name; no spaces. */
export const MXID: RegExp = /^@[^:\s]+:\S+$/;

/** Whether `text` is a full Matrix user ID like `@name:server`. */
export function isMxid(text: string): boolean {
  return MXID.test(text);
}

/** `@name:server` → `name`; anything else is returned as it is. */
export function localpart(userId: string): string {
  return /^@([^:]+):/.exec(userId)?.[1] ?? userId;
}
