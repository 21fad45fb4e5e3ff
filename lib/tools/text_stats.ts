/**
 * `text_stats`: words, characters and sentences of a text, counted as the
 * reference's Python does (reference §5.1).
 *
 * @module
 */
import type { BuiltinImplementation } from "./options.ts";

/** The counts `text_stats` returns. */
export interface TextStats {
  words: number;
  characters: number;
  sentences: number;
}

/**
 * Python's `\w` on `str`: letters and digits of any script, and `_`. A run
 * of these is exactly one `\b\w+\b` match.
 */
const WORD = /[\p{L}\p{N}_]+/gu;
const SENTENCE_END = /[.!?]+/g;

/**
 * Counts `text`: words are runs of Unicode word characters, characters are
 * code points (an emoji is one), sentences are runs of `.`, `!` or `?`.
 * Empty or blank text counts as zeros.
 */
export function computeTextStats(text: string): TextStats {
  if (text.trim() === "") return { words: 0, characters: 0, sentences: 0 };
  return {
    words: text.match(WORD)?.length ?? 0,
    characters: [...text].length,
    sentences: text.match(SENTENCE_END)?.length ?? 0,
  };
}

/** `text_stats`. */
export const textStats: BuiltinImplementation = {
  run: (args) =>
    Promise.resolve(
      typeof args.text === "string"
        ? computeTextStats(args.text)
        : { error: "Invalid 'text' argument; expected a string." },
    ),
};
