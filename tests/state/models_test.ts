/**
 * The PersonalModelStore contract, run against the SQLite and the memory
 * implementation alike (tests/state/backends.ts).
 */
import { strictEqual } from "node:assert/strict";
import { contract } from "./backends.ts";

const ROOM = "!room:hs";
const OTHER_ROOM = "!other:hs";
const ALICE = "@alice:hs";
const BOB = "@bob:hs";

contract("PersonalModelStore", "set, get and clear per room and user, durably", (t) => {
  const models = t.models();
  strictEqual(models.get(ROOM, ALICE), undefined);
  models.set(ROOM, ALICE, "gpt-5-mini");
  models.set(ROOM, ALICE, "qwen3:8b");
  models.set(OTHER_ROOM, ALICE, "gpt-4.1-nano");
  const reopened = t.reopen().models();
  strictEqual(reopened.get(ROOM, ALICE), "qwen3:8b");
  strictEqual(reopened.get(OTHER_ROOM, ALICE), "gpt-4.1-nano");
  strictEqual(reopened.get(ROOM, BOB), undefined);
  strictEqual(reopened.clear(ROOM, ALICE), true);
  strictEqual(reopened.clear(ROOM, ALICE), false);
  strictEqual(reopened.get(ROOM, ALICE), undefined);
  strictEqual(reopened.get(OTHER_ROOM, ALICE), "gpt-4.1-nano");
});

contract("PersonalModelStore", "clearAll removes every personal model", (t) => {
  const models = t.models();
  models.set(ROOM, ALICE, "a");
  models.set(OTHER_ROOM, BOB, "b");
  models.clearAll();
  strictEqual(models.get(ROOM, ALICE), undefined);
  strictEqual(models.get(OTHER_ROOM, BOB), undefined);
});
