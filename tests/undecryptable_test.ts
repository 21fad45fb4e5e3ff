import { deepStrictEqual, strictEqual } from "node:assert/strict";
import {
  lateAnswerSeconds,
  NOTICE_INTERVAL_MS,
  NoticeLimiter,
  undecryptableNotice,
} from "../lib/undecryptable.ts";

Deno.test("the notice names the sender and says what to do", () => {
  strictEqual(
    undecryptableNotice("Alice"),
    "Alice, I can't read your encrypted message yet. If this keeps happening, verify me or send it again.",
  );
});

Deno.test("a user is told at most once per room per hour", () => {
  const limiter = new NoticeLimiter();
  const t = 1_000_000;
  const table: Array<[string, string, string, number, boolean]> = [
    ["first time", "!a", "@u", t, true],
    ["same user, same room, a minute later", "!a", "@u", t + 60_000, false],
    ["another user in that room", "!a", "@v", t + 60_000, true],
    ["the same user in another room", "!b", "@u", t + 60_000, true],
    ["just under an hour after the first", "!a", "@u", t + NOTICE_INTERVAL_MS - 1, false],
    ["an hour after the first", "!a", "@u", t + NOTICE_INTERVAL_MS, true],
  ];
  deepStrictEqual(
    table.map(([what, room, user, now]) => [what, limiter.take(room, user, now)]),
    table.map(([what, , , , expected]) => [what, expected]),
  );
});

Deno.test("late keys: answered within the catch-up window, never less than the wait", () => {
  strictEqual(lateAnswerSeconds(600, 30), 600);
  strictEqual(lateAnswerSeconds(0, 30), 30);
  strictEqual(lateAnswerSeconds(10, 30), 30);
});
