/**
 * What a long-running bot keeps in memory of a conversation: the Matrix
 * SDK's timeline and relations (each answer's edit) of a room are dropped
 * once there are more than `TIMELINE_KEEP`, so memory stays flat however
 * long the bot runs (docs/performance.md).
 *
 * @module
 */
import { ok } from "node:assert/strict";
import { TIMELINE_KEEP } from "../../lib/matrix_intake.ts";
import { scenario, waitFor } from "./helpers.ts";

Deno.test({
  name:
    "a long conversation: the bot keeps at most TIMELINE_KEEP timeline events of a room in memory, and relations only of those",
  ignore: Deno.build.os === "windows", // SIGUSR1
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    // With the thinking placeholder each answer is an edit: a relation.
    const s = await scenario({ config: { llm: { thinking: true } } });
    try {
      // Each answer is three events (question, placeholder, its edit) and one relation.
      const asks = Math.ceil(TIMELINE_KEEP / 3) + 5;
      for (let i = 0; i < asks; i++) await s.ask(`long ${i}`);
      // Timelines are trimmed when a sync ends with nothing in progress in the room;
      // a typing notice makes the next sync come now.
      let last = "";
      for (let i = 0; i < 60; i++) {
        await s.alice.client.sendTyping(s.room, i % 2 === 0, 2000);
        const from = s.bot.log.length;
        Deno.kill(s.bot.pid, "SIGUSR1");
        last = await waitFor(
          "the Stats line",
          () => s.bot.log.slice(from).find((l) => l.includes("Stats: ")),
          10_000,
        );
        const m = /(\d+) timeline events in memory, relations of (\d+) events/.exec(last);
        ok(m, last);
        // More events than kept came: a trim dropped events, and their relations with them.
        const [events, related] = [Number(m[1]), Number(m[2])];
        if (events <= TIMELINE_KEEP && related < asks) return;
        await new Promise((r) => setTimeout(r, 500));
      }
      ok(false, `after ${asks} answers: ${last}`);
    } finally {
      await s.close();
    }
  },
});
