import { deepStrictEqual } from "node:assert/strict";
import { resolveRoomRefs } from "../lib/matrix_rooms.ts";

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
