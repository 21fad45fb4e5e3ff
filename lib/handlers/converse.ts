/**
 * The flow every model-backed command shares: append the user's text, ask
 * the model, store the answer, reply with the requester's header. A failure
 * replies `Something went wrong (<reason>)` (decision 3).
 *
 * @module
 */
import { allModels } from "../config.ts";
import type { Message } from "../history.ts";
import { failureReason } from "../llm.ts";
import { escapeMarkdownInline } from "../markdown.ts";
import type { Context } from "./context.ts";

/** The reply header: `**<display name>**:` then the text on the next line. */
export function withHeader(name: string, text: string): string {
  return `**${escapeMarkdownInline(name)}**:\n${text}`;
}

/** The model for a user in this room: their personal model if still configured, else global. */
export function modelFor(ctx: Context, user: string): string {
  const personal = ctx.models.get(ctx.room, user);
  if (personal && allModels(ctx.config).includes(personal)) return personal;
  return ctx.settings.get("model");
}

/**
 * The thread as the model should see it: when a retried message is already
 * stored, only up to it (later messages were not there when it was sent).
 */
export function upTo(thread: Message[], id: string | undefined): Message[] {
  const at = id ? thread.findIndex((m) => m.id === id) : -1;
  return at === -1 ? thread : thread.slice(0, at + 1);
}

/** What to converse about. */
export interface ConverseOptions {
  /** Whose thread (the sender, or the `.x` target). */
  owner: string;
  /** Appended as the user's message; nothing is appended when absent. */
  userText?: string;
  model: string;
  useTools: boolean;
}

/** Runs one exchange with the model in `owner`'s thread and replies. */
export async function converse(ctx: Context, options: ConverseOptions): Promise<void> {
  const { room } = ctx;
  const { owner, model } = options;
  // Ids keyed on the triggering event make a re-handled event harmless.
  const answerId = ctx.eventId ? `${ctx.eventId}:answer` : undefined;
  let alreadyThere = false;
  if (options.userText) {
    alreadyThere = !ctx.history.append(room, owner, {
      role: "user",
      content: options.userText,
      id: ctx.eventId,
    });
  }
  const stored = answerId ? ctx.history.find(room, owner, answerId) : undefined;
  if (stored) {
    ctx.log.info(`Resending the stored answer for ${ctx.eventId} to ${ctx.senderName}`);
    await ctx.reply(withHeader(ctx.senderName, stored.content));
    return;
  }
  const started = performance.now();
  let answer;
  ctx.mark("provider");
  try {
    answer = await ctx.llm.answer({
      model,
      messages: upTo(ctx.history.get(room, owner), alreadyThere ? ctx.eventId : undefined),
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
    return;
  }
  ctx.mark("answered");
  for (const thought of answer.thinking) {
    ctx.log.debug(`Model thinking for ${ctx.senderName} (${ctx.sender}): ${thought}`);
  }
  ctx.history.append(room, owner, { role: "assistant", content: answer.text, id: answerId });
  ctx.recordUsage(answer.usage.prompt + answer.usage.completion);
  const ms = Math.round(performance.now() - started);
  ctx.log.info(
    `Sending response to ${ctx.senderName} in ${room}: model ${model}, ${ms} ms, ` +
      `${answer.usage.prompt}+${answer.usage.completion} tokens, ${answer.toolCalls} tool call(s)`,
  );
  ctx.log.debug(`Response to ${ctx.senderName}: ${answer.text}`);
  await ctx.reply(withHeader(ctx.senderName, answer.text));
}
