import { strictEqual } from "node:assert/strict";
import { mayChangeRoom, MODERATOR_LEVEL } from "../lib/handlers/room.ts";
import { creatorsPrivileged, powerLevelOf, type PowerLevelState } from "../lib/power_levels.ts";

const A = "@a:hs";
const B = "@b:hs";

Deno.test("a power level from the room's state, as the Matrix spec reads it", () => {
  const table: Array<[name: string, state: PowerLevelState, user: string, level: number]> = [
    ["listed", { powerLevels: { users: { [A]: 50 } }, creator: B }, A, 50],
    ["not listed: users_default", { powerLevels: { users: {}, users_default: 10 } }, A, 10],
    ["not listed, no default: 0", { powerLevels: { users: { [B]: 100 } } }, A, 0],
    ["a numeric string (old rooms)", { powerLevels: { users: { [A]: "75" } } }, A, 75],
    ["a word is no level", { powerLevels: { users: { [A]: "high" }, users_default: 5 } }, A, 5],
    ["no power levels: the creator has 100", { creator: A }, A, 100],
    ["no power levels: others 0", { creator: B }, A, 0],
    ["users not an object", { powerLevels: { users: [50] } }, A, 0],
    [
      "room v11: the creator is as listed",
      { powerLevels: { users: { [A]: 20 } }, create: { room_version: "11" }, creator: A },
      A,
      20,
    ],
    [
      "room v12: the creator above all",
      { powerLevels: { users: {} }, create: { room_version: "12" }, creator: A },
      A,
      Infinity,
    ],
    [
      "room v12: an additional creator too",
      {
        powerLevels: { users: {} },
        create: { room_version: "12", additional_creators: [A] },
        creator: B,
      },
      A,
      Infinity,
    ],
  ];
  for (const [name, state, user, level] of table) {
    strictEqual(powerLevelOf(state, user), level, name);
  }
});

Deno.test("creators are privileged from room version 12 on", () => {
  const table: Array<[string, boolean]> = [
    ["1", false],
    ["11", false],
    ["12", true],
    ["13", true],
    ["org.matrix.hydra.11", true],
    ["org.example.custom", false],
  ];
  for (const [version, privileged] of table) strictEqual(creatorsPrivileged(version), privileged);
});

Deno.test("who may change room settings: bot admins and moderators (power level 50 or more)", () => {
  strictEqual(MODERATOR_LEVEL, 50);
  const table: Array<[isAdmin: boolean, powerLevel: number, may: boolean]> = [
    [true, 0, true],
    [false, 0, false],
    [false, 49, false],
    [false, 50, true],
    [false, 100, true],
    [false, Infinity, true],
    [false, -10, false],
  ];
  for (const [isAdmin, powerLevel, may] of table) {
    strictEqual(mayChangeRoom({ isAdmin, powerLevel }), may, `${isAdmin} ${powerLevel}`);
  }
});
