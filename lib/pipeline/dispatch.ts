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
import type { UsageStore } from "../state/ports.ts";
import type { Responder } from "../responder.ts";
import type { Step } from "./compose.ts";
import { determined, responderOf, type Turn } from "./turn.ts";

/** Options for {@link dispatchStep}. */
export interface DispatchOptions {
  /** The bot's name and the room's display names. */
  port: Pick<ChatPort, "botName" | "displayName">;
  /** Exclusive use of a thread while it is read, answered and written. */
  threadLocks: KeyedQueue;
  /** Aborted at shutdown. */
  signal: AbortSignal;
  /** Where the tokens a sender used are counted. */
  budget?: Pick<UsageStore, "add">;
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
  const { port, threadLocks, budget } = options;
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
    ...(responder.streaming ? { stream: (text: string) => responder.partial(text) } : {}),
    replyImage: (image) => responder.image(image),
    displayName: (userId) =>
      port.displayName(msg.room, userId).catch(() => userId).then((n) => n || userId),
    withThread: (user, task) => threadLocks.push(`${msg.room}\n${user}`, task),
    withAllThreads: (task) => threadLocks.exclusive(task),
    recordUsage: (tokens) => budget?.add(msg.sender, tokens),
  };
}
