/**
 * The RoomSettingsStore contract, run against the SQLite and the memory
 * implementation alike (tests/state/backends.ts), and the precedence of
 * personal, room and global values.
 */
import { deepStrictEqual, strictEqual } from "node:assert/strict";
import {
  effectiveModel,
  effectiveStream,
  effectiveTools,
  roomSettingsFrom,
} from "../../lib/state/room_settings.ts";
import { contract } from "./backends.ts";

contract("RoomSettingsStore", "keeps each room's settings apart and across a reopen", (t) => {
  const rooms = t.rooms();
  deepStrictEqual(rooms.get("!a:t"), {});
  rooms.set("!a:t", "model", "m2");
  rooms.set("!a:t", "persona", "a pirate\nwho rhymes");
  rooms.set("!a:t", "tools", false);
  rooms.set("!b:t", "stream", true);
  const again = t.reopen().rooms();
  deepStrictEqual(again.get("!a:t"), {
    model: "m2",
    persona: "a pirate\nwho rhymes",
    tools: false,
  });
  deepStrictEqual(again.get("!b:t"), { stream: true });
});

contract("RoomSettingsStore", "undefined clears one setting; clearAll clears every room", (t) => {
  const rooms = t.rooms();
  rooms.set("!a:t", "model", "m2");
  rooms.set("!a:t", "tools", true);
  rooms.set("!b:t", "tools", true);
  rooms.set("!a:t", "model", undefined);
  deepStrictEqual(rooms.get("!a:t"), { tools: true });
  rooms.clearAll();
  deepStrictEqual([rooms.get("!a:t"), rooms.get("!b:t")], [{}, {}]);
});

contract("RoomSettingsStore", "a stored value of the wrong type or unreadable is left out", (t) => {
  t.storeRoomSetting("!a:t", "tools", '"yes"');
  t.storeRoomSetting("!a:t", "model", "{");
  t.storeRoomSetting("!a:t", "stream", "false");
  t.storeRoomSetting("!a:t", "colour", '"red"');
  deepStrictEqual(t.rooms().get("!a:t"), { stream: false });
});

Deno.test("roomSettingsFrom reads only known names with values of their type", () => {
  const table: Array<[Array<[string, string]>, object]> = [
    [[], {}],
    [[["model", '"m1"'], ["persona", '"p"']], { model: "m1", persona: "p" }],
    [[["model", '""'], ["persona", "7"]], {}],
    [[["tools", "true"], ["stream", "0"]], { tools: true }],
    [[["__proto__", '"x"'], ["toString", '"y"']], {}],
  ];
  for (const [rows, expected] of table) deepStrictEqual(roomSettingsFrom(rows), expected);
});

Deno.test("the model: personal over room over global, unlisted ones passed over", () => {
  const known = (m: string) => ["g", "r", "p"].includes(m);
  const table: Array<[personal: string | undefined, room: string | undefined, expected: string]> = [
    [undefined, undefined, "global g"],
    [undefined, "r", "room r"],
    ["p", "r", "personal p"],
    ["p", undefined, "personal p"],
    ["gone", "r", "room r"],
    ["gone", "gone too", "global g"],
    [undefined, "gone", "global g"],
  ];
  for (const [personal, room, expected] of table) {
    const got = effectiveModel({ personal, room, global: "g", known });
    strictEqual(`${got.source} ${got.model}`, expected, `${personal} / ${room}`);
  }
});

Deno.test("tools: the room's switch over the global one, never without tools", () => {
  const table: Array<
    [room: boolean | undefined, global: boolean, available: boolean, on: boolean]
  > = [
    [undefined, true, true, true],
    [undefined, false, true, false],
    [false, true, true, false],
    [true, false, true, true],
    [true, true, false, false],
  ];
  for (const [room, global, available, on] of table) {
    strictEqual(effectiveTools({ room, global, available }), on, `${room} ${global} ${available}`);
  }
});

Deno.test("stream: the room's switch over the bot's", () => {
  strictEqual(effectiveStream({ global: true }), true);
  strictEqual(effectiveStream({ room: false, global: true }), false);
  strictEqual(effectiveStream({ room: true, global: false }), true);
});
