import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { guardStep } from "../../lib/pipeline/guard.ts";
import { ALICE, captureLogs, passes, ROOM, testCommand, testTurn } from "../fixtures/turns.ts";

const cases: Array<[what: string, admin: boolean, isAdmin: boolean, passes: boolean]> = [
  ["an admin command from an admin goes on", true, true, true],
  ["an admin command from anyone else is ignored", true, false, false],
  ["a user command from a user goes on", false, false, true],
  ["a user command from an admin goes on", false, true, true],
];

for (const [what, admin, isAdmin, want] of cases) {
  Deno.test(`guard: ${what}`, async () => {
    const turn = testTurn({ command: testCommand({ name: ".x", admin }), isAdmin });
    strictEqual(await passes(guardStep(), turn), want);
    strictEqual(turn.responder, undefined, "the guard never replies");
  });
}

Deno.test("guard: an ignored admin command is logged with who and where", async () => {
  using logs = captureLogs("info");
  await passes(guardStep(), testTurn({ command: testCommand({ name: ".clear", admin: true }) }));
  deepStrictEqual(logs.lines, [`INFO bot: ${ALICE} is not an admin; .clear in ${ROOM} ignored`]);
});
