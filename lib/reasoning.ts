/**
 * Reasoning markers (reference §4.6): what a model thought, cut from what it
 * answers. Shared by the finished answer (`lib/llm.ts`) and the text shown
 * while it streams (`lib/stream_text.ts`).
 *
 * @module
 */

const THINK_OPEN = "<think>";
const THINK_CLOSE = "</think>";
const THOUGHT_OPEN = "<|begin_of_thought|>";
const THOUGHT_CLOSE = "<|end_of_thought|>";
const SOLUTION_OPEN = "<|begin_of_solution|>";
const SOLUTION_CLOSE = "<|end_of_solution|>";

/** Text with reasoning markers removed, and the reasoning that was removed. */
export interface Stripped {
  /** The text without the reasoning. */
  text: string;
  /** The reasoning blocks that were removed, in order. */
  thinking: string[];
}

/**
 * Removes reasoning markers exactly as the reference does (§4.6): literal
 * splitting, `<think>` first, then thought markers, then solution markers.
 */
export function stripReasoning(input: string): Stripped {
  let text = input;
  const thinking: string[] = [];
  if (text.includes(THINK_OPEN) && text.includes(THINK_CLOSE)) {
    const at = text.indexOf(THINK_CLOSE);
    thinking.push(text.slice(0, at).replaceAll(THINK_OPEN, "").trim());
    text = text.slice(at + THINK_CLOSE.length).trim();
  }
  if (text.includes(THOUGHT_OPEN) && text.includes(THOUGHT_CLOSE)) {
    const parts = text.split(THOUGHT_CLOSE);
    thinking.push(parts[0].replaceAll(THOUGHT_OPEN, "").trim());
    text = (parts[1] ?? "").trim();
  }
  if (text.includes(SOLUTION_OPEN) && text.includes(SOLUTION_CLOSE)) {
    const start = text.indexOf(SOLUTION_OPEN) + SOLUTION_OPEN.length;
    const end = text.indexOf(SOLUTION_CLOSE, start);
    text = (end === -1 ? text.slice(start) : text.slice(start, end)).trim();
  }
  return { text: text.trim(), thinking: thinking.filter(Boolean) };
}
