import { deepStrictEqual } from "node:assert/strict";
import type * as sdk from "matrix-js-sdk";
import { MatrixRooms, resolveRoomRefs } from "../lib/matrix_rooms.ts";

Deno.test("allowed_rooms: room IDs of every version are taken as they are, aliases resolved", async () => {
  const v12 = "!pbPNIxnaXPE-mgjkvK2X0Pytc1LxC48ysmWwZJkVZ-w";
  const asked: string[] = [];
  const ids = await resolveRoomRefs(
    [v12, "!old:matrix.test", "#ai:matrix.test", "#gone:matrix.test"],
    (alias) => {
      asked.push(alias);
      return alias === "#ai:matrix.test"
        ? Promise.resolve("!resolved:matrix.test")
        : Promise.reject(new Error("M_NOT_FOUND"));
    },
  );
  deepStrictEqual([...ids], [v12, "!old:matrix.test", "!resolved:matrix.test"]);
  deepStrictEqual(asked, ["#ai:matrix.test", "#gone:matrix.test"], "IDs are never looked up");
});

/** A client with one room, as much of it as `isDirect` reads. */
function stubClient(room: {
  joined: string[];
  own?: { content?: Record<string, unknown>; prev?: Record<string, unknown> };
  mDirect?: Record<string, string[]>;
}) {
  const client = {
    getRoom: (roomId: string) =>
      roomId !== "!dm:test" ? null : {
        roomId,
        getJoinedMembers: () => room.joined.map((userId) => ({ userId })),
        getMember: (userId: string) =>
          userId !== BOT ? null : {
            events: {
              member: {
                getContent: () => room.own?.content ?? { membership: "join" },
                getPrevContent: () => room.own?.prev ?? {},
              },
            },
          },
      },
    getAccountData: (type: string) =>
      type === "m.direct" && room.mDirect ? { getContent: () => room.mDirect } : undefined,
  };
  return new MatrixRooms(client as unknown as sdk.MatrixClient, {
    userId: BOT,
    channels: [],
    admins: [],
    botName: () => "Bot",
    signal: new AbortController().signal,
  });
}

const BOT = "@bot:test";
const directCases: Array<[string, Parameters<typeof stubClient>[0], boolean]> = [
  ["listed in m.direct, the bot and one user", {
    joined: [BOT, "@u:test"],
    mDirect: { "@u:test": ["!dm:test"] },
  }, true],
  ["joined from a direct invite (prev_content)", {
    joined: [BOT, "@u:test"],
    own: { prev: { membership: "invite", is_direct: true } },
  }, true],
  ["a room of two never marked direct", { joined: [BOT, "@u:test"] }, false],
  ["marked, but a third member joined", {
    joined: [BOT, "@u:test", "@v:test"],
    mDirect: { "@u:test": ["!dm:test"] },
  }, false],
  ["m.direct listing other rooms only", {
    joined: [BOT, "@u:test"],
    mDirect: { "@u:test": ["!other:test"] },
  }, false],
];
for (const [name, room, want] of directCases) {
  Deno.test(`isDirect: ${name}`, () => {
    deepStrictEqual(stubClient(room).isDirect("!dm:test"), want);
  });
}

Deno.test("isDirect: a room the bot does not know is not direct", () => {
  deepStrictEqual(stubClient({ joined: [] }).isDirect("!unknown:test"), false);
});
