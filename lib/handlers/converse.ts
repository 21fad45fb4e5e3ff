/**
 * The flow every model-backed command shares: ask the model with the thread
 * and the user's text, store both with the answer, reply with the
 * requester's header. A failure is thrown to the pipeline's error boundary,
 * which replies `Something went wrong (<reason>)` (decision 3); nothing is
 * stored (decision 30).
 *
 * @module
 */
import type { Message } from "../conversation.ts";
import { withHeader } from "../responder.ts";
import type { Context } from "./context.ts";

/** The model for a user in this room: their personal model if still configured, else global. */
export function modelFor(ctx: Context, user: string): string {
  const personal = ctx.models.get(ctx.room, user);
  if (personal && ctx.catalog.has(personal)) return personal;
  return ctx.settings.get("model");
}

/** What to converse about. */
export interface ConverseOptions {
  /** Whose thread (the sender, or the `.x` target). */
  owner: string;
  /** The user's message; without it the model answers the thread again. */
  userText?: string;
  /** The model to ask. */
  model: string;
  /** Offer the tools to the model. */
  useTools: boolean;
  /**
   * Start from this thread instead of the stored one; on success it replaces
   * the stored thread (`.persona`, `.custom`).
   */
  thread?: Message[];
}

/**
 * Runs one exchange with the model in `owner`'s thread and replies. The
 * user's message and the answer are stored together, only after success:
 * a failed exchange leaves the thread as it was (decision 30) and throws.
 */
export async function converse(ctx: Context, options: ConverseOptions): Promise<void> {
  const { room } = ctx;
  const { owner, model } = options;
  // Ids keyed on the triggering event make a re-handled event harmless.
  const answerId = ctx.eventId ? `${ctx.eventId}:answer` : undefined;
  const stored = answerId ? ctx.threads.find(room, owner, answerId) : undefined;
  if (stored) {
    ctx.log.info(`Resending the stored answer for ${ctx.eventId} to ${ctx.senderName}`);
    await ctx.reply(withHeader(ctx.senderName, stored.content));
    return;
  }
  const question: Message | undefined = options.userText
    ? { role: "user", content: options.userText, ...(ctx.eventId ? { id: ctx.eventId } : {}) }
    : undefined;
  const started = performance.now();
  let answer;
  try {
    answer = await ctx.llm.answer({
      model,
      messages: ctx.threads.request(room, owner, { next: question, thread: options.thread }),
      tools: options.useTools ? ctx.tools : undefined,
      signal: ctx.signal,
      onImage: (image) => ctx.replyImage(image),
      ...(ctx.stream
        ? { onText: (text: string) => ctx.stream!(withHeader(ctx.senderName, text)) }
        : {}),
    });
  } catch (error) {
    // Only the model is known here; the error boundary replies (or, at shutdown, does not).
    if (!ctx.signal.aborted) {
      const cause = (error as Error).cause as Error | undefined;
      ctx.log.warn(
        `Answer for ${ctx.senderName} (${ctx.sender}) with ${model} failed: ${
          cause?.message ?? (error as Error).message
        }`,
      );
    }
    throw error;
  }
  for (const thought of answer.thinking) {
    ctx.log.debug(`Model thinking for ${ctx.senderName} (${ctx.sender}): ${thought}`);
  }
  const reply: Message = {
    role: "assistant",
    content: answer.text,
    ...(answerId ? { id: answerId } : {}),
  };
  const exchange = question ? [question, reply] : [reply];
  if (options.thread) ctx.threads.set(room, owner, [...options.thread, ...exchange]);
  else ctx.threads.append(room, owner, ...exchange);
  ctx.recordUsage(answer.usage.prompt + answer.usage.completion);
  const ms = Math.round(performance.now() - started);
  ctx.log.info(
    `Sending response to ${ctx.senderName} in ${room}: model ${model}, ${ms} ms, ` +
      `${answer.usage.prompt}+${answer.usage.completion} tokens, ${answer.toolCalls} tool call(s)`,
  );
  ctx.log.debug(`Response to ${ctx.senderName}: ${answer.text}`);
  await ctx.reply(withHeader(ctx.senderName, answer.text));
}
