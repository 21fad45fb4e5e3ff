/**
 * Dispatch: the handler's context is built from the turn's facts and
 * services, and the command runs. Arguments the command did not accept get
 * its usage as the reply (or nothing), and the handler does not run.
 *
 * @module
 */
import type { ChatPort } from "../chat_port.ts";
import { type Context, isInvalid } from "../handlers/mod.ts";
import { getLogger, type Logger } from "../log.ts";
import type { KeyedQueue } from "../queue.ts";
import type { Responder } from "../responder.ts";
import type { Step } from "./compose.ts";
import { determined, responderOf, type Turn } from "./turn.ts";

/** Options for {@link dispatchStep}. */
export interface DispatchOptions {
  /** The bot's name and the room's display names. */
  port: Pick<ChatPort, "botName" | "displayName" | "powerLevel" | "attachmentOf" | "download">;
  /** Exclusive use of a thread while it is read, answered and written. */
  threadLocks: KeyedQueue;
  /** Aborted at shutdown. */
  signal: AbortSignal;
}

/** The dispatch step: the last one. */
export function dispatchStep(options: DispatchOptions): Step<Turn> {
  return async (turn) => {
    const { command, args } = determined(turn);
    const log = getLogger("handlers", command.name.slice(1));
    const responder = responderOf(turn);
    if (isInvalid(args)) {
      if (args.usage !== undefined) await responder.reply(args.usage);
      else log.debug(`${command.name} from ${turn.msg.sender} ignored: nothing to act on`);
      return;
    }
    await command.run(handlerContext(turn, args, responder, log, options));
  };
}

/** The facts of `turn` and the services a handler may use. */
export function handlerContext<A>(
  turn: Turn,
  args: A,
  responder: Responder,
  log: Logger,
  options: DispatchOptions,
): Context<A> {
  const { msg, services } = turn;
  const { port, threadLocks } = options;
  return {
    room: msg.room,
    sender: msg.sender,
    senderName: turn.senderName,
    isAdmin: turn.isAdmin,
    eventId: msg.eventId,
    threadId: msg.threadId,
    botName: port.botName(),
    args,
    ...services,
    log,
    signal: options.signal,
    reply: (text) => responder.reply(text),
    replyImage: (image) => responder.image(image),
    displayName: (userId) =>
      port.displayName(msg.room, userId).catch(() => userId).then((n) => n || userId),
    withThread: (user, task) => threadLocks.push(`${msg.room}\n${user}`, task),
    withAllThreads: (task) => threadLocks.exclusive(task),
    recordUsage: (model, tokens) => services.usage.record(msg.sender, model, tokens),
    powerLevel: (userId) => powerLevel(port, msg.room, userId, log),
    ...mediaAccess(turn, port),
  };
}

/** The message's attachments and their download, where the port has media. */
function mediaAccess(
  turn: Turn,
  port: DispatchOptions["port"],
): Pick<Context, "attachments" | "download"> {
  const { msg } = turn;
  if (!port.download) return {};
  return {
    attachments: async () => {
      if (msg.attachments?.length) return [...msg.attachments];
      if (!msg.inReplyTo || !port.attachmentOf) return [];
      const target = await port.attachmentOf(msg.room, msg.inReplyTo);
      return target ? [target] : [];
    },
    download: (ref, maxBytes) => port.download!(ref, maxBytes),
  };
}

/** A user's power level in the room; 0 when the port has none or reading it fails. */
async function powerLevel(
  port: Pick<ChatPort, "powerLevel">,
  room: string,
  userId: string,
  log: Logger,
): Promise<number> {
  if (!port.powerLevel) return 0;
  try {
    return await port.powerLevel(room, userId);
  } catch (error) {
    log.warn(`Cannot read the power level of ${userId} in ${room}: ${(error as Error).message}`);
    return 0;
  }
}
