/**
 * A user's power level in a room, from the room's state (the rules of the
 * Matrix spec): `m.room.power_levels` `users`, else `users_default`, else 0;
 * without a power-levels event the room's creator has 100. From room
 * version 12 on, the creators (the sender of `m.room.create` and its
 * `additional_creators`) stand above every power level.
 *
 * @module
 */

/** The state a power level is read from: contents and the creator, as the room has them. */
export interface PowerLevelState {
  /** `m.room.power_levels` content, when the room has one. */
  powerLevels?: Record<string, unknown>;
  /** `m.room.create` content. */
  create?: Record<string, unknown>;
  /** The sender of `m.room.create`. */
  creator?: string;
}

/** Room versions whose creators have infinite power: 12 and after, and its test version. */
export function creatorsPrivileged(roomVersion: string): boolean {
  if (roomVersion === "org.matrix.hydra.11") return true;
  return /^\d+$/.test(roomVersion) && Number(roomVersion) >= 12;
}

/** An integer as power levels carry it (old room versions allow numeric strings). */
function level(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isInteger(value)) return value;
  if (typeof value === "string" && /^\s*[+-]?\d+\s*$/.test(value)) return Number(value);
  return undefined;
}

/** `userId`'s power level in the room whose state is `state`. */
export function powerLevelOf(state: PowerLevelState, userId: string): number {
  const version = typeof state.create?.room_version === "string" ? state.create.room_version : "1";
  if (creatorsPrivileged(version)) {
    const more = state.create?.additional_creators;
    const creators = [state.creator, ...(Array.isArray(more) ? more : [])];
    if (creators.includes(userId)) return Infinity;
  }
  const pl = state.powerLevels;
  if (!pl) return userId === state.creator ? 100 : 0;
  const users = pl.users;
  const own = users && typeof users === "object" && !Array.isArray(users)
    ? level((users as Record<string, unknown>)[userId])
    : undefined;
  return own ?? level(pl.users_default) ?? 0;
}
