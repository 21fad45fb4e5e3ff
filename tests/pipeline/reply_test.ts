import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { replyStep } from "../../lib/pipeline/reply.ts";
import { Responder } from "../../lib/responder.ts";
import { MemoryPort } from "../fixtures/memory_port.ts";
import { ROOM, testTurn } from "../fixtures/turns.ts";

const options = { typingDelayMs: 10_000, animationMs: 10_000, placeholderDelayMs: 0 };

Deno.test("reply: the steps after it find a responder on the turn", async () => {
  const port = new MemoryPort();
  const turn = testTurn();
  await replyStep(port, options)(turn, async () => {
    ok(turn.responder instanceof Responder);
    await turn.responder.reply("hello");
  });
  deepStrictEqual(port.visible(), ["hello"]);
});

Deno.test("reply: a placeholder nobody replaced is removed afterwards", async () => {
  const port = new MemoryPort();
  const turn = testTurn();
  await replyStep(port, options)(turn, () => {
    turn.responder!.start("Alice", { placeholder: true, stream: false });
    turn.outcome = "answered";
    return Promise.resolve();
  });
  const [placeholder] = port.events;
  strictEqual(placeholder.kind, "send");
  deepStrictEqual(port.events.slice(1), [
    { kind: "redact", room: ROOM, target: (placeholder as { eventId: string }).eventId },
  ]);
});

Deno.test("reply: an interrupted turn keeps its placeholder for the answer after the restart", async () => {
  const port = new MemoryPort();
  const turn = testTurn();
  await replyStep(port, options)(turn, () => {
    turn.responder!.start("Alice", { placeholder: true, stream: false });
    turn.outcome = "interrupted";
    return Promise.resolve();
  });
  deepStrictEqual(port.visible(), ["**Alice**:\nThinking."]);
});

Deno.test("reply: the responder is finished when a later step throws, and the error goes on", async () => {
  const port = new MemoryPort();
  const turn = testTurn();
  await rejects(
    Promise.resolve(
      replyStep(port, { typingDelayMs: 0 })(turn, async () => {
        turn.responder!.start("Alice", { placeholder: false, stream: false });
        await new Promise((r) => setTimeout(r, 20));
        throw new Error("boom");
      }),
    ),
    /boom/,
  );
  // The typing notice was turned on while waiting and is off again.
  deepStrictEqual(port.events.map((e) => e.kind === "typing" && e.typing), [true, false]);
});
