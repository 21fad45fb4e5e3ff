/**
 * Room references as written in the config: aliases (`#room:server`) and
 * room IDs of every room version — `!opaque:server` up to version 11, and
 * from version 12 on `!` with the create event's reference hash in URL-safe
 * unpadded base64 (43 characters) and no server part.
 *
 * @module
 */

const ALIAS = /^#[^:\s]+:\S+$/;
const SERVER_ROOM_ID = /^![^:\s]+:\S+$/;
const HASH_ROOM_ID = /^![A-Za-z0-9_-]{43}$/;

/** What the config says about a room reference that is neither. */
export const ROOM_REF_HINT =
  "must be a room alias (#room:server) or room ID (!id:server, or !id in room version 12)";

/** True for a room ID of any room version. */
export function isRoomId(ref: string): boolean {
  return SERVER_ROOM_ID.test(ref) || HASH_ROOM_ID.test(ref);
}

/** True for a room alias. */
export function isRoomAlias(ref: string): boolean {
  return ALIAS.test(ref);
}

/** True for a room alias or a room ID. */
export function isRoomRef(ref: string): boolean {
  return isRoomId(ref) || isRoomAlias(ref);
}
