/**
 * Talking to the model: one completion, or the tool loop (reference §4.5 with
 * decision 12), reasoning markers stripped from every answer (§4.6), and every
 * failure turned into a short reason users may see (decision 3).
 *
 * Knows nothing of Matrix or commands.
 *
 * @module
 */
import type { Message } from "./conversation.ts";
import { getLogger } from "./log.ts";
import { type FailureKind, ProviderError } from "./provider_errors.ts";
import type { ChatCompletion, ChatMessage, Providers } from "./providers.ts";
import type { ToolImage, ToolRegistry } from "./tools/registry.ts";
import { errorResult } from "./tools/registry.ts";

const log = getLogger("llm");

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

/** An answer could not be produced; `reason` is safe to show users. */
export class LlmError extends Error {
  readonly reason: string;
  constructor(reason: string, options?: ErrorOptions) {
    super(reason, options);
    this.name = "LlmError";
    this.reason = reason;
  }
}

const REASONS: Record<FailureKind, string> = {
  timeout: "the model provider timed out",
  unreachable: "could not reach the model provider",
  auth: "the model provider rejected the API key",
  not_found: "the model provider does not know this model",
  rate_limited: "the model provider is rate limiting requests, try again later",
  bad_request: "the model provider rejected the request",
  too_long: "the conversation is too long for this model, try .reset",
  server_error: "the model provider had an internal error",
  invalid_response: "the model provider sent an invalid response",
  aborted: "the request was cancelled",
};

/** The short, secret-free reason for a failure (decision 3). */
export function failureReason(error: unknown): string {
  if (error instanceof LlmError) return error.reason;
  if (error instanceof ProviderError) {
    const reason = REASONS[error.kind];
    return (error.kind === "server_error" || error.kind === "bad_request") && error.status
      ? `${reason}, HTTP ${error.status}`
      : reason;
  }
  return "an internal error";
}

/**
 * The thread as a request: ids dropped. Keeping roles alternating is the
 * caller's job (`ThreadStore.request`, decision 30).
 */
function toChat(messages: readonly Message[]): ChatMessage[] {
  return messages.map(({ role, content }) => ({ role, content })) as ChatMessage[];
}

/** Token counts summed over every request of one answer. */
export interface Usage {
  prompt: number;
  completion: number;
}

/** One answer and what it took. */
export interface Answer {
  text: string;
  thinking: string[];
  usage: Usage;
  /** Provider requests made. */
  requests: number;
  /** Tool calls executed. */
  toolCalls: number;
}

/** One request for an answer. */
export interface AnswerRequest {
  model: string;
  /** The thread (stored messages; ids are dropped before sending). */
  messages: readonly Message[];
  /** Tools to offer; omit for a plain completion. */
  tools?: ToolRegistry;
  signal?: AbortSignal;
  /** Called for each image a tool produced, as soon as it exists. */
  onImage?: (image: ToolImage) => Promise<void>;
}

/** Options for {@link Llm}. */
export interface LlmOptions {
  providers: Providers;
  /** Tool rounds before the model must answer (`llm.max_tool_rounds`). */
  maxToolRounds: number;
}

type ToolCall = {
  id?: string;
  type?: string;
  function?: { name?: string; arguments?: unknown };
};

function parseArguments(raw: unknown): Record<string, unknown> | string {
  if (raw === undefined || raw === null) return {};
  if (typeof raw === "object" && !Array.isArray(raw)) return raw as Record<string, unknown>;
  if (typeof raw !== "string") return "arguments must be a JSON object";
  if (!raw.trim()) return {};
  try {
    const parsed = JSON.parse(raw);
    if (parsed === null) return {};
    if (typeof parsed !== "object" || Array.isArray(parsed)) {
      return "arguments must be a JSON object";
    }
    return parsed;
  } catch {
    return "arguments are not valid JSON";
  }
}

/** Completions and the tool loop on top of {@link Providers}. */
export class Llm {
  readonly #options: LlmOptions;

  constructor(options: LlmOptions) {
    this.#options = options;
  }

  /**
   * Produces an answer: a plain completion, or the tool loop when `tools` is
   * given and not empty. Throws {@link LlmError} with a user-safe reason.
   */
  async answer(request: AnswerRequest): Promise<Answer> {
    const usage: Usage = { prompt: 0, completion: 0 };
    let requests = 0;
    let toolCalls = 0;
    const tools = request.tools?.size ? request.tools : undefined;
    const definitions = tools?.definitions();
    const working: ChatMessage[] = toChat(request.messages);

    const send = async (toolChoice?: "auto" | "none"): Promise<ChatCompletion> => {
      requests++;
      try {
        const completion = await this.#options.providers.chat({
          model: request.model,
          messages: working,
          tools: definitions,
          toolChoice,
          signal: request.signal,
        });
        usage.prompt += completion.usage?.prompt_tokens ?? 0;
        usage.completion += completion.usage?.completion_tokens ?? 0;
        return completion;
      } catch (error) {
        throw new LlmError(failureReason(error), { cause: error });
      }
    };

    let completion = await send(definitions ? "auto" : undefined);
    let message = completion.choices[0].message;
    let rounds = 0;
    const max = this.#options.maxToolRounds;
    while (tools && message.tool_calls?.length && rounds < max) {
      rounds++;
      const calls = message.tool_calls as ToolCall[];
      log.info(`Model requested ${calls.length} tool call(s)`);
      const echoed = calls.map((call, i) => ({
        id: call.id || `call_${rounds}_${i}`,
        type: "function" as const,
        function: {
          name: call.function?.name ?? "",
          arguments: typeof call.function?.arguments === "string"
            ? call.function.arguments
            : JSON.stringify(call.function?.arguments ?? {}),
        },
      }));
      // Only role, content and tool_calls go back: vendor extras such as
      // reasoning_content are rejected by some providers (decision 12).
      working.push({ role: "assistant", content: message.content ?? null, tool_calls: echoed });
      for (const [i, call] of calls.entries()) {
        const name = echoed[i].function.name;
        let content: string;
        if (call.type !== undefined && call.type !== "function") {
          content = errorResult(`Unsupported tool call type: ${call.type}`);
        } else {
          const args = parseArguments(call.function?.arguments);
          if (typeof args === "string") {
            log.warn(`Tool call ${name}: ${args}`);
            content = errorResult(`Invalid arguments for ${name}: ${args}`);
          } else {
            const result = await tools.call(name, args, { signal: request.signal });
            toolCalls++;
            content = result.content;
            for (const image of result.images) await this.#deliver(image, request);
          }
        }
        working.push({ role: "tool", tool_call_id: echoed[i].id, content });
      }
      if (request.signal?.aborted) throw new LlmError(REASONS.aborted);
      completion = await send(rounds < max ? "auto" : "none");
      message = completion.choices[0].message;
    }
    if (tools && message.tool_calls?.length) {
      log.warn(`Model still wanted tools after ${max} round(s); answering with what it has`);
    }

    const raw = typeof message.content === "string" ? message.content : "";
    const { text, thinking } = stripReasoning(raw);
    if (!text) {
      throw new LlmError("the model returned an empty answer");
    }
    return { text, thinking, usage, requests, toolCalls };
  }

  async #deliver(image: ToolImage, request: AnswerRequest): Promise<void> {
    if (!request.onImage) return;
    try {
      await request.onImage(image);
    } catch (error) {
      log.error(`Could not post image ${image.name}: ${(error as Error).message}`);
    }
  }
}
