/**
 * One streamed chat completion through the `openai` client (decision 35):
 * the chunks reassembled into the completion a non-streamed request returns,
 * the content so far reported as it grows, and the ways a provider refuses
 * to stream recognised, so the caller can ask again without streaming.
 *
 * @module
 */
import type OpenAI from "openai";
import { StreamAssembler, type StreamSnapshot } from "./stream_text.ts";

/** The provider does not stream: an empty stream, or a 400/422 naming the parameter. */
export class StreamRefused extends Error {
  /** Only `stream_options` was refused: streaming without it may work. */
  readonly optionsOnly: boolean;
  constructor(message: string, optionsOnly = false, options?: ErrorOptions) {
    super(message, options);
    this.name = "StreamRefused";
    this.optionsOnly = optionsOnly;
  }
}

/**
 * How a provider answered a streamed request it does not support, if it
 * did: `undefined` for any other failure. Pure.
 */
export function streamRefusal(error: unknown): StreamRefused | undefined {
  if (error instanceof StreamRefused) return error;
  const e = error as { status?: unknown; message?: unknown; error?: unknown } | null;
  if (!e || (e.status !== 400 && e.status !== 422)) return undefined;
  const text = `${e.message ?? ""} ${JSON.stringify(e.error ?? "")}`.toLowerCase();
  if (text.includes("stream_options")) {
    return new StreamRefused(String(e.message), true, { cause: error });
  }
  return /\bstream(ing)?\b/.test(text)
    ? new StreamRefused(String(e.message), false, { cause: error })
    : undefined;
}

/** Options for {@link streamCompletion}. */
export interface StreamCall {
  /** The request body, without `stream`. */
  body: Record<string, unknown>;
  /** Ask for the usage in the last chunk (`stream_options.include_usage`). */
  includeUsage: boolean;
  /** Called after every chunk that changed the content or began tool calls. */
  onDelta: (snapshot: StreamSnapshot) => void;
  signal?: AbortSignal;
}

/**
 * Streams one completion and returns it reassembled. Throws what the client
 * throws, or {@link StreamRefused} when the provider sent no chunk at all
 * (it ignored `stream` and answered otherwise).
 */
export async function streamCompletion(
  client: OpenAI,
  call: StreamCall,
): Promise<OpenAI.Chat.Completions.ChatCompletion> {
  const body = {
    ...call.body,
    stream: true,
    ...(call.includeUsage ? { stream_options: { include_usage: true } } : {}),
  } as unknown as OpenAI.Chat.Completions.ChatCompletionCreateParamsStreaming;
  const stream = await client.chat.completions.create(body, { signal: call.signal });
  const assembler = new StreamAssembler();
  let shown = "";
  let calling = false;
  for await (const chunk of stream) {
    assembler.add(chunk);
    const snapshot = assembler.snapshot();
    if (snapshot.content === shown && snapshot.toolCalls === calling) continue;
    shown = snapshot.content;
    calling = snapshot.toolCalls;
    call.onDelta(snapshot);
  }
  if (assembler.chunks === 0) throw new StreamRefused("the provider sent an empty stream");
  const promptChars = JSON.stringify(call.body.messages ?? []).length;
  return assembler.completion(promptChars) as unknown as OpenAI.Chat.Completions.ChatCompletion;
}
