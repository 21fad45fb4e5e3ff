/**
 * `get_time`: the current date and time in UTC, in the host's local time, or
 * in an IANA time zone, written as Python's `datetime.isoformat()` would
 * (microseconds always shown; reference §5.1).
 *
 * @module
 */
import type { BuiltinImplementation } from "./options.ts";

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** Wall-clock fields of one instant. */
interface Wall {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** `YYYY-MM-DDTHH:MM:SS.ffffff` for a wall clock and the instant's milliseconds. */
function formatWall(wall: Wall, ms: number): string {
  return `${pad(wall.year, 4)}-${pad(wall.month)}-${pad(wall.day)}T` +
    `${pad(wall.hour)}:${pad(wall.minute)}:${pad(wall.second)}.${pad(ms, 3)}000`;
}

/** `+HH:MM` (with `:SS` when needed, as Python writes it) for an offset in seconds. */
export function formatOffset(seconds: number): string {
  const sign = seconds < 0 ? "-" : "+";
  const abs = Math.abs(seconds);
  const text = `${sign}${pad(Math.floor(abs / 3600))}:${pad(Math.floor(abs / 60) % 60)}`;
  return abs % 60 ? `${text}:${pad(abs % 60)}` : text;
}

/** A formatter for `timeZone`, or `undefined` when Intl does not know the zone. */
function zoneFormatter(timeZone: string): Intl.DateTimeFormat | undefined {
  try {
    return new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      era: "short",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
  } catch {
    return undefined;
  }
}

function zoneWall(date: Date, formatter: Intl.DateTimeFormat): Wall {
  const parts: Record<string, string> = {};
  for (const part of formatter.formatToParts(date)) parts[part.type] = part.value;
  const year = Number(parts.year);
  return {
    year: parts.era === "BC" ? 1 - year : year,
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
  };
}

/** ISO-8601 of `date` in the IANA zone `timeZone`, with its offset; `undefined` for unknown zones. */
export function isoInZone(date: Date, timeZone: string): string | undefined {
  const formatter = zoneFormatter(timeZone);
  if (!formatter) return undefined;
  const wall = zoneWall(date, formatter);
  const asUtc = new Date(0);
  asUtc.setUTCFullYear(wall.year, wall.month - 1, wall.day);
  asUtc.setUTCHours(wall.hour, wall.minute, wall.second, 0);
  const offset = Math.round((asUtc.getTime() - Math.floor(date.getTime() / 1000) * 1000) / 1000);
  return formatWall(wall, date.getUTCMilliseconds()) + formatOffset(offset);
}

/** ISO-8601 of `date` in the host's local time, without an offset (Python's naive `now()`). */
export function isoLocal(date: Date): string {
  return formatWall({
    year: date.getFullYear(),
    month: date.getMonth() + 1,
    day: date.getDate(),
    hour: date.getHours(),
    minute: date.getMinutes(),
    second: date.getSeconds(),
  }, date.getMilliseconds());
}

/** The `get_time` result for `timezoneName` at `now`. */
export function timeResult(
  timezoneName: unknown,
  now: Date,
): { datetime: string; timezone: string } | { error: string } {
  const tz = timezoneName === undefined || timezoneName === null
    ? "UTC"
    : String(timezoneName).trim() || "UTC";
  if (tz.toLowerCase() === "utc") return { datetime: isoInZone(now, "UTC")!, timezone: "UTC" };
  if (tz.toLowerCase() === "local") return { datetime: isoLocal(now), timezone: "local" };
  const datetime = isoInZone(now, tz);
  if (datetime === undefined) {
    return { error: `Unsupported timezone '${tz}'. Use 'UTC' or 'local'.` };
  }
  return { datetime, timezone: tz };
}

/** `get_time`; the clock is `options.now` when set. */
export const getTime: BuiltinImplementation = {
  run: (args, _call, options) =>
    Promise.resolve(timeResult(args.timezone_name, options.now?.() ?? new Date())),
};
