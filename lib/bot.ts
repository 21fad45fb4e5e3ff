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
import { type Command, COMMAND_NAMES, COMMAND_TABLE, type Context, route } from "./handlers/mod.ts";
import { withHeader } from "./handlers/converse.ts";
import type { Llm } from "./llm.ts";
import { getLogger } from "./log.ts";
import { KeyedQueue } from "./queue.ts";
import { RateLimiter } from "./rate_limit.ts";
import type { PersonalModelStore, SettingsStore, ThreadStore, UsageStore } from "./state/ports.ts";
import type { ToolImage, ToolRegistry } from "./tools/registry.ts";

const log = getLogger("bot");

/** Frames of the placeholder animation, after the initial "Thinking.". */
const FRAMES = ["..", "...", "..", "."];

/** Options for {@link Bot}. */
export interface BotOptions {
  config: Config;
  port: ChatPort;
  history: ThreadStore;
  models: PersonalModelStore;
  settings: SettingsStore;
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
  budget?: UsageStore;
}

/** Refusals of the per-user limits (`llm.rate_limit`). */
export const LIMIT_MESSAGES = {
  rate: (name: string, perMinute: number, seconds: number) =>
    `Slow down, ${name}: at most ${perMinute} requests per minute. Try again in ${seconds} s.`,
  budget: (name: string, tokens: number) =>
    `Sorry ${name}, you have used today's budget of ${tokens} tokens. It renews at midnight UTC.`,
};

/**
 * Sends the replies of one command: the first replaces the placeholder,
 * later ones are new messages. Never throws: transport failures are logged.
 */
class Responder {
  readonly #port: ChatPort;
  readonly #msg: IncomingMessage;
  readonly #options: BotOptions;
  #placeholder?: string;
  #resolved = false;
  #count = 0;
  #images = 0;
  #stopped = false;
  #timer?: ReturnType<typeof setTimeout>;
  #pending: Promise<void> = Promise.resolve();
  #placeholderSent: Promise<void> = Promise.resolve();
  /** When the first reply was handed to the port (timing spans). */
  firstSendAt?: number;
  #typingTimer?: ReturnType<typeof setInterval>;
  #typingDelay?: ReturnType<typeof setTimeout>;
  #typing = false;

  constructor(port: ChatPort, msg: IncomingMessage, options: BotOptions) {
    this.#port = port;
    this.#msg = msg;
    this.#options = options;
  }

  #txn(suffix: string): string | undefined {
    return this.#msg.eventId ? `${this.#msg.eventId}:${suffix}` : undefined;
  }

  /**
   * Starts the typing notice and the placeholder without waiting for them:
   * the model is asked at once; replies wait for the placeholder instead.
   */
  start(senderName: string, placeholder: boolean): void {
    const room = this.#msg.room;
    const renew = () => {
      this.#typing = true;
      return this.#port.setTyping(room, true).catch(() => {});
    };
    // An instant answer needs no typing notice (two requests saved); a slow one gets it.
    this.#typingDelay = setTimeout(() => {
      void renew();
      this.#typingTimer = setInterval(renew, this.#options.typingRenewMs ?? 20_000);
    }, this.#options.typingDelayMs ?? 300);
    if (!placeholder) return;
    this.#placeholderSent = (async () => {
      try {
        this.#placeholder = await this.#port.send(room, {
          body: withHeader(senderName, "Thinking."),
          threadId: this.#msg.threadId,
          txnId: this.#txn("placeholder"),
        });
      } catch (error) {
        log.warn(`Could not send the placeholder in ${room}: ${(error as Error).message}`);
        return;
      }
      // A retried event may already have a newer edit than our frames would be.
      if (this.#placeholder && !this.#msg.retry && !this.#stopped) this.#animate(senderName, 0);
    })();
  }

  #animate(senderName: string, frame: number): void {
    const max = this.#options.maxAnimationEdits ?? 25;
    if (this.#stopped || frame >= max) return;
    this.#timer = setTimeout(() => {
      if (this.#stopped) return;
      const body = withHeader(senderName, `Thinking${FRAMES[frame % FRAMES.length]}`);
      this.#pending = this.#port.edit(this.#msg.room, this.#placeholder!, {
        body,
        threadId: this.#msg.threadId,
      }).catch((error) => log.debug(`Placeholder edit failed: ${(error as Error).message}`))
        .then(() => this.#animate(senderName, frame + 1));
    }, this.#options.animationMs ?? 1200);
  }

  async #stopAnimation(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    // The last animation edit must land before the final one, or clients
    // would show "Thinking..." as the latest version.
    await this.#pending;
  }

  async reply(body: string): Promise<void> {
    this.firstSendAt ??= performance.now();
    await this.#placeholderSent;
    const n = this.#count++;
    const room = this.#msg.room;
    const message = {
      body,
      threadId: this.#msg.threadId,
      replyTo: this.#msg.threadId ? this.#msg.eventId : undefined,
      txnId: this.#txn(`reply${n}`),
      retry: this.#msg.retry,
    };
    if (this.#placeholder && !this.#resolved) {
      await this.#stopAnimation();
      try {
        await this.#port.edit(room, this.#placeholder, message);
        this.#resolved = true;
        return;
      } catch (error) {
        log.warn(
          `Could not edit the placeholder in ${room}, sending anew: ${(error as Error).message}`,
        );
        this.#resolved = true;
        // The failed edit used this key; a send with the same one is refused.
        if (message.txnId) message.txnId = `${message.txnId}:fallback`;
        // A "Thinking." left above the answer would look like a second, stuck answer.
        const stale = this.#placeholder;
        this.#pending = this.#port.redact(room, stale).catch((e) =>
          log.warn(`Could not remove the placeholder ${stale}: ${(e as Error).message}`)
        );
      }
    }
    try {
      await this.#port.send(room, message);
    } catch (error) {
      log.error(`Could not send a reply in ${room}: ${(error as Error).message}`);
    }
  }

  async image(image: ToolImage): Promise<void> {
    await this.#placeholderSent;
    const n = this.#images++;
    try {
      await this.#port.sendImage(this.#msg.room, image, {
        threadId: this.#msg.threadId,
        txnId: this.#txn(`image${n}`),
      });
    } catch (error) {
      log.error(
        `Could not post image ${image.name} in ${this.#msg.room}: ${(error as Error).message}`,
      );
      await this.reply(`Sorry, the image could not be posted (${(error as Error).message})`);
    }
  }

  /**
   * Stops animation and typing; a placeholder nobody replaced is removed,
   * unless the answer was interrupted by shutdown and will come later.
   */
  async finish(interrupted = false): Promise<void> {
    clearTimeout(this.#typingDelay);
    clearInterval(this.#typingTimer);
    await this.#placeholderSent;
    await this.#stopAnimation();
    if (this.#placeholder && !this.#resolved && !interrupted) {
      await this.#port.redact(this.#msg.room, this.#placeholder).catch((error) =>
        log.warn(`Could not remove the placeholder: ${(error as Error).message}`)
      );
    }
    if (this.#typing) await this.#port.setTyping(this.#msg.room, false).catch(() => {});
  }
}

/** The bot: give it messages, it answers through the port. */
export class Bot {
  readonly #options: BotOptions;
  readonly #queue = new KeyedQueue();
  /** Exclusive use of a thread while it is read, answered and written. */
  readonly #threads = new KeyedQueue();
  readonly #abort = new AbortController();
  readonly #limiter: RateLimiter;
  #closing = false;

  constructor(options: BotOptions) {
    this.#options = options;
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
    if (!routed) return ignore;
    const command = COMMAND_TABLE.get(routed.command)!;
    if (command.admin && !isAdmin) {
      log.info(`${msg.sender} is not an admin; ${command.name} in ${msg.room} ignored`);
      return ignore;
    }
    return this.#queue.push(
      `${msg.room}\n${msg.sender}`,
      () => this.#run(msg, command, routed.args, isAdmin),
    );
  }

  async #run(
    msg: IncomingMessage,
    command: Command,
    args: string,
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
    const ctx: Context = {
      room: msg.room,
      sender: msg.sender,
      senderName,
      isAdmin,
      command: command.name,
      args,
      eventId: msg.eventId,
      botName: o.port.botName(),
      config: o.config,
      history: o.history,
      models: o.models,
      settings: o.settings,
      llm: o.llm,
      tools: o.tools,
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
      mark: (label) => void marks.set(label, performance.now()),
    };
    try {
      if (command.usesModel) {
        const refusal = this.#overLimit(msg.sender, senderName, isAdmin);
        if (refusal) {
          log.info(`${msg.sender} is over a limit; ${command.name} in ${msg.room} refused`);
          await responder.reply(refusal);
          return true;
        }
        responder.start(senderName, (o.placeholders ?? true) && o.settings.get("thinking"));
      }
      await command.run(ctx);
      return true;
    } catch (error) {
      if (this.#abort.signal.aborted) {
        // Not answered: a transport keeps the message and it is answered
        // after the restart (the placeholder is reused through its txn id).
        log.info(`${command.name} from ${msg.sender} in ${msg.room} interrupted by shutdown`);
        return false;
      }
      log.error(
        `${command.name} from ${msg.sender} in ${msg.room} failed: ${
          (error as Error).stack ?? error
        }`,
      );
      await responder.reply("Something went wrong (an internal error)");
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
