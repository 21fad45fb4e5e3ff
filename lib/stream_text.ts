/**
 * Streamed answers as pure data (decision 35): the chunks of a streamed
 * chat completion reassembled into the message a non-streamed request would
 * have returned (content, tool calls from their deltas, usage), and the part
 * of the text so far that may be shown, with reasoning held back.
 *
 * @module
 */
import { stripReasoning } from "./reasoning.ts";

/** Markers whose content is never shown mid-stream (reference §4.6). */
const MARKERS = [
  "<think>",
  "</think>",
  "<|begin_of_thought|>",
  "<|end_of_thought|>",
  "<|begin_of_solution|>",
  "<|end_of_solution|>",
] as const;

/** An open marker still waiting for its close, and the close that ends it. */
const PAIRS: ReadonlyArray<readonly [string, string]> = [
  ["<think>", "</think>"],
  ["<|begin_of_thought|>", "<|end_of_thought|>"],
  ["<|begin_of_solution|>", "<|end_of_solution|>"],
];

/** `text` without a trailing piece that may be the start of a marker (`<`, `<thi`, `<|begin_`). */
function withoutPartialMarker(text: string): string {
  const at = text.lastIndexOf("<");
  if (at === -1) return text;
  const tail = text.slice(at);
  return MARKERS.some((m) => m.length > tail.length && m.startsWith(tail))
    ? text.slice(0, at)
    : text;
}

/**
 * What may be shown of a streamed answer so far: the text as
 * `stripReasoning` would leave it if every open reasoning block closed now.
 * An open `<think>` block therefore shows nothing of itself (nor, as the
 * final text will not either, of what came before it); a half-received
 * marker is held back. Pure.
 */
export function visibleText(raw: string): string {
  let text = withoutPartialMarker(raw);
  for (const [open, close] of PAIRS) {
    if (text.includes(open) && !text.includes(close)) text += close;
  }
  return stripReasoning(text).text;
}

/** One tool call as it arrives in pieces (`choices[0].delta.tool_calls[]`). */
export interface ToolCallDelta {
  index?: number;
  id?: string;
  type?: string;
  function?: { name?: string; arguments?: unknown };
}

/** One chunk of a streamed chat completion (only the fields we read). */
export interface CompletionChunk {
  id?: string;
  model?: string;
  choices?: Array<{
    index?: number;
    delta?: { role?: string; content?: string | null; tool_calls?: ToolCallDelta[] | null };
    finish_reason?: string | null;
  }>;
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
}

/** A reassembled tool call, as a non-streamed completion carries it. */
export interface AssembledToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

/** The message a streamed completion amounts to. */
export interface AssembledCompletion {
  id: string;
  object: "chat.completion";
  created: number;
  model: string;
  choices: Array<{
    index: 0;
    message: {
      role: "assistant";
      content: string | null;
      refusal: null;
      tool_calls?: AssembledToolCall[];
    };
    finish_reason: string;
    logprobs: null;
  }>;
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

/** What a stream has shown so far: its content, and whether tool calls began. */
export interface StreamSnapshot {
  /** The content so far (reasoning markers included). */
  content: string;
  /** The model started calling tools: this round is not the answer. */
  toolCalls: boolean;
}

/** Collects the chunks of one streamed completion. */
export class StreamAssembler {
  #content = "";
  #sawContent = false;
  readonly #calls: Array<{ id: string; type: string; name: string; args: string }> = [];
  #id = "";
  #model = "";
  #finish = "";
  #usage?: { prompt: number; completion: number };
  /** Chunks received (an empty stream means the provider did not stream). */
  chunks = 0;

  /** Adds one chunk. Malformed parts are ignored, never thrown. */
  add(chunk: CompletionChunk): void {
    this.chunks++;
    this.#id ||= typeof chunk.id === "string" ? chunk.id : "";
    this.#model ||= typeof chunk.model === "string" ? chunk.model : "";
    if (chunk.usage && typeof chunk.usage === "object") {
      this.#usage = {
        prompt: Number(chunk.usage.prompt_tokens) || 0,
        completion: Number(chunk.usage.completion_tokens) || 0,
      };
    }
    const choice = Array.isArray(chunk.choices) ? chunk.choices[0] : undefined;
    if (!choice) return;
    if (choice.finish_reason) this.#finish = choice.finish_reason;
    const delta = choice.delta;
    if (typeof delta?.content === "string") {
      this.#content += delta.content;
      this.#sawContent = true;
    }
    if (Array.isArray(delta?.tool_calls)) {
      for (const [i, call] of delta.tool_calls.entries()) this.#addCall(call, i);
    }
  }

  /** Merges a tool-call delta into the call it continues (by index, else by id, else the last). */
  #addCall(delta: ToolCallDelta, position: number): void {
    if (!delta || typeof delta !== "object") return;
    let at = typeof delta.index === "number" ? delta.index : -1;
    if (at < 0 && delta.id) at = this.#calls.findIndex((c) => c.id === delta.id);
    if (at < 0) at = delta.id ? this.#calls.length : Math.max(0, this.#calls.length - 1, position);
    while (this.#calls.length <= at) this.#calls.push({ id: "", type: "", name: "", args: "" });
    const call = this.#calls[at];
    if (delta.id) call.id ||= delta.id;
    if (delta.type) call.type ||= delta.type;
    const name = delta.function?.name;
    // Names come whole in one delta; a provider repeating it must not double it.
    if (typeof name === "string" && name !== call.name) call.name += name;
    const args = delta.function?.arguments;
    if (typeof args === "string") call.args += args;
    else if (args && typeof args === "object") call.args = JSON.stringify(args);
  }

  /** The content and tool-call state so far. */
  snapshot(): StreamSnapshot {
    return { content: this.#content, toolCalls: this.#calls.length > 0 };
  }

  /**
   * The completion the chunks amount to; usage estimated (4 characters per
   * token) when the provider sent none, so budgets still count.
   */
  completion(promptChars: number): AssembledCompletion {
    const calls = this.#calls.filter((c) => c.name || c.args).map((c, i) => ({
      id: c.id || `call_stream_${i}`,
      type: "function" as const,
      function: { name: c.name, arguments: c.args },
    }));
    const usage = this.#usage ?? {
      prompt: Math.ceil(promptChars / 4),
      completion: Math.ceil(this.#content.length / 4),
    };
    return {
      id: this.#id || "chatcmpl-stream",
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model: this.#model,
      choices: [{
        index: 0,
        message: {
          role: "assistant",
          content: this.#sawContent || !calls.length ? this.#content : null,
          refusal: null,
          ...(calls.length ? { tool_calls: calls } : {}),
        },
        finish_reason: this.#finish || (calls.length ? "tool_calls" : "stop"),
        logprobs: null,
      }],
      usage: {
        prompt_tokens: usage.prompt,
        completion_tokens: usage.completion,
        total_tokens: usage.prompt + usage.completion,
      },
    };
  }
}
