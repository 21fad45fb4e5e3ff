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
  /** `llm.context_tokens`: the estimated tokens a request may carry (0 or absent: no limit). */
  contextTokens?: number;
  /** Current verbose mode, read when a system prompt is created. */
  verbose: () => boolean;
  /** The room's default persona (`.room persona`), read when a thread starts; none when absent. */
  roomPersona?: (room: string) => string | undefined;
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

/** A thread not stored yet: the default system prompt alone (with `persona`, when given). */
export function newThread(options: ThreadOptions, persona?: string): Message[] {
  return [{ role: "system", content: defaultPrompt(options, persona) }];
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
  contextTokens = 0,
): Message[] {
  const earlier = before(thread, next?.id);
  const trimmed = trimThread(wellFormed(next ? [...earlier, next] : earlier), size);
  return contextTokens > 0 ? trimToTokens(trimmed, contextTokens) : trimmed;
}

/** Characters per estimated token (decision 39). */
const CHARS_PER_TOKEN = 4;
/** The estimate for one image (decision 39). */
const TOKENS_PER_IMAGE = 1000;

/**
 * The estimated tokens of a message's content: 4 characters per token, 1000
 * per image. Content is text, or (with images and files) a list of OpenAI
 * content parts.
 */
export function estimateTokens(content: unknown): number {
  if (typeof content === "string") return Math.ceil(content.length / CHARS_PER_TOKEN);
  if (!Array.isArray(content)) return 0;
  let tokens = 0;
  for (const part of content as Array<{ type?: unknown; text?: unknown }>) {
    if (part?.type === "image_url") tokens += TOKENS_PER_IMAGE;
    else if (typeof part?.text === "string") tokens += estimateTokens(part.text);
  }
  return tokens;
}

/** A single message that alone does not fit `llm.context_tokens`. */
export class TooLongError extends Error {
  /** `tokens` estimated against the `limit`. */
  constructor(readonly tokens: number, readonly limit: number) {
    super(`message of about ${tokens} tokens over the limit of ${limit}`);
    this.name = "TooLongError";
  }
}

/**
 * Drops whole exchanges (a user message with what answers it), oldest
 * first, until the estimate fits `limit` (decision 39). The system prompt
 * and the newest exchange are never dropped; when the newest user message
 * alone is over the limit, throws {@link TooLongError}. Returns a new array.
 */
export function trimToTokens(messages: readonly Message[], limit: number): Message[] {
  const out = [...messages];
  const lastUser = out.findLastIndex((m) => m.role === "user");
  const newest = lastUser === -1 ? 0 : estimateTokens(out[lastUser].content);
  if (newest > limit) throw new TooLongError(newest, limit);
  const start = out[0]?.role === "system" ? 1 : 0;
  let total = out.reduce((sum, m) => sum + estimateTokens(m.content), 0);
  while (total > limit) {
    let end = start + 1;
    while (end < out.length && out[end].role !== "user") end++;
    if (end >= out.length) break;
    for (const m of out.splice(start, end - start)) total -= estimateTokens(m.content);
  }
  return out;
}

/** The key of a Matrix thread's shared conversation (decision 38), where a user ID goes. */
export function threadKey(root: string): string {
  // A space never occurs in a user ID, so the keys cannot meet.
  return `thread ${root}`;
}

/** The thread root of a key made by {@link threadKey}, or undefined for a user ID. */
export function threadRootOf(key: string): string | undefined {
  return key.startsWith("thread ") ? key.slice("thread ".length) : undefined;
}

/** The values of the prompt variables (decision 40). */
export interface PromptValues {
  /** The moment of the request. */
  now: Date;
  /** `llm.timezone` (IANA name). */
  timeZone: string;
  /** The model asked. */
  model: string;
  /** The bot's display name. */
  botName: string;
  /** The sender's display name. */
  userName: string;
}

// A formatter costs about 0.4 ms to build; the few in use are kept.
const formatters = new Map<string, Intl.DateTimeFormat>();

function datePart(now: Date, timeZone: string, options: Intl.DateTimeFormatOptions): string {
  const key = `${timeZone}\n${JSON.stringify(options)}`;
  let format = formatters.get(key);
  if (!format) {
    if (formatters.size > 64) formatters.clear();
    format = new Intl.DateTimeFormat("en-CA", { timeZone, ...options });
    formatters.set(key, format);
  }
  return format.format(now);
}

/**
 * `text` with `{date}` (YYYY-MM-DD), `{time}` (HH:MM), `{weekday}`,
 * `{model}`, `{bot_name}` and `{user_name}` replaced; `{{` and `}}` stand
 * for literal braces, and any other `{word}` stays as it is.
 */
export function substituteVariables(text: string, values: PromptValues): string {
  const { now, timeZone } = values;
  const vars: Record<string, () => string> = {
    date: () => datePart(now, timeZone, { year: "numeric", month: "2-digit", day: "2-digit" }),
    time: () => datePart(now, timeZone, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }),
    weekday: () => datePart(now, timeZone, { weekday: "long" }),
    model: () => values.model,
    bot_name: () => values.botName,
    user_name: () => values.userName,
  };
  return text.replace(/\{\{|\}\}|\{(\w+)\}/g, (match, name?: string) => {
    if (match === "{{") return "{";
    if (match === "}}") return "}";
    const value = name !== undefined ? vars[name] : undefined;
    return value ? value() : match;
  });
}

/** The messages with the variables of the system prompt replaced (decision 40). */
export function withVariables(messages: readonly Message[], values: PromptValues): Message[] {
  return messages.map((m) =>
    m.role === "system" && typeof m.content === "string"
      ? { ...m, content: substituteVariables(m.content, values) }
      : m
  );
}

/** A thread as stored (JSON text); anything but an array reads as empty. */
export function parseThread(text: string): Message[] {
  const parsed = JSON.parse(text);
  return Array.isArray(parsed) ? parsed as Message[] : [];
}
