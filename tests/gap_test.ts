import { deepStrictEqual } from "node:assert/strict";
import { type GapContext, type RawEvent, scanGapPage } from "../lib/gap.ts";

const BOT = "@bot:hs";
const NOW = 1_800_000_000_000;

const msg = (id: string, sender = "@alice:hs", ageS = 10): RawEvent => ({
  event_id: id,
  type: "m.room.encrypted",
  sender,
  origin_server_ts: NOW - ageS * 1000,
  content: {},
});
const member = (id: string, membership: string): RawEvent => ({
  event_id: id,
  type: "m.room.member",
  sender: BOT,
  state_key: BOT,
  content: { membership },
});

const ctx = (seen: string[] = [], windowSeconds = 600): GapContext => ({
  botUserId: BOT,
  seen: (id) => seen.includes(id),
  windowSeconds,
  now: NOW,
});

Deno.test("a gap page: what is answered and where the scan stops", () => {
  const table: Array<[string, RawEvent[], GapContext, string[], string | undefined]> = [
    ["all new: take them all, fetch on", [msg("$3"), msg("$2")], ctx(), ["$3", "$2"], undefined],
    [
      "stops at the first message received before",
      [msg("$3"), msg("$2"), msg("$1")],
      ctx([
        "$2",
      ]),
      ["$3"],
      "received",
    ],
    ["the bot's own messages are skipped", [msg("$3"), msg("$b", BOT), msg("$2")], ctx(), [
      "$3",
      "$2",
    ], undefined],
    ["stops at the bot's own join", [msg("$3"), member("$j", "join"), msg("$2")], ctx(), [
      "$3",
    ], "joined"],
    [
      "the bot's invite is not its join",
      [
        msg("$3"),
        member("$i", "invite"),
        msg("$2"),
      ],
      ctx(),
      ["$3", "$2"],
      undefined,
    ],
    ["stops at the edge of the window", [msg("$3", "@a:hs", 10), msg("$2", "@a:hs", 700)], ctx(), [
      "$3",
    ], "too old"],
    ["a window of 0 answers nothing", [msg("$3")], ctx([], 0), [], "too old"],
    [
      "after a lost store, the bot's own last message ends the scan",
      [msg("$3"), msg("$b", BOT), msg("$2")],
      { ...ctx(), stopAtOwnMessage: true },
      ["$3"],
      "the bot's last message",
    ],
    [
      "other event types are passed over",
      [{ event_id: "$r", type: "m.reaction" }, msg("$2")],
      ctx(),
      [
        "$2",
      ],
      undefined,
    ],
  ];
  for (const [what, chunk, c, ids, stop] of table) {
    const page = scanGapPage(chunk, c);
    deepStrictEqual([page.found.map((e) => e.event_id), page.stop], [ids, stop], what);
  }
});
