import { deepStrictEqual, strictEqual } from "node:assert/strict";
import type { ChatPort } from "../../lib/chat_port.ts";
import { senderStep } from "../../lib/pipeline/sender.ts";
import { ALICE, captureLogs, passes, ROOM, testCommand, testTurn } from "../fixtures/turns.ts";

type Lookup = ChatPort["displayName"];

const cases: Array<[what: string, lookup: Lookup, want: string]> = [
  ["the display name is used", () => Promise.resolve("Alice"), "Alice"],
  ["an empty display name falls back to the Matrix ID", () => Promise.resolve(""), ALICE],
  [
    "a failed lookup falls back to the Matrix ID",
    () => Promise.reject(new Error("profile unavailable")),
    ALICE,
  ],
];

for (const [what, displayName, want] of cases) {
  Deno.test(`sender: ${what}`, async () => {
    const turn = testTurn({ command: testCommand({ name: ".ai" }) });
    strictEqual(await passes(senderStep({ displayName }), turn), true);
    strictEqual(turn.senderName, want);
  });
}

Deno.test("sender: the accepted command is logged with who, what and where", async () => {
  using logs = captureLogs("debug");
  const turn = testTurn({ command: testCommand({ name: ".ai" }), msg: { body: ".ai secret-ish" } });
  await passes(senderStep({ displayName: () => Promise.resolve("Alice") }), turn);
  deepStrictEqual(logs.lines, [
    `INFO bot: Alice (${ALICE}) sent .ai in ${ROOM}`,
    `DEBUG bot: Alice (${ALICE}) sent in ${ROOM}: .ai secret-ish`,
  ]);
});
