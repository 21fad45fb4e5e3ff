import { deepStrictEqual, strictEqual } from "node:assert/strict";
import {
  answerInvite,
  type DirectFacts,
  type InviteFacts,
  isDirectChat,
  JoinBoundary,
} from "../lib/joins.ts";

const ROOM = "!room:test";
const OTHER = "!other:test";

/** One step a sync delivers, in order: a message, the bot's membership, or the end of the sync. */
type Step =
  | { msg: string; room?: string }
  | { own: string; room?: string }
  | { end: string[] };

/** The messages that are candidates when the steps arrive in this order. */
function candidates(joinedAtStart: string[], steps: Step[]): string[] {
  const boundary = new JoinBoundary();
  boundary.syncEnded(joinedAtStart);
  const out: string[] = [];
  for (const step of steps) {
    if ("end" in step) boundary.syncEnded(step.end);
    else if ("own" in step) boundary.ownMembership(step.room ?? ROOM, step.own);
    else if (boundary.afterJoin(step.room ?? ROOM)) out.push(step.msg);
  }
  return out;
}

const cases: Array<{ name: string; joined: string[]; steps: Step[]; expect: string[] }> = [
  {
    name: "a room joined at this start: the sync replays history, the invite, then the join",
    joined: [],
    steps: [
      { msg: "before invite" },
      { own: "invite" },
      { msg: "while invited" },
      { own: "join" },
      { msg: "after join" },
      { end: [ROOM] },
      { msg: "next sync" },
    ],
    expect: ["after join", "next sync"],
  },
  {
    name: "the join is the last event of its sync: nothing of that sync is a candidate",
    joined: [],
    steps: [{ msg: "old 1" }, { msg: "old 2" }, { own: "join" }, { end: [ROOM] }, { msg: "new" }],
    expect: ["new"],
  },
  {
    name: "a room joined at the end of the previous sync: everything live is a candidate",
    joined: [ROOM],
    steps: [{ msg: "a" }, { msg: "b" }],
    expect: ["a", "b"],
  },
  {
    name: "an invited room, never joined: nothing",
    joined: [],
    steps: [{ own: "invite" }, { msg: "while invited" }, { end: [] }, { msg: "still invited" }],
    expect: [],
  },
  {
    name: "left (kicked) and joined again: the time outside is history",
    joined: [ROOM],
    steps: [
      { msg: "in" },
      { own: "leave" },
      { msg: "outside" },
      { own: "invite" },
      { msg: "invited again" },
      { own: "join" },
      { msg: "back" },
    ],
    expect: ["in", "back"],
  },
  {
    name: "a display-name change of the bot (join after join) changes nothing",
    joined: [ROOM],
    steps: [{ msg: "a" }, { own: "join" }, { msg: "b" }],
    expect: ["a", "b"],
  },
  {
    name: "joins are per room",
    joined: [OTHER],
    steps: [
      { msg: "here, before", room: ROOM },
      { msg: "there", room: OTHER },
      { own: "join", room: ROOM },
      { msg: "here, after", room: ROOM },
    ],
    expect: ["there", "here, after"],
  },
  {
    name: "a join whose event the sync did not carry (a gap) counts from the end of that sync",
    joined: [],
    steps: [{ msg: "in the gapped sync" }, { end: [ROOM] }, { msg: "later" }],
    expect: ["later"],
  },
  {
    name: "a room left during the previous sync is not joined any more",
    joined: [ROOM],
    steps: [{ end: [] }, { msg: "after leaving" }],
    expect: [],
  },
];

for (const c of cases) {
  Deno.test(`JoinBoundary: ${c.name}`, () => {
    deepStrictEqual(candidates(c.joined, c.steps), c.expect);
  });
}

const base: InviteFacts = {
  inviter: "@bob:test",
  admins: ["@admin:test"],
  allowedUsers: undefined,
  channel: false,
  joined: false,
};

const invites: Array<{ name: string; facts: Partial<InviteFacts>; action: string }> = [
  { name: "a non-admin's invite to another room is declined", facts: {}, action: "leave" },
  { name: "an admin's invite is accepted", facts: { inviter: "@admin:test" }, action: "join" },
  {
    name: "an invite to a channel is accepted from anyone",
    facts: { channel: true },
    action: "join",
  },
  {
    name: "an invite to a channel is accepted even when allowed_users leaves the inviter out",
    facts: { channel: true, allowedUsers: ["@carol:test"] },
    action: "join",
  },
  {
    name: "an allowed user's invite is accepted",
    facts: { allowedUsers: ["@bob:test"] },
    action: "join",
  },
  {
    name: "a user outside allowed_users is declined",
    facts: { allowedUsers: ["@carol:test"] },
    action: "leave",
  },
  {
    name: "a stale invite to a room already joined is never answered with a leave",
    facts: { joined: true },
    action: "none",
  },
  {
    name: "a stale invite to a joined channel needs no answer",
    facts: { joined: true, channel: true },
    action: "none",
  },
  {
    name: "an admin's stale invite to a joined room needs no answer",
    facts: { joined: true, inviter: "@admin:test" },
    action: "none",
  },
];

for (const c of invites) {
  Deno.test(`answerInvite: ${c.name}`, () => {
    deepStrictEqual(answerInvite({ ...base, ...c.facts }).action, c.action);
  });
}

Deno.test("answerInvite: the decline reason is the one the docs quote", () => {
  deepStrictEqual(answerInvite(base).reason, "only admins may invite the bot");
  deepStrictEqual(
    answerInvite({ ...base, allowedUsers: [] }).reason,
    "only admins and allowed users may invite the bot",
  );
});

const directCases: Array<[string, DirectFacts, boolean]> = [
  [
    "marked, the bot and one user",
    { marked: true, joined: ["@b:t", "@u:t"], botUserId: "@b:t" },
    true,
  ],
  ["not marked", { marked: false, joined: ["@b:t", "@u:t"], botUserId: "@b:t" }, false],
  ["grown to three members", {
    marked: true,
    joined: ["@b:t", "@u:t", "@v:t"],
    botUserId: "@b:t",
  }, false],
  ["the user left", { marked: true, joined: ["@b:t"], botUserId: "@b:t" }, false],
  [
    "two others, the bot not joined",
    { marked: true, joined: ["@u:t", "@v:t"], botUserId: "@b:t" },
    false,
  ],
];
for (const [name, facts, want] of directCases) {
  Deno.test(`isDirectChat: ${name}`, () => {
    strictEqual(isDirectChat(facts), want);
  });
}
