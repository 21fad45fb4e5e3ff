import { deepStrictEqual, match, strictEqual } from "node:assert/strict";
import { builtinTools } from "../../lib/tools/builtins.ts";
import { ToolRegistry } from "../../lib/tools/registry.ts";
import { formatOffset, getTime, isoInZone, timeResult } from "../../lib/tools/time.ts";

const WINTER = new Date("2026-01-15T12:34:56.789Z");
const SUMMER = new Date("2026-07-15T12:34:56.789Z");

// --- formatOffset --------------------------------------------------------------

const offsetCases: Array<[number, string]> = [
  [0, "+00:00"],
  [3600, "+01:00"],
  [-18000, "-05:00"],
  [19800, "+05:30"],
  [20700, "+05:45"],
  [-9000, "-02:30"],
  [50400, "+14:00"],
  [1172, "+00:19:32"],
  [-1172, "-00:19:32"],
];

for (const [seconds, want] of offsetCases) {
  Deno.test(`writes an offset of ${seconds} s as ${want}`, () => {
    strictEqual(formatOffset(seconds), want);
  });
}

// --- time zones ------------------------------------------------------------------

const zoneCases: Array<[name: string, zone: string, at: Date, want: string]> = [
  ["UTC has +00:00 and microseconds", "UTC", WINTER, "2026-01-15T12:34:56.789000+00:00"],
  [
    "whole seconds still show six fraction digits",
    "UTC",
    new Date("2026-11-21T14:22:01Z"),
    "2026-11-21T14:22:01.000000+00:00",
  ],
  ["Paris is +01:00 in winter", "Europe/Paris", WINTER, "2026-01-15T13:34:56.789000+01:00"],
  ["Paris is +02:00 in summer", "Europe/Paris", SUMMER, "2026-07-15T14:34:56.789000+02:00"],
  ["New York is -05:00 in winter", "America/New_York", WINTER, "2026-01-15T07:34:56.789000-05:00"],
  ["New York is -04:00 in summer", "America/New_York", SUMMER, "2026-07-15T08:34:56.789000-04:00"],
  ["Sydney is +11:00 in January", "Australia/Sydney", WINTER, "2026-01-15T23:34:56.789000+11:00"],
  ["Sydney is +10:00 in July", "Australia/Sydney", SUMMER, "2026-07-15T22:34:56.789000+10:00"],
  ["Kolkata has a half-hour offset", "Asia/Kolkata", WINTER, "2026-01-15T18:04:56.789000+05:30"],
  [
    "Kathmandu has a 45-minute offset",
    "Asia/Kathmandu",
    WINTER,
    "2026-01-15T18:19:56.789000+05:45",
  ],
  [
    "St John's has a negative half-hour offset",
    "America/St_Johns",
    WINTER,
    "2026-01-15T09:04:56.789000-03:30",
  ],
  [
    "Tokyo is already in the next year",
    "Asia/Tokyo",
    new Date("2026-12-31T23:30:00Z"),
    "2027-01-01T08:30:00.000000+09:00",
  ],
  [
    "Los Angeles is still in the previous year",
    "America/Los_Angeles",
    new Date("2026-01-01T03:00:00.001Z"),
    "2025-12-31T19:00:00.001000-08:00",
  ],
  [
    "Berlin just before the spring change is +01:00",
    "Europe/Berlin",
    new Date("2026-03-29T00:59:59.999Z"),
    "2026-03-29T01:59:59.999000+01:00",
  ],
  [
    "Berlin at the spring change jumps to 03:00 +02:00",
    "Europe/Berlin",
    new Date("2026-03-29T01:00:00Z"),
    "2026-03-29T03:00:00.000000+02:00",
  ],
  [
    "midnight is written 00, not 24",
    "Europe/London",
    new Date("2026-01-15T00:00:00Z"),
    "2026-01-15T00:00:00.000000+00:00",
  ],
  [
    "Kiritimati is +14:00",
    "Pacific/Kiritimati",
    WINTER,
    "2026-01-16T02:34:56.789000+14:00",
  ],
];

for (const [name, zone, at, want] of zoneCases) {
  Deno.test(`get_time: ${name}`, () => {
    deepStrictEqual(timeResult(zone, at), { datetime: want, timezone: zone });
  });
}

Deno.test("writes a historical offset with seconds as Python does", () => {
  // Paris kept mean time (+00:09:21) until 1911; Monrovia used -00:44:30 until 1972.
  strictEqual(
    isoInZone(new Date("1900-06-01T12:00:00Z"), "Europe/Paris"),
    "1900-06-01T12:09:21.000000+00:09:21",
  );
  strictEqual(
    isoInZone(new Date("1960-06-01T12:00:00Z"), "Africa/Monrovia"),
    "1960-06-01T11:15:30.000000-00:44:30",
  );
});

for (const name of ["UTC", "utc", "Utc", " UTC "]) {
  Deno.test(`get_time answers ${JSON.stringify(name)} as UTC`, () => {
    deepStrictEqual(timeResult(name, WINTER), {
      datetime: "2026-01-15T12:34:56.789000+00:00",
      timezone: "UTC",
    });
  });
}

for (const name of [undefined, null, ""]) {
  Deno.test(`get_time defaults to UTC for ${JSON.stringify(name)}`, () => {
    deepStrictEqual(timeResult(name, SUMMER), {
      datetime: "2026-07-15T12:34:56.789000+00:00",
      timezone: "UTC",
    });
  });
}

for (const name of ["Mars/Olympus_Mons", "Europe/Pariss", "not a zone", "GMT+25"]) {
  Deno.test(`get_time refuses the unknown zone ${JSON.stringify(name)}`, () => {
    deepStrictEqual(timeResult(name, WINTER), {
      error: `Unsupported timezone '${name}'. Use 'UTC' or 'local'.`,
    });
  });
}

for (const name of ["local", "LOCAL", "Local"]) {
  Deno.test(`get_time answers ${JSON.stringify(name)} with local time and no offset`, () => {
    const result = timeResult(name, WINTER) as { datetime: string; timezone: string };
    strictEqual(result.timezone, "local");
    match(result.datetime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.789000$/);
  });
}

/** Deno ignores TZ on Windows (denoland/deno#15370): the child keeps the host's zone. */
const TZ_WORKS = { ignore: Deno.build.os === "windows" };

/** Runs `timeResult("local", at)` in a child process whose time zone is `tz`. */
async function localIn(tz: string, at: Date): Promise<unknown> {
  const module = new URL("../../lib/tools/time.ts", import.meta.url).href;
  const code = `import { timeResult } from ${JSON.stringify(module)};
console.log(JSON.stringify(timeResult("local", new Date(${at.getTime()}))));`;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-config", code],
    env: { TZ: tz },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  strictEqual(output.code, 0, stderr);
  return JSON.parse(new TextDecoder().decode(output.stdout));
}

Deno.test("get_time 'local' follows the host's time zone in winter", TZ_WORKS, async () => {
  deepStrictEqual(await localIn("America/New_York", WINTER), {
    datetime: "2026-01-15T07:34:56.789000",
    timezone: "local",
  });
});

Deno.test("get_time 'local' follows the host's time zone in summer", TZ_WORKS, async () => {
  deepStrictEqual(await localIn("America/New_York", SUMMER), {
    datetime: "2026-07-15T08:34:56.789000",
    timezone: "local",
  });
});

Deno.test("get_time 'local' in a half-hour zone", TZ_WORKS, async () => {
  deepStrictEqual(await localIn("Asia/Kolkata", WINTER), {
    datetime: "2026-01-15T18:04:56.789000",
    timezone: "local",
  });
});

// --- the implementation and the registry ----------------------------------------------

Deno.test("get_time reads the injected clock", async () => {
  const result = await getTime.run(
    { timezone_name: "Europe/Paris" },
    { signal: new AbortController().signal },
    { now: () => SUMMER },
  );
  deepStrictEqual(result, {
    datetime: "2026-07-15T14:34:56.789000+02:00",
    timezone: "Europe/Paris",
  });
});

Deno.test("get_time without a clock answers the current time", async () => {
  const before = Date.now();
  const result = await getTime.run({}, { signal: new AbortController().signal }, {}) as {
    datetime: string;
  };
  const at = Date.parse(result.datetime.replace(/(\.\d{3})000\+00:00$/, "$1Z"));
  strictEqual(at >= before - 1 && at <= Date.now() + 1, true, result.datetime);
});

Deno.test("get_time through the registry gives the model the zone's time as JSON", async () => {
  const registry = new ToolRegistry(builtinTools({ now: () => WINTER }));
  const result = await registry.call("get_time", { timezone_name: "Asia/Tokyo" });
  strictEqual(result.ok, true);
  strictEqual(
    result.content,
    '{"datetime":"2026-01-15T21:34:56.789000+09:00","timezone":"Asia/Tokyo"}',
  );
});

Deno.test("get_time through the registry treats a blank zone as UTC", async () => {
  const registry = new ToolRegistry(builtinTools({ now: () => WINTER }));
  const result = await registry.call("get_time", { timezone_name: "  " });
  strictEqual(result.content, '{"datetime":"2026-01-15T12:34:56.789000+00:00","timezone":"UTC"}');
});

Deno.test("get_time through the registry gives the model an unknown zone's error", async () => {
  const registry = new ToolRegistry(builtinTools({ now: () => WINTER }));
  const result = await registry.call("get_time", { timezone_name: "Mars/Base" });
  strictEqual(
    result.content,
    `{"error":"Unsupported timezone 'Mars/Base'. Use 'UTC' or 'local'."}`,
  );
});
