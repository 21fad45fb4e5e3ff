/**
 * The orchestrator: filter an incoming message, route it, queue it per
 * (room, user) thread, and run its command with a placeholder and typing
 * notice when it talks to the model. Transport-agnostic: it only knows the
 * {@link ChatPort}.
 *
 * @module
 */
import type { ChatPort, IncomingMessage } from "./chat_port.ts";
import type { Config } from "./config.ts";
import {
  COMMAND_NAMES,
  COMMAND_TABLE,
  type Context,
  type Determination,
  determine,
  isInvalid,
  type ModelCatalog,
  modelCatalog,
  route,
} from "./handlers/mod.ts";
import { failureReason, LlmError } from "./llm.ts";
import type { History, PersonalModels, Settings } from "./history.ts";
import type { Llm } from "./llm.ts";
import { getLogger } from "./log.ts";
import { KeyedQueue } from "./queue.ts";
import { RateLimiter, type TokenBudget } from "./rate_limit.ts";
import { Responder } from "./responder.ts";
import type { ToolRegistry } from "./tools/registry.ts";

const log = getLogger("bot");

/** Options for {@link Bot}. */
export interface BotOptions {
  config: Config;
  port: ChatPort;
  history: History;
  models: PersonalModels;
  settings: Settings;
  llm: Llm;
  tools: ToolRegistry;
  help: string;
  /** Show the "Thinking…" placeholder when `.thinking` is on (default true). */
  placeholders?: boolean;
  /** Rooms to answer in (room IDs); all rooms when absent. */
  allowedRooms?: ReadonlySet<string>;
  /** Delay between placeholder edits (default 1200 ms, the floor). */
  animationMs?: number;
  /** Placeholder edits before the animation rests (default 25). */
  maxAnimationEdits?: number;
  /** Interval to renew the typing notice (default 20 s). */
  typingRenewMs?: number;
  /** Delay before the typing notice appears (default 300 ms). */
  typingDelayMs?: number;
  /** Log the bot's own processing time per message (`INFINIGPT_TIMINGS=1`). */
  timings?: boolean;
  /** Daily token budget per user (`llm.rate_limit.daily_tokens`); usage is counted always. */
  budget?: TokenBudget;
}

/** Refusals of the per-user limits (`llm.rate_limit`). */
export const LIMIT_MESSAGES = {
  rate: (name: string, perMinute: number, seconds: number) =>
    `Slow down, ${name}: at most ${perMinute} requests per minute. Try again in ${seconds} s.`,
  budget: (name: string, tokens: number) =>
    `Sorry ${name}, you have used today's budget of ${tokens} tokens. It renews at midnight UTC.`,
};

/** The bot: give it messages, it answers through the port. */
export class Bot {
  readonly #options: BotOptions;
  readonly #queue = new KeyedQueue();
  /** Exclusive use of a thread while it is read, answered and written. */
  readonly #threads = new KeyedQueue();
  readonly #abort = new AbortController();
  readonly #limiter: RateLimiter;
  readonly #catalog: ModelCatalog;
  #closing = false;

  constructor(options: BotOptions) {
    this.#options = options;
    const { llm } = options.config;
    this.#catalog = modelCatalog({ models: llm.models, defaultModel: llm.default_model });
    this.#limiter = new RateLimiter(options.config.llm.rate_limit.requests_per_minute);
  }

  /** A refusal when the sender is over a limit; admins have none. */
  #overLimit(sender: string, senderName: string, isAdmin: boolean): string | undefined {
    if (isAdmin) return undefined;
    const { rate_limit } = this.#options.config.llm;
    const wait = this.#limiter.take(sender);
    if (wait > 0) {
      return LIMIT_MESSAGES.rate(
        senderName,
        rate_limit.requests_per_minute,
        Math.ceil(wait / 1000),
      );
    }
    if (this.#options.budget?.exhausted(sender)) {
      return LIMIT_MESSAGES.budget(senderName, this.#options.budget.daily);
    }
    return undefined;
  }

  /** True once {@link stop} was called. */
  get closing(): boolean {
    return this.#closing;
  }

  /**
   * Decides whether and how to answer; resolves when the answer was sent.
   * Resolves `false` only when shutdown kept the message from being
   * answered (so a transport can keep it for after the restart).
   */
  handle(msg: IncomingMessage): Promise<boolean> {
    const { config, port, allowedRooms } = this.#options;
    const ignore = Promise.resolve(true);
    if (this.#closing) return Promise.resolve(false);
    if (msg.sender === port.userId) return ignore;
    if (typeof msg.body !== "string" || typeof msg.room !== "string") return ignore;
    if (allowedRooms && !allowedRooms.has(msg.room)) return ignore;
    const isAdmin = config.matrix.admins.includes(msg.sender);
    const allowedUsers = config.matrix.allowed_users;
    if (allowedUsers && !isAdmin && !allowedUsers.includes(msg.sender)) return ignore;
    const routed = route({
      body: msg.body,
      botName: port.botName(),
      botUserId: port.userId,
      mentions: msg.mentions,
    }, COMMAND_NAMES);
    const determination = routed && determine(routed, COMMAND_TABLE);
    if (!determination) return ignore;
    const { command } = determination;
    if (command.admin && !isAdmin) {
      log.info(`${msg.sender} is not an admin; ${command.name} in ${msg.room} ignored`);
      return ignore;
    }
    return this.#queue.push(
      `${msg.room}\n${msg.sender}`,
      () => this.#run(msg, determination, isAdmin),
    );
  }

  async #run(
    msg: IncomingMessage,
    { command, args }: Determination,
    isAdmin: boolean,
  ): Promise<boolean> {
    const o = this.#options;
    const senderName = await o.port.displayName(msg.room, msg.sender).catch(() => msg.sender) ||
      msg.sender;
    log.info(`${senderName} (${msg.sender}) sent ${command.name} in ${msg.room}`);
    log.debug(`${senderName} (${msg.sender}) sent in ${msg.room}: ${msg.body}`);
    const responder = new Responder(o.port, msg, o);
    const received = msg.receivedAt ?? performance.now();
    const marks = new Map<string, number>();
    const llm = o.llm;
    const ctx: Omit<Context, "args"> = {
      room: msg.room,
      sender: msg.sender,
      senderName,
      isAdmin,
      eventId: msg.eventId,
      threadId: msg.threadId,
      botName: o.port.botName(),
      threads: o.history,
      models: o.models,
      settings: o.settings,
      llm: {
        answer: async (request) => {
          marks.set("provider", performance.now());
          const answer = await llm.answer(request);
          marks.set("answered", performance.now());
          return answer;
        },
      },
      tools: o.tools,
      catalog: this.#catalog,
      help: o.help,
      log: getLogger("handlers", command.name.slice(1)),
      signal: this.#abort.signal,
      reply: (text) => responder.reply(text),
      replyImage: (image) => responder.image(image),
      displayName: (userId) =>
        o.port.displayName(msg.room, userId).catch(() => userId).then((n) => n || userId),
      withThread: (user, task) => this.#threads.push(`${msg.room}\n${user}`, task),
      withAllThreads: (task) => this.#threads.exclusive(task),
      recordUsage: (tokens) => o.budget?.add(msg.sender, tokens),
    };
    try {
      if (command.limited) {
        const refusal = this.#overLimit(msg.sender, senderName, isAdmin);
        if (refusal) {
          log.info(`${msg.sender} is over a limit; ${command.name} in ${msg.room} refused`);
          await responder.reply(refusal);
          return true;
        }
      }
      if (command.responder === "placeholder") {
        responder.start(senderName, (o.placeholders ?? true) && o.settings.get("thinking"));
      }
      if (!isInvalid(args)) await command.run({ ...ctx, args });
      else if (args.usage !== undefined) await responder.reply(args.usage);
      return true;
    } catch (error) {
      if (this.#abort.signal.aborted) {
        // Not answered: a transport keeps the message and it is answered
        // after the restart (the placeholder is reused through its txn id).
        log.info(`${command.name} from ${msg.sender} in ${msg.room} interrupted by shutdown`);
        return false;
      }
      // A model failure is expected and was logged with its model where it happened.
      if (!(error instanceof LlmError)) {
        log.error(
          `${command.name} from ${msg.sender} in ${msg.room} failed: ${
            (error as Error).stack ?? error
          }`,
        );
      }
      await responder.reply(`Something went wrong (${failureReason(error)})`);
      return true;
    } finally {
      await responder.finish(this.#abort.signal.aborted);
      const asked = marks.get("provider");
      const answered = marks.get("answered");
      if (o.timings && asked !== undefined && answered !== undefined && responder.firstSendAt) {
        log.info(
          `Timing ${msg.eventId ?? "-"}: received→provider ${(asked - received).toFixed(2)} ms, ` +
            `answer→send ${(responder.firstSendAt - answered).toFixed(2)} ms`,
        );
      }
    }
  }

  /** Resolves when every accepted message has been answered. */
  idle(): Promise<void> {
    return this.#queue.idle();
  }

  /**
   * Stops accepting messages and waits up to `graceMs` for answers in
   * progress; then cancels what is left (decision 2).
   */
  async stop(graceMs = 10_000): Promise<void> {
    this.#closing = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), graceMs);
    });
    const finished = await Promise.race([this.idle().then(() => true), expired]);
    clearTimeout(timer);
    if (!finished) {
      log.warn(`Answers still running after ${graceMs} ms; cancelling them`);
      this.#abort.abort(new Error("shutting down"));
      await this.idle();
    }
  }
}
