import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { LlmError } from "../../lib/llm.ts";
import { boundaryStep } from "../../lib/pipeline/boundary.ts";
import { MemoryPort } from "../fixtures/memory_port.ts";
import { ALICE, captureLogs, ROOM, testCommand, testTurn } from "../fixtures/turns.ts";

function setup() {
  const port = new MemoryPort();
  const turn = testTurn({ port, command: testCommand({ name: ".ai" }) });
  return { port, turn };
}

Deno.test("boundary: a turn that went through is answered, with nothing added", async () => {
  const { port, turn } = setup();
  await boundaryStep(new AbortController().signal)(turn, () => Promise.resolve());
  strictEqual(turn.outcome, "answered");
  deepStrictEqual(port.events, []);
});

Deno.test("boundary: anything thrown is answered as an internal error and logged with its stack", async () => {
  using logs = captureLogs("info");
  const { port, turn } = setup();
  await boundaryStep(new AbortController().signal)(turn, () => {
    throw new Error("state database is gone");
  });
  strictEqual(turn.outcome, "answered");
  deepStrictEqual(port.visible(), ["Something went wrong (an internal error)"]);
  strictEqual(logs.lines.length, 1);
  strictEqual(
    logs.lines[0].startsWith(
      `ERROR bot: .ai from ${ALICE} in ${ROOM} failed: Error: state database is gone`,
    ),
    true,
    logs.lines[0],
  );
});

Deno.test("boundary: a model failure is answered with its reason, without an error log", async () => {
  using logs = captureLogs("info");
  const { port, turn } = setup();
  await boundaryStep(new AbortController().signal)(turn, () => {
    throw new LlmError("the model provider timed out");
  });
  deepStrictEqual(port.visible(), ["Something went wrong (the model provider timed out)"]);
  deepStrictEqual(logs.lines, []);
});

Deno.test("boundary: a failure at shutdown is not answered: the turn is interrupted", async () => {
  using logs = captureLogs("info");
  const { port, turn } = setup();
  const abort = new AbortController();
  abort.abort(new Error("shutting down"));
  await boundaryStep(abort.signal)(turn, () => {
    throw new LlmError("the request was cancelled");
  });
  strictEqual(turn.outcome, "interrupted");
  deepStrictEqual(port.events, []);
  deepStrictEqual(logs.lines, [`INFO bot: .ai from ${ALICE} in ${ROOM} interrupted by shutdown`]);
});

Deno.test("boundary: the error reply replaces the placeholder", async () => {
  const { port, turn } = setup();
  await boundaryStep(new AbortController().signal)(turn, () => {
    turn.responder!.start("Alice", { placeholder: true, stream: false });
    return Promise.reject(new Error("disk full"));
  });
  strictEqual(port.events.filter((e) => e.kind === "send").length, 1);
  deepStrictEqual(port.visible(), ["Something went wrong (an internal error)"]);
});
