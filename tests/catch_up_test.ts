import { strictEqual } from "node:assert/strict";
import { catchUpVerdict, eventAgeMs, skippedLine } from "../lib/catch_up.ts";

const NOW = 1_800_000_000_000;

const ages: Array<{
  name: string;
  event: Record<string, unknown>;
  receivedAt: number;
  expect: number | undefined;
}> = [
  {
    name: "the homeserver's age, just received",
    event: { origin_server_ts: NOW - 5_000, unsigned: { age: 5_000 } },
    receivedAt: NOW,
    expect: 5_000,
  },
  {
    name: "the homeserver's age plus the time since it was received (an inbox leftover)",
    event: { origin_server_ts: NOW - 700_000, unsigned: { age: 100_000 } },
    receivedAt: NOW - 600_000,
    expect: 700_000,
  },
  {
    name: "the age wins over a timestamp from a homeserver whose clock runs an hour ahead",
    event: { origin_server_ts: NOW + 3_600_000, unsigned: { age: 2_000 } },
    receivedAt: NOW,
    expect: 2_000,
  },
  {
    name: "the age wins over a timestamp from a homeserver whose clock runs an hour behind",
    event: { origin_server_ts: NOW - 3_600_000, unsigned: { age: 2_000 } },
    receivedAt: NOW,
    expect: 2_000,
  },
  {
    name: "no age: now minus the server timestamp",
    event: { origin_server_ts: NOW - 42_000 },
    receivedAt: NOW,
    expect: 42_000,
  },
  {
    name: "an age that is not a number is ignored",
    event: { origin_server_ts: NOW - 42_000, unsigned: { age: "5" } },
    receivedAt: NOW,
    expect: 42_000,
  },
  {
    name: "a receive time in the future (the bot's clock went back) adds nothing",
    event: { unsigned: { age: 1_000 } },
    receivedAt: NOW + 60_000,
    expect: 1_000,
  },
  { name: "neither age nor timestamp", event: {}, receivedAt: NOW, expect: undefined },
];

for (const c of ages) {
  Deno.test(`eventAgeMs: ${c.name}`, () => {
    strictEqual(eventAgeMs(c.event, c.receivedAt, NOW), c.expect);
  });
}

const verdicts: Array<[string, number | undefined, number, "answer" | "skip"]> = [
  ["a message of 5 s within 600 s is answered", 5_000, 600, "answer"],
  ["a message of exactly the window is answered", 600_000, 600, "answer"],
  ["a message 1 ms older than the window is skipped", 600_001, 600, "skip"],
  ["a message of an hour with the default window is skipped", 3_600_000, 600, "skip"],
  ["window 0 skips even a fresh message", 0, 0, "skip"],
  ["window 0 skips a message without a timestamp", undefined, 0, "skip"],
  ["a message without any timestamp is answered", undefined, 600, "answer"],
  ["a negative age (clock skew) is answered", -30_000, 600, "answer"],
  ["a short window of 2 s skips a message of 2.5 s", 2_500, 2, "skip"],
];

for (const [name, age, window, expect] of verdicts) {
  Deno.test(`catchUpVerdict: ${name}`, () => {
    strictEqual(catchUpVerdict(age, window), expect);
  });
}

Deno.test("skippedLine names the count and the window in one line", () => {
  strictEqual(
    skippedLine(3, 600),
    "Not answering 3 messages that arrived while the bot was down and are older than matrix.catch_up_seconds (600 s)",
  );
  strictEqual(
    skippedLine(1, 600),
    "Not answering 1 message that arrived while the bot was down and is older than matrix.catch_up_seconds (600 s)",
  );
  strictEqual(
    skippedLine(2, 0),
    "Not answering 2 messages that arrived while the bot was down (matrix.catch_up_seconds is 0)",
  );
});
