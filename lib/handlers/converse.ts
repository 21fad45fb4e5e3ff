/**
 * The flow every model-backed command shares: ask the model with the thread
 * and the user's text, store both with the answer, reply with the
 * requester's header. A failure is thrown to the pipeline's error boundary,
 * which replies `Something went wrong (<reason>)` (decision 3); nothing is
 * stored (decision 30).
 *
 * @module
 */
import { textOf } from "../content.ts";
import { type Message, threadKey, TooLongError, withVariables } from "../conversation.ts";
import type { Answer } from "../llm.ts";
import { withHeader } from "../responder.ts";
import { effectiveModel, effectiveTools } from "../state/room_settings.ts";
import type { Context } from "./context.ts";
import { contentWith, readAttachments, withImages } from "./media.ts";

/** What a conversation replies besides answers. */
export const CONVERSE_MESSAGES = {
  tooLong: (model: string, tokens: number, limit: number) =>
    `Your message is too long for ${model} (about ${tokens} tokens, the limit is ${limit})`,
};

/**
 * The conversation a command speaks in: the Matrix thread's shared one
 * (decision 38), or the sender's own in the room.
 */
export function conversationOf(ctx: Pick<Context, "threadId" | "sender">): string {
  return ctx.threadId !== undefined ? threadKey(ctx.threadId) : ctx.sender;
}

/**
 * The start of a thread's shared conversation (decision 38): the system
 * prompt of the user who starts it (persona, custom prompt, or none after
 * `.stock`) and their personal model, as they are now; undefined when the
 * thread has a conversation already.
 */
export function startThread(ctx: Context, key: string): Message[] | undefined {
  const { room, sender } = ctx;
  if (key === sender || ctx.threads.has(room, key)) return undefined;
  const personal = ctx.models.get(room, sender);
  if (personal) ctx.models.set(room, key, personal);
  else ctx.models.clear(room, key);
  return ctx.threads.get(room, sender).filter((m, i) => i === 0 && m.role === "system");
}

/**
 * The model for a user in this room (decision 44): their personal model,
 * else the room's, else the global one; one the config no longer lists is
 * passed over.
 */
export function modelFor(ctx: Context, user: string): string {
  return effectiveModel({
    personal: ctx.models.get(ctx.room, user),
    room: ctx.rooms.get(ctx.room).model,
    global: ctx.settings.get("model"),
    known: (model) => ctx.catalog.has(model),
  }).model;
}

/** Tool calling in this room: the room's switch, else `.tools`; never without tools. */
export function toolsFor(ctx: Context): boolean {
  return effectiveTools({
    room: ctx.rooms.get(ctx.room).tools,
    global: ctx.settings.get("tools"),
    available: ctx.tools.size > 0,
  });
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
    await ctx.reply(withHeader(ctx.senderName, textOf(stored.content)));
    return;
  }
  const read = await readAttachments(ctx, model);
  if (typeof read === "string") {
    ctx.log.info(`Not asking ${model} for ${ctx.senderName}: ${read}`);
    await ctx.reply(withHeader(ctx.senderName, read));
    return;
  }
  const attached = read.files.length + read.images.length > 0;
  const question: Message | undefined = options.userText || attached
    ? {
      role: "user",
      content: contentWith(options.userText ?? "", read),
      ...(ctx.eventId ? { id: ctx.eventId } : {}),
    }
    : undefined;
  const messages = await requestMessages(ctx, options, question);
  if (!messages) return;
  const started = performance.now();
  const answer = await askModel(ctx, options, await withImages(ctx, model, messages, read));
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
  ctx.recordUsage(model, { input: answer.usage.prompt, output: answer.usage.completion });
  const ms = Math.round(performance.now() - started);
  ctx.log.info(
    `Sending response to ${ctx.senderName} in ${room}: model ${model}, ${ms} ms, ` +
      `${answer.usage.prompt}+${answer.usage.completion} tokens, ${answer.toolCalls} tool call(s)`,
  );
  ctx.log.debug(`Response to ${ctx.senderName}: ${answer.text}`);
  await ctx.reply(withHeader(ctx.senderName, answer.text));
}

// The messages of the request: the stored thread (or the given one) and the
// question, with the prompt variables filled in; undefined when the question
// is too long for the model (the user has been told).
async function requestMessages(
  ctx: Context,
  options: ConverseOptions,
  question: Message | undefined,
): Promise<Message[] | undefined> {
  const { model } = options;
  let messages;
  try {
    messages = ctx.threads.request(ctx.room, options.owner, {
      next: question,
      thread: options.thread,
    });
  } catch (error) {
    if (!(error instanceof TooLongError)) throw error;
    ctx.log.info(`Message of ${ctx.senderName} too long for ${model}: ${error.message}`);
    await ctx.reply(CONVERSE_MESSAGES.tooLong(model, error.tokens, error.limit));
    return undefined;
  }
  return withVariables(messages, {
    now: ctx.now?.() ?? new Date(),
    timeZone: ctx.timeZone ?? "UTC",
    model,
    botName: ctx.botName,
    userName: ctx.senderName,
  });
}

// One answer of the model (tool loop included); a failure is logged with
// its cause and thrown on to the error boundary, which replies.
async function askModel(
  ctx: Context,
  options: ConverseOptions,
  messages: Message[],
): Promise<Answer> {
  const { model } = options;
  try {
    return await ctx.llm.answer({
      model,
      messages,
      tools: options.useTools ? ctx.tools : undefined,
      signal: ctx.signal,
      onImage: (image) => ctx.replyImage(image),
    });
  } catch (error) {
    // At shutdown the boundary does not reply either: nothing to log.
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
}
