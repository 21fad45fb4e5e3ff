import { deepStrictEqual } from "node:assert/strict";
import { respondStep } from "../../lib/pipeline/respond.ts";
import { Responder } from "../../lib/responder.ts";
import { MemoryRoomSettingsStore } from "../../lib/state/memory.ts";
import { MemoryPort } from "../fixtures/memory_port.ts";
import { memorySettings, passes, testCommand, testServices, testTurn } from "../fixtures/turns.ts";

const placeholder = testCommand({ name: ".ai", responder: "placeholder" });
const none = testCommand({ name: ".help", responder: "none" });

interface Case {
  what: string;
  command: typeof placeholder;
  thinking: boolean;
  placeholders?: boolean;
  /** Kinds of port events once the responder is finished. */
  want: string[];
}

const cases: Case[] = [
  {
    what: "a model command with .thinking on gets the placeholder (removed when not replaced)",
    command: placeholder,
    thinking: true,
    want: ["send", "redact"],
  },
  {
    what: "with .thinking off there is no placeholder",
    command: placeholder,
    thinking: false,
    want: [],
  },
  {
    what: "placeholders turned off by the bot's options never show",
    command: placeholder,
    thinking: true,
    placeholders: false,
    want: [],
  },
  {
    what: "a command without a responder gets neither placeholder nor typing",
    command: none,
    thinking: true,
    want: [],
  },
];

for (const c of cases) {
  Deno.test(`respond: ${c.what}`, async () => {
    const port = new MemoryPort();
    const services = testServices({ settings: memorySettings({ thinking: c.thinking }) });
    const turn = testTurn({ port, services, command: c.command, senderName: "Alice" });
    await passes(respondStep({ placeholders: c.placeholders }), turn);
    await turn.responder!.finish();
    deepStrictEqual(port.events.map((e) => e.kind), c.want);
  });
}

Deno.test("respond: the typing notice starts for a model command", async () => {
  const port = new MemoryPort();
  const turn = testTurn({ command: placeholder });
  turn.responder = new Responder(port, turn.msg, { typingDelayMs: 0 });
  await passes(respondStep({ placeholders: false }), turn, async () => {
    await new Promise((r) => setTimeout(r, 20));
  });
  await turn.responder.finish();
  deepStrictEqual(port.events.map((e) => e.kind === "typing" && e.typing), [true, false]);
});

for (
  const [what, options, thinking, streaming, room] of [
    ["streams with .thinking on", {}, true, true, undefined],
    ["does not stream when llm.stream is off", { stream: false }, true, false, undefined],
    ["does not stream with .thinking off", {}, false, false, undefined],
    [
      "does not stream when the bot shows no placeholders",
      { placeholders: false },
      true,
      false,
      undefined,
    ],
    ["does not stream in a room set to .room stream off", {}, true, false, false],
    [
      "streams in a room set to .room stream on, llm.stream off",
      { stream: false },
      true,
      true,
      true,
    ],
    ["does not stream with .thinking off even where the room streams", {}, false, false, true],
  ] as const
) {
  Deno.test(`respond: a model command ${what}`, async () => {
    const port = new MemoryPort();
    const rooms = new MemoryRoomSettingsStore();
    const services = testServices({ settings: memorySettings({ thinking }), rooms });
    const turn = testTurn({ port, services, command: placeholder, senderName: "Alice" });
    if (room !== undefined) rooms.set(turn.msg.room, "stream", room);
    await passes(respondStep(options), turn);
    deepStrictEqual(turn.responder!.streaming, streaming);
    await turn.responder!.finish();
  });
}
