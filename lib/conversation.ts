/**
 * The rules of a conversation thread, as pure functions: the system prompt,
 * trimming by whole exchanges, the well-formed view a provider may see, and
 * the messages of one exchange. Every `ThreadStore` implementation
 * (lib/state/) keeps its threads by these rules; none of them touches
 * storage.
 *
 * @module
 */
import { type Content, textOf } from "./content.ts";

/** One stored message. `id` makes appends idempotent (the triggering event id). */
export interface Message {
  /** Who wrote it. */
  role: "system" | "user" | "assistant";
  /**
   * Its text, or content parts (decision 34: text, files as text, image
   * references). A plain string stays valid, as threads stored before.
   */
  content: Content;
  /** The id of the event that triggered it (`:answer` appended for the answer). */
  id?: string;
}

/** How threads are kept: the options of every `ThreadStore` implementation. */
export interface ThreadOptions {
  /** `llm.prompt`: prefix, suffix and the brevity clause around the persona. */
  prompt: readonly string[];
  /** `llm.personality`: the default persona. */
  personality: string;
  /** `llm.history_size`: messages kept per thread. */
  historySize: number;
  /** Current verbose mode, read when a system prompt is created. */
  verbose: () => boolean;
  /** The clock that orders a room's users by activity (tests). */
  now?: () => number;
}

/**
 * The system prompt: `prefix + persona + suffix + extra`, where the extra
 * (brevity) clause is left out while verbose mode is on. Plain concatenation:
 * the configured strings carry their own spacing.
 */
export function systemPrompt(prompt: readonly string[], persona: string, verbose: boolean): string {
  const [prefix = "you are ", suffix = ".", extra = ""] = prompt;
  return prefix + persona + suffix + (verbose ? "" : extra);
}

/**
 * Trims a thread to `size` messages by dropping whole exchanges (a user
 * message and what answers it), oldest first, keeping a leading system
 * message: the first message after the system prompt stays a user message.
 * Messages before the first user message (left by older versions, which
 * trimmed one message at a time) go first. The newest exchange is never
 * dropped, so a thread may exceed `size` by the rest of that exchange.
 * Returns a new array.
 */
export function trimThread(messages: readonly Message[], size: number): Message[] {
  const out = [...messages];
  const start = out[0]?.role === "system" ? 1 : 0;
  while (out.length > size) {
    let end = start + 1;
    while (end < out.length && out[end].role !== "user") end++;
    if (end >= out.length) break;
    out.splice(start, end - start);
  }
  return out;
}

/**
 * The thread as a provider may see it (decision 30): after the system
 * prompt, user and assistant alternate, starting with a user message.
 * - A user message followed by another one was never answered (a failure
 *   stored by an older version): it is dropped, never glued to the next.
 * - Assistant messages before the first user message are dropped.
 * - Consecutive assistant messages (an empty `.ai` answers the thread
 *   again) are joined: the user saw both, so the model sees both.
 * Ids are kept; the input is not changed.
 */
export function wellFormed(messages: readonly Message[]): Message[] {
  const out: Message[] = [];
  for (const m of messages) {
    const last = out.at(-1);
    if (m.role === "user" && last?.role === "user") out.pop();
    if (m.role === "assistant" && last?.role !== "user") {
      if (last?.role === "assistant") {
        last.content = `${textOf(last.content)}\n\n${textOf(m.content)}`;
      }
      continue;
    }
    out.push({ ...m });
  }
  return out;
}

/**
 * The thread before the message with id `id` (a re-handled event whose
 * message an older version stored before it failed or crashed), or the
 * whole thread when no message has that id.
 */
export function before(thread: readonly Message[], id: string | undefined): Message[] {
  const at = id ? thread.findIndex((m) => m.id === id) : -1;
  return at === -1 ? [...thread] : thread.slice(0, at);
}

/** The default system prompt for a new thread, for the current verbose mode. */
export function defaultPrompt(options: ThreadOptions, persona?: string): string {
  return systemPrompt(options.prompt, persona || options.personality, options.verbose());
}

/** A thread not stored yet: the default system prompt alone. */
export function newThread(options: ThreadOptions): Message[] {
  return [{ role: "system", content: defaultPrompt(options) }];
}

/**
 * `thread` with `messages` appended and trimmed to `size`. A message in the
 * thread that has the id of a new one is an earlier copy (an older version
 * stored a user message before its answer failed) and is dropped.
 */
export function appended(
  thread: readonly Message[],
  messages: readonly Message[],
  size: number,
): Message[] {
  const ids = new Set(messages.map((m) => m.id).filter(Boolean));
  const kept = thread.filter((m) => !m.id || !ids.has(m.id));
  return trimThread([...kept, ...messages], size);
}

/**
 * The messages to send for an exchange (decision 30): `thread` before any
 * earlier copy of `next`, with `next` after it, well-formed and trimmed to
 * `size`.
 */
export function exchange(
  thread: readonly Message[],
  next: Message | undefined,
  size: number,
): Message[] {
  const earlier = before(thread, next?.id);
  return trimThread(wellFormed(next ? [...earlier, next] : earlier), size);
}

/** A thread as stored (JSON text); anything but an array reads as empty. */
export function parseThread(text: string): Message[] {
  const parsed = JSON.parse(text);
  return Array.isArray(parsed) ? parsed as Message[] : [];
}
