import { strictEqual } from "node:assert/strict";
import type { IncomingMessage } from "../../lib/chat_port.ts";
import { type IntakeOptions, intakeStep } from "../../lib/pipeline/intake.ts";
import { ADMIN, ALICE, passes, ROOM, testTurn } from "../fixtures/turns.ts";

const BOT = "@bot:test";
const BOB = "@bob:test";

interface Case {
  name: string;
  msg?: Partial<IncomingMessage>;
  options?: Partial<IntakeOptions>;
  /** Whether the message goes on, and (if so) whether its sender is an admin. */
  want: false | { isAdmin: boolean };
}

const cases: Case[] = [
  { name: "a user's message goes on", want: { isAdmin: false } },
  {
    name: "an admin's message goes on as an admin's",
    msg: { sender: ADMIN },
    want: { isAdmin: true },
  },
  { name: "the bot's own message is ignored", msg: { sender: BOT }, want: false },
  {
    name: "a message without a text body is ignored",
    msg: { body: undefined as unknown as string },
    want: false,
  },
  {
    name: "a message without a room is ignored",
    msg: { room: 42 as unknown as string },
    want: false,
  },
  {
    name: "a message from a room not served is ignored",
    options: { allowedRooms: new Set(["!other:test"]) },
    want: false,
  },
  {
    name: "a message from a served room goes on",
    options: { allowedRooms: new Set([ROOM]) },
    want: { isAdmin: false },
  },
  {
    name: "an admin in a room not served is ignored too",
    msg: { sender: ADMIN },
    options: { allowedRooms: new Set(["!other:test"]) },
    want: false,
  },
  {
    name: "with allowed_users, a listed user goes on",
    options: { allowedUsers: [ALICE] },
    want: { isAdmin: false },
  },
  {
    name: "with allowed_users, an unlisted user is ignored",
    msg: { sender: BOB },
    options: { allowedUsers: [ALICE] },
    want: false,
  },
  {
    name: "with allowed_users, an unlisted admin goes on",
    msg: { sender: ADMIN },
    options: { allowedUsers: [ALICE] },
    want: { isAdmin: true },
  },
  {
    name: "admins are matched by Matrix ID only, not by display name (decision 16)",
    options: { admins: [ADMIN, "Alice"] },
    want: { isAdmin: false },
  },
];

for (const c of cases) {
  Deno.test(`intake: ${c.name}`, async () => {
    const turn = testTurn({ msg: c.msg });
    const step = intakeStep({ userId: BOT, admins: [ADMIN], ...c.options });
    const went = await passes(step, turn);
    strictEqual(went, c.want !== false);
    if (c.want) strictEqual(turn.isAdmin, c.want.isAdmin);
    strictEqual(turn.outcome, "ignored");
  });
}
