/**
 * The orchestrator: every incoming message passes the pipeline of
 * {@link botSteps} (filter, route, guard, queue per (room, user) thread,
 * limits, placeholder, handler, one error boundary). Transport-agnostic: it
 * only knows the {@link ChatPort}.
 *
 * @module
 */
import { deadline, DeadlineError } from "./async.ts";
import type { ChatPort, IncomingMessage } from "./chat_port.ts";
import {
  type Answerer,
  COMMAND_NAMES,
  COMMAND_TABLE,
  type MediaSettings,
  type ModelCatalog,
  type Services,
} from "./handlers/mod.ts";
import { getLogger } from "./log.ts";
import { threadKey } from "./conversation.ts";
import { metrics } from "./bot_metrics.ts";
import { addressStep } from "./pipeline/address.ts";
import { boundaryStep } from "./pipeline/boundary.ts";
import { compose, type Step } from "./pipeline/compose.ts";
import { determineStep } from "./pipeline/determine.ts";
import { dispatchStep } from "./pipeline/dispatch.ts";
import { guardStep } from "./pipeline/guard.ts";
import { intakeStep } from "./pipeline/intake.ts";
import { limitsStep } from "./pipeline/limits.ts";
import { replyStep } from "./pipeline/reply.ts";
import { respondStep } from "./pipeline/respond.ts";
import { senderStep } from "./pipeline/sender.ts";
import { serializeStep } from "./pipeline/serialize.ts";
import { timingStep } from "./pipeline/timing.ts";
import type { AnswerSwitches } from "./pipeline/unprefixed.ts";
import { newTurn, type Turn } from "./pipeline/turn.ts";
import { KeyedQueue } from "./queue.ts";
import { MemoryRoomSettingsStore, MemoryUsageStore } from "./state/memory.ts";
import type {
  PersonalModelStore,
  RoomSettingsStore,
  SettingsStore,
  ThreadStore,
} from "./state/ports.ts";
import { UsageLedger } from "./usage.ts";
import type { ResponderOptions } from "./responder.ts";
import type { ToolRegistry } from "./tools/registry.ts";

const log = getLogger("bot");

/** Options for {@link Bot}: its services and the slices of the config it uses. */
export interface BotOptions {
  /** The chat network the bot answers on. */
  port: ChatPort;
  /** Conversation threads per (room, user). */
  threads: ThreadStore;
  /** Personal models per (room, user). */
  models: PersonalModelStore;
  /** The bot-wide settings (`.model`, `.tools`, `.verbose`, `.thinking`). */
  settings: SettingsStore;
  /** Settings per room (`.room`); in memory when absent. */
  rooms?: RoomSettingsStore;
  /** Asks the model. */
  llm: Answerer;
  /** The tools offered to the model. */
  tools: ToolRegistry;
  /** The configured models (`llm.models`, `llm.default_model`). */
  catalog: ModelCatalog;
  /** `help.md`. */
  help: string;
  /** Images and files in (`llm.vision_models`, `llm.max_*`); the defaults when absent. */
  media?: MediaSettings;
  /** Admins by Matrix ID (`matrix.admins`). */
  admins: readonly string[];
  /** The only users answered besides admins (`matrix.allowed_users`); everyone when absent. */
  allowedUsers?: readonly string[];
  /** Rooms to answer in (room IDs); all rooms when absent. */
  allowedRooms?: ReadonlySet<string>;
  /** `llm.rate_limit.requests_per_minute`; 0 for no limit. */
  requestsPerMinute: number;
  /**
   * Tokens per user and model, their cost and the budgets (`llm.budget`,
   * `llm.prices`); in memory without budgets when absent. Usage is counted always.
   */
  usage?: UsageLedger;
  /** Show the "Thinking…" placeholder when `.thinking` is on (default true). */
  placeholders?: boolean;
  /** Placeholder animation and typing-notice timings. */
  responder?: ResponderOptions;
  /** Log the bot's own processing time per message (`INFINIGPT_TIMINGS=1`). */
  timings?: boolean;
  /** `matrix.answer`: the ways of talking without a prefix that are on (default all). */
  answer?: AnswerSwitches;
  /** `llm.timezone` for the prompt variables (default UTC). */
  timeZone?: string;
  /** The clock of the prompt variables (tests). */
  now?: () => Date;
}

/** What the steps share with the bot: its queues and its shutdown signal. */
export interface BotParts {
  /** Messages per (room, user), in order. */
  queue: KeyedQueue;
  /** Exclusive use of a thread while it is read, answered and written. */
  threadLocks: KeyedQueue;
  /** Aborted when the grace period of {@link Bot.stop} ran out. */
  signal: AbortSignal;
}

/**
 * The steps every message passes, in order. Before `serialize` nothing
 * awaits (the order of arrival is kept); after it, the message was
 * accepted and the boundary answers whatever goes wrong.
 */
export function botSteps(options: BotOptions, parts: BotParts): Step<Turn>[] {
  const { port, usage } = options;
  return [
    intakeStep({
      userId: port.userId,
      admins: options.admins,
      allowedUsers: options.allowedUsers,
      allowedRooms: options.allowedRooms,
    }),
    addressStep({
      botName: () => port.botName(),
      botUserId: port.userId,
      commands: COMMAND_NAMES,
      answer: options.answer,
      knownThread: (room, root) => options.threads.has(room, threadKey(root)),
    }),
    determineStep(COMMAND_TABLE),
    guardStep(),
    serializeStep(parts.queue),
    senderStep(port),
    replyStep(port, options.responder),
    ...(options.timings ? [timingStep()] : []),
    boundaryStep(parts.signal),
    limitsStep({ requestsPerMinute: options.requestsPerMinute, budget: usage }),
    respondStep({ placeholders: options.placeholders }),
    dispatchStep({ port, threadLocks: parts.threadLocks, signal: parts.signal }),
  ];
}

/** The bot: give it messages, it answers through the port. */
export class Bot {
  readonly #queue = new KeyedQueue();
  readonly #abort = new AbortController();
  readonly #services: Services;
  readonly #pipeline: (turn: Turn) => Promise<void>;
  #closing = false;

  /** A bot on `options.port`. */
  constructor(options: BotOptions) {
    const { threads, models, settings, llm, tools, catalog, help, timeZone, now, media } = options;
    const rooms = options.rooms ?? new MemoryRoomSettingsStore();
    const usage = options.usage ?? new UsageLedger({ store: new MemoryUsageStore() });
    this.#services = {
      threads,
      models,
      settings,
      rooms,
      usage,
      llm,
      tools,
      catalog,
      help,
      timeZone,
      now,
      media,
    };
    this.#pipeline = compose(botSteps({ ...options, usage }, {
      queue: this.#queue,
      threadLocks: new KeyedQueue(),
      signal: this.#abort.signal,
    }));
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
    if (this.#closing) return Promise.resolve(false);
    metrics.message();
    const turn = newTurn(msg, this.#services);
    return this.#pipeline(turn).then(() => turn.outcome !== "interrupted");
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
    const finished = await deadline(this.idle(), graceMs).then(() => true, (error) => {
      if (error instanceof DeadlineError) return false;
      throw error;
    });
    if (!finished) {
      log.warn(`Answers still running after ${graceMs} ms; cancelling them`);
      this.#abort.abort(new Error("shutting down"));
      await this.idle();
    }
  }
}
