/**
 * Talking to the model: one completion, or the tool loop (reference §4.5 with
 * decision 12), reasoning markers stripped from every answer (§4.6), and every
 * failure turned into a short reason users may see (decision 3).
 *
 * Knows nothing of Matrix or commands.
 *
 * @module
 */
import { textOf } from "./content.ts";
import type { Message } from "./conversation.ts";
import { getLogger } from "./log.ts";
import { type FailureKind, ProviderError } from "./provider_errors.ts";
import type { ChatCompletion, ChatMessage, Providers, ToolDefinition } from "./providers.ts";
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
 * The thread as a request: ids dropped; content parts as OpenAI's for user
 * messages (an image not resolved to a `data:` URL goes as its name), text
 * for the others. Keeping roles alternating is the caller's job
 * (`ThreadStore.request`, decision 30).
 */
export function toChat(messages: readonly Message[]): ChatMessage[] {
  return messages.map(({ role, content }) => {
    if (typeof content === "string") return { role, content };
    if (role !== "user") return { role, content: textOf(content) };
    const parts = content.map((part) =>
      part.type === "image" ? { type: "text", text: textOf([part]) } : part
    );
    return { role, content: parts };
  }) as ChatMessage[];
}

/** Token counts summed over every request of one answer. */
export interface Usage {
  /** Tokens sent (prompt). */
  prompt: number;
  /** Tokens received (completion). */
  completion: number;
}

/** One answer and what it took. */
export interface Answer {
  /** The answer, reasoning markers removed. */
  text: string;
  /** The reasoning that was removed (logged at debug level). */
  thinking: string[];
  /** Tokens over every request of the answer. */
  usage: Usage;
  /** Provider requests made. */
  requests: number;
  /** Tool calls executed. */
  toolCalls: number;
}

/** One request for an answer. */
export interface AnswerRequest {
  /** The model id. */
  model: string;
  /** The thread (stored messages; ids are dropped before sending). */
  messages: readonly Message[];
  /** Tools to offer; omit for a plain completion. */
  tools?: ToolRegistry;
  /** Cancels the request (shutdown). */
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

/** What the model said in one completion. */
type ModelMessage = ChatCompletion["choices"][number]["message"];

/** The calls echoed back as the assistant's message, each with an id and string arguments. */
function echoCalls(calls: readonly ToolCall[], round: number) {
  return calls.map((call, i) => ({
    id: call.id || `call_${round}_${i}`,
    type: "function" as const,
    function: {
      name: call.function?.name ?? "",
      arguments: typeof call.function?.arguments === "string"
        ? call.function.arguments
        : JSON.stringify(call.function?.arguments ?? {}),
    },
  }));
}

/** One answer in the making: the messages sent so far and what they cost. */
class Exchange {
  readonly request: AnswerRequest;
  readonly working: ChatMessage[];
  readonly usage: Usage = { prompt: 0, completion: 0 };
  requests = 0;
  toolCalls = 0;
  readonly #providers: Providers;
  readonly #definitions?: ToolDefinition[];

  constructor(providers: Providers, request: AnswerRequest, definitions?: ToolDefinition[]) {
    this.#providers = providers;
    this.request = request;
    this.#definitions = definitions;
    this.working = toChat(request.messages);
  }

  /** Sends the messages so far; the model's reply, its tokens counted. */
  async send(toolChoice?: "auto" | "none"): Promise<ModelMessage> {
    this.requests++;
    let completion: ChatCompletion;
    try {
      completion = await this.#providers.chat({
        model: this.request.model,
        messages: this.working,
        tools: this.#definitions,
        toolChoice,
        signal: this.request.signal,
      });
    } catch (error) {
      throw new LlmError(failureReason(error), { cause: error });
    }
    this.usage.prompt += completion.usage?.prompt_tokens ?? 0;
    this.usage.completion += completion.usage?.completion_tokens ?? 0;
    return completion.choices[0].message;
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
    const tools = request.tools?.size ? request.tools : undefined;
    const definitions = tools?.definitions();
    const exchange = new Exchange(this.#options.providers, request, definitions);
    let message = await exchange.send(definitions ? "auto" : undefined);
    const max = this.#options.maxToolRounds;
    for (let round = 1; tools && message.tool_calls?.length && round <= max; round++) {
      await this.#runTools(message.tool_calls as ToolCall[], message, round, tools, exchange);
      if (request.signal?.aborted) throw new LlmError(REASONS.aborted);
      message = await exchange.send(round < max ? "auto" : "none");
    }
    if (tools && message.tool_calls?.length) {
      log.warn(`Model still wanted tools after ${max} round(s); answering with what it has`);
    }
    const raw = typeof message.content === "string" ? message.content : "";
    const { text, thinking } = stripReasoning(raw);
    if (!text) {
      throw new LlmError("the model returned an empty answer");
    }
    const { usage, requests, toolCalls } = exchange;
    return { text, thinking, usage, requests, toolCalls };
  }

  /** One round: the calls echoed as the assistant's message, then each call's result. */
  async #runTools(
    calls: ToolCall[],
    message: ModelMessage,
    round: number,
    tools: ToolRegistry,
    exchange: Exchange,
  ): Promise<void> {
    log.info(`Model requested ${calls.length} tool call(s)`);
    const echoed = echoCalls(calls, round);
    // Only role, content and tool_calls go back: vendor extras such as
    // reasoning_content are rejected by some providers (decision 12).
    exchange.working.push({
      role: "assistant",
      content: message.content ?? null,
      tool_calls: echoed,
    });
    for (const [i, call] of calls.entries()) {
      const content = await this.#callTool(call, echoed[i].function.name, tools, exchange);
      exchange.working.push({ role: "tool", tool_call_id: echoed[i].id, content });
    }
  }

  /** The result of one call for the model: the tool's, or why it was not run. */
  async #callTool(
    call: ToolCall,
    name: string,
    tools: ToolRegistry,
    exchange: Exchange,
  ): Promise<string> {
    if (call.type !== undefined && call.type !== "function") {
      return errorResult(`Unsupported tool call type: ${call.type}`);
    }
    const args = parseArguments(call.function?.arguments);
    if (typeof args === "string") {
      log.warn(`Tool call ${name}: ${args}`);
      return errorResult(`Invalid arguments for ${name}: ${args}`);
    }
    const result = await tools.call(name, args, { signal: exchange.request.signal });
    exchange.toolCalls++;
    for (const image of result.images) await this.#deliver(image, exchange.request);
    return result.content;
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
