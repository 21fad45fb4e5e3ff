/**
 * The flow every model-backed command shares: ask the model with the thread
 * and the user's text, store both with the answer, reply with the
 * requester's header. A failure replies `Something went wrong (<reason>)`
 * (decision 3) and stores nothing (decision 30).
 *
 * @module
 */
import { allModels } from "../config.ts";
import type { Message } from "../history.ts";
import { failureReason } from "../llm.ts";
import { withHeader } from "../responder.ts";
import type { Context } from "./context.ts";

/** The model for a user in this room: their personal model if still configured, else global. */
export function modelFor(ctx: Context, user: string): string {
  const personal = ctx.models.get(ctx.room, user);
  if (personal && allModels(ctx.config).includes(personal)) return personal;
  return ctx.settings.get("model");
}

/** What to converse about. */
export interface ConverseOptions {
  /** Whose thread (the sender, or the `.x` target). */
  owner: string;
  /** The user's message; without it the model answers the thread again. */
  userText?: string;
  model: string;
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
 * a failed exchange leaves the thread as it was (decision 30). Resolves
 * `true` when the model answered.
 */
export async function converse(ctx: Context, options: ConverseOptions): Promise<boolean> {
  const { room } = ctx;
  const { owner, model } = options;
  // Ids keyed on the triggering event make a re-handled event harmless.
  const answerId = ctx.eventId ? `${ctx.eventId}:answer` : undefined;
  const stored = answerId ? ctx.history.find(room, owner, answerId) : undefined;
  if (stored) {
    ctx.log.info(`Resending the stored answer for ${ctx.eventId} to ${ctx.senderName}`);
    await ctx.reply(withHeader(ctx.senderName, stored.content));
    return true;
  }
  const question: Message | undefined = options.userText
    ? { role: "user", content: options.userText, ...(ctx.eventId ? { id: ctx.eventId } : {}) }
    : undefined;
  const started = performance.now();
  let answer;
  ctx.mark("provider");
  try {
    answer = await ctx.llm.answer({
      model,
      messages: ctx.history.request(room, owner, { next: question, thread: options.thread }),
      tools: options.useTools ? ctx.tools : undefined,
      signal: ctx.signal,
      onImage: (image) => ctx.replyImage(image),
    });
  } catch (error) {
    // Shutdown: no reply now, the message is answered after the restart.
    if (ctx.signal.aborted) throw error;
    const cause = (error as Error).cause as Error | undefined;
    ctx.log.warn(
      `Answer for ${ctx.senderName} (${ctx.sender}) with ${model} failed: ${
        cause?.message ?? (error as Error).message
      }`,
    );
    await ctx.reply(`Something went wrong (${failureReason(error)})`);
    return false;
  }
  ctx.mark("answered");
  for (const thought of answer.thinking) {
    ctx.log.debug(`Model thinking for ${ctx.senderName} (${ctx.sender}): ${thought}`);
  }
  const reply: Message = {
    role: "assistant",
    content: answer.text,
    ...(answerId ? { id: answerId } : {}),
  };
  const exchange = question ? [question, reply] : [reply];
  if (options.thread) ctx.history.set(room, owner, [...options.thread, ...exchange]);
  else ctx.history.append(room, owner, ...exchange);
  ctx.recordUsage(answer.usage.prompt + answer.usage.completion);
  const ms = Math.round(performance.now() - started);
  ctx.log.info(
    `Sending response to ${ctx.senderName} in ${room}: model ${model}, ${ms} ms, ` +
      `${answer.usage.prompt}+${answer.usage.completion} tokens, ${answer.toolCalls} tool call(s)`,
  );
  ctx.log.debug(`Response to ${ctx.senderName}: ${answer.text}`);
  await ctx.reply(withHeader(ctx.senderName, answer.text));
  return true;
}
