import { strictEqual } from "node:assert/strict";
import { isRoomAlias, isRoomId, isRoomRef } from "../lib/room_ref.ts";

// A real room version 12 ID (Synapse 1.160, createRoom with room_version "12").
const V12 = "!pbPNIxnaXPE-mgjkvK2X0Pytc1LxC48ysmWwZJkVZ-w";

const cases: Array<[string, string, { id: boolean; alias: boolean }]> = [
  ["a room ID with a server part", "!abcDEF:matrix.test", { id: true, alias: false }],
  ["a room ID with a server and port", "!abc:matrix.test:8448", { id: true, alias: false }],
  ["a room version 12 ID (no server part)", V12, { id: true, alias: false }],
  ["a room version 12 ID with _ and -", "!" + "_-".repeat(21) + "A", { id: true, alias: false }],
  ["a room alias", "#ai:matrix.test", { id: false, alias: true }],
  ["an alias without a server", "#ai", { id: false, alias: false }],
  ["a short ID without a server", "!abc", { id: false, alias: false }],
  ["a room version 12 ID one character short", V12.slice(0, -1), { id: false, alias: false }],
  ["a room version 12 ID one character long", V12 + "A", { id: false, alias: false }],
  ["a padded base64 ID", V12.slice(0, -1) + "=", { id: false, alias: false }],
  ["standard base64 (+ and /)", "!" + "+/".repeat(21) + "A", { id: false, alias: false }],
  ["an empty localpart", "!:matrix.test", { id: false, alias: false }],
  ["a space inside", "!ab c:matrix.test", { id: false, alias: false }],
  ["a user ID", "@user:matrix.test", { id: false, alias: false }],
  ["a bare name", "ai", { id: false, alias: false }],
  ["an empty string", "", { id: false, alias: false }],
];

for (const [name, ref, expect] of cases) {
  Deno.test(`room references: ${name}`, () => {
    strictEqual(isRoomId(ref), expect.id, "isRoomId");
    strictEqual(isRoomAlias(ref), expect.alias, "isRoomAlias");
    strictEqual(isRoomRef(ref), expect.id || expect.alias, "isRoomRef");
  });
}
