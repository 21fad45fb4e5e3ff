import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { stripReasoning } from "../lib/reasoning.ts";
import { type CompletionChunk, StreamAssembler, visibleText } from "../lib/stream_text.ts";

// --- visibleText: what may be shown while an answer streams ---

const VISIBLE: Array<{ what: string; raw: string; shown: string }> = [
  { what: "plain text as it is", raw: "Hello wor", shown: "Hello wor" },
  { what: "nothing yet", raw: "", shown: "" },
  { what: "a lone opening bracket held back", raw: "a <", shown: "a" },
  { what: "a half-received <think> held back", raw: "<thi", shown: "" },
  { what: "an open <think> block: nothing of it", raw: "<think>I should", shown: "" },
  {
    what: "text before an open <think> held back too (the final text drops it)",
    raw: "Sure. <think>hmm",
    shown: "",
  },
  { what: "a closed <think> block cut", raw: "<think>hmm</think>The answer", shown: "The answer" },
  { what: "a half-received closing marker held back", raw: "<think>hmm</thi", shown: "" },
  { what: "an open thought block: nothing of it", raw: "<|begin_of_thought|>plan", shown: "" },
  {
    what: "an open solution block shows its content without the marker",
    raw: "<|begin_of_thought|>x<|end_of_thought|><|begin_of_solution|>Forty",
    shown: "Forty",
  },
  { what: "a half-received solution marker held back", raw: "42 <|begin_of_sol", shown: "42" },
  { what: "a comparison is not a marker", raw: "if a < b then", shown: "if a < b then" },
  {
    what: "HTML-like text that is no marker stays",
    raw: "use <b>bold</b>",
    shown: "use <b>bold</b>",
  },
];

for (const c of VISIBLE) {
  Deno.test(`visibleText: ${c.what}`, () => {
    strictEqual(visibleText(c.raw), c.shown);
  });
}

Deno.test("visibleText of a finished answer is exactly what stripReasoning keeps", () => {
  for (
    const raw of [
      "<think>a</think>b",
      "plain",
      "<|begin_of_thought|>t<|end_of_thought|><|begin_of_solution|>s<|end_of_solution|>",
      "  spaced  ",
      "x <think>never closed",
    ]
  ) {
    const final = stripReasoning(raw).text;
    // An unclosed <think> stays in the final text (reference §4.6) but is never shown mid-stream.
    if (raw.includes("never closed")) strictEqual(visibleText(raw), "");
    else strictEqual(visibleText(raw), final, raw);
  }
});

Deno.test("visibleText never shows reasoning at any cut of a streamed answer", () => {
  const raw = "<think>secret plan</think>Public answer <|begin_of_solution|>no";
  for (let i = 0; i <= raw.length; i++) {
    const shown = visibleText(raw.slice(0, i));
    strictEqual(shown.includes("secret"), false, `cut at ${i}: ${shown}`);
    strictEqual(/<\/?t|<\|/.test(shown), false, `cut at ${i}: ${shown}`);
  }
});

// --- StreamAssembler: chunks back into the completion ---

function chunk(delta: Record<string, unknown>, finish: string | null = null): CompletionChunk {
  return { id: "c1", model: "m", choices: [{ index: 0, delta, finish_reason: finish }] };
}

function assemble(chunks: CompletionChunk[]) {
  const a = new StreamAssembler();
  for (const c of chunks) a.add(c);
  return a.completion(40);
}

Deno.test("the assembler joins content pieces and reads the usage of the last chunk", () => {
  const done = assemble([
    chunk({ role: "assistant", content: "" }),
    chunk({ content: "Hel" }),
    chunk({ content: "lo" }),
    chunk({}, "stop"),
    { id: "c1", choices: [], usage: { prompt_tokens: 7, completion_tokens: 2 } },
  ]);
  deepStrictEqual(done.choices[0].message, { role: "assistant", content: "Hello", refusal: null });
  strictEqual(done.choices[0].finish_reason, "stop");
  deepStrictEqual(done.usage, { prompt_tokens: 7, completion_tokens: 2, total_tokens: 9 });
});

const CALLS: Array<{ what: string; chunks: CompletionChunk[]; calls: unknown[] }> = [
  {
    what: "arguments in pieces by index (OpenAI)",
    chunks: [
      chunk({
        tool_calls: [{
          index: 0,
          id: "a",
          type: "function",
          function: { name: "w", arguments: "" },
        }],
      }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"ci' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: 'ty":"P"}' } }] }),
    ],
    calls: [{ id: "a", type: "function", function: { name: "w", arguments: '{"city":"P"}' } }],
  },
  {
    what: "two calls interleaved by index",
    chunks: [
      chunk({ tool_calls: [{ index: 0, id: "a", function: { name: "x", arguments: "{" } }] }),
      chunk({ tool_calls: [{ index: 1, id: "b", function: { name: "y", arguments: "{}" } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: "}" } }] }),
    ],
    calls: [
      { id: "a", type: "function", function: { name: "x", arguments: "{}" } },
      { id: "b", type: "function", function: { name: "y", arguments: "{}" } },
    ],
  },
  {
    what: "whole calls without index, told apart by id (Gemini)",
    chunks: [
      chunk({
        tool_calls: [{ id: "a", function: { name: "x", arguments: '{"n":1}' } }, {
          id: "b",
          function: { name: "y", arguments: "{}" },
        }],
      }),
    ],
    calls: [
      { id: "a", type: "function", function: { name: "x", arguments: '{"n":1}' } },
      { id: "b", type: "function", function: { name: "y", arguments: "{}" } },
    ],
  },
  {
    what: "a name repeated in every delta is not doubled; object arguments become JSON",
    chunks: [
      chunk({ tool_calls: [{ index: 0, function: { name: "x" } }] }),
      chunk({ tool_calls: [{ index: 0, function: { name: "x", arguments: { n: 2 } } }] }),
    ],
    calls: [{
      id: "call_stream_0",
      type: "function",
      function: { name: "x", arguments: '{"n":2}' },
    }],
  },
];

for (const c of CALLS) {
  Deno.test(`the assembler reassembles tool calls: ${c.what}`, () => {
    const done = assemble(c.chunks);
    deepStrictEqual(done.choices[0].message.tool_calls, c.calls);
    strictEqual(done.choices[0].message.content, null);
    strictEqual(done.choices[0].finish_reason, "tool_calls");
  });
}

Deno.test("the assembler ignores malformed chunks and estimates usage nobody sent", () => {
  const a = new StreamAssembler();
  for (
    const c of [
      {},
      { choices: null },
      { choices: [null] },
      { choices: [{ delta: { content: 5, tool_calls: [null, 3] } }] },
      chunk({ content: "abcdefgh" }),
    ] as unknown as CompletionChunk[]
  ) a.add(c);
  const done = a.completion(40);
  strictEqual(done.choices[0].message.content, "abcdefgh");
  deepStrictEqual(done.usage, { prompt_tokens: 10, completion_tokens: 2, total_tokens: 12 });
  strictEqual(a.chunks, 5);
});

Deno.test("the snapshot tells a tool round from an answer as soon as the first call arrives", () => {
  const a = new StreamAssembler();
  a.add(chunk({ content: "Let me look" }));
  deepStrictEqual(a.snapshot(), { content: "Let me look", toolCalls: false });
  a.add(chunk({ tool_calls: [{ index: 0, id: "a", function: { name: "w", arguments: "" } }] }));
  deepStrictEqual(a.snapshot(), { content: "Let me look", toolCalls: true });
});
