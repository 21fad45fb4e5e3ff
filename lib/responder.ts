/**
 * The replies to one message: the typing notice, the "Thinking…"
 * placeholder (only when nothing can be shown after a delay) and its
 * animation, the streamed text so far (edits at most once per interval,
 * continued in new messages when it outgrows one event), and the answers
 * (the first one is the last version of that message). Transport failures
 * are logged, never thrown.
 *
 * @module
 */
import type { ChatPort, IncomingMessage, OutgoingMessage } from "./chat_port.ts";
import { getLogger } from "./log.ts";
import { escapeMarkdownInline } from "./markdown.ts";
import { splitMarkdown } from "./split.ts";
import type { ToolImage } from "./tools/registry.ts";

const log = getLogger("bot");

/** What users see from the responder itself. */
const MESSAGES = {
  /** The placeholder's text; the animation appends the frames. */
  thinking: "Thinking",
  imageFailed: (reason: string) => `Sorry, the image could not be posted (${reason})`,
};

/** Frames of the placeholder animation, after the initial "Thinking.". */
const FRAMES = ["..", "...", "..", "."];

/** The reply header: `**<display name>**:` then the text on the next line. */
export function withHeader(name: string, text: string): string {
  return `**${escapeMarkdownInline(name)}**:\n${text}`;
}

/** Placeholder, streaming and typing-notice timings. */
export interface ResponderOptions {
  /** Delay between placeholder edits (default 1200 ms, the floor). */
  animationMs?: number;
  /** Placeholder edits before the animation rests (default 25). */
  maxAnimationEdits?: number;
  /** Interval to renew the typing notice (default 20 s). */
  typingRenewMs?: number;
  /** Delay before the typing notice appears (default 0: at once, decision 35). */
  typingDelayMs?: number;
  /** Nothing to show after this long: the placeholder is sent (`llm.placeholder_delay`, default 600 ms). */
  placeholderDelayMs?: number;
  /** Least time between two versions of a streamed reply (`llm.stream_interval`, default 1500 ms). */
  streamIntervalMs?: number;
}

/** What a command's replies show while it runs. */
export interface StartOptions {
  /** The "Thinking…" placeholder, when nothing can be shown after the delay. */
  placeholder: boolean;
  /** The answer's text so far, as {@link Responder.partial} reports it. */
  stream: boolean;
}

/** One message of the reply, as the room shows it now. */
interface Shown {
  id: string;
  body: string;
}

/**
 * Sends the replies of one command: the first one becomes the last version
 * of the placeholder or streamed message, later ones are new messages.
 * Never throws: transport failures are logged.
 */
export class Responder {
  readonly #port: ChatPort;
  readonly #msg: IncomingMessage;
  readonly #options: ResponderOptions;
  /** The messages of the first reply so far (placeholder or streamed text). */
  #shown: Shown[] = [];
  #count = 0;
  /** The key of the first message (see {@link start}). */
  #firstKey = "reply0";
  #images = 0;
  #edits = 0;
  #stopped = false;
  #closed = false;
  #streaming = false;
  #delayOver = false;
  #timer?: ReturnType<typeof setTimeout>;
  #delayTimer?: ReturnType<typeof setTimeout>;
  #flushTimer?: ReturnType<typeof setTimeout>;
  #pending: Promise<void> = Promise.resolve();
  /** Every send, edit and redaction of the first reply, in order. */
  #chain: Promise<void> = Promise.resolve();
  /** The newest streamed text, and whether a write of it is due. */
  #latest?: string;
  #flushDue = false;
  /** When a streamed version was last handed to the port. */
  #textAt = -Infinity;
  /** When the first reply was handed to the port (timing spans). */
  firstSendAt?: number;
  #typingTimer?: ReturnType<typeof setInterval>;
  #typingDelay?: ReturnType<typeof setTimeout>;
  #typing = false;

  /** A responder for the replies to `msg`. */
  constructor(port: ChatPort, msg: IncomingMessage, options: ResponderOptions = {}) {
    this.#port = port;
    this.#msg = msg;
    this.#options = options;
  }

  /** True when the answer's text is shown as it grows ({@link partial}). */
  get streaming(): boolean {
    return this.#streaming;
  }

  #txn(suffix: string): string | undefined {
    return this.#msg.eventId ? `${this.#msg.eventId}:${suffix}` : undefined;
  }

  #enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.#chain.then(task);
    this.#chain = run.catch((error) => log.warn(`Reply failed: ${(error as Error).message}`));
    return this.#chain;
  }

  /**
   * Starts the typing notice at once, and the clock after which the
   * placeholder (or the text so far) is shown: the model is asked at once,
   * and an answer ready before then is one message (decision 35).
   */
  start(senderName: string, options: StartOptions): void {
    const room = this.#msg.room;
    const renew = () => {
      this.#typing = true;
      return this.#port.setTyping(room, true).catch(() => {});
    };
    this.#typingDelay = setTimeout(() => {
      void renew();
      this.#typingTimer = setInterval(renew, this.#options.typingRenewMs ?? 20_000);
    }, this.#options.typingDelayMs ?? 0);
    // A re-handled event after a crash is a backlog to clear: its answer
    // comes whole, into the message its first attempt left.
    this.#streaming = options.stream && !this.#msg.retry;
    if (!options.placeholder && !options.stream) return;
    // Whatever the first message turns out to be (placeholder, text so far
    // or the whole answer), it has one key: a re-handled event after a crash
    // finds it again instead of adding a second answer.
    this.#firstKey = "placeholder";
    // A retried event reuses the placeholder its first attempt may have sent.
    const delay = this.#msg.retry ? 0 : this.#options.placeholderDelayMs ?? 600;
    if (delay <= 0) return this.#delayPassed(senderName, options.placeholder);
    this.#delayTimer = setTimeout(() => this.#delayPassed(senderName, options.placeholder), delay);
  }

  #delayPassed(senderName: string, placeholder: boolean): void {
    this.#delayOver = true;
    if (this.#count > 0 || this.#closed) return;
    if (this.#latest !== undefined) return this.#schedule();
    if (!placeholder) return;
    void this.#enqueue(async () => {
      if (this.#count > 0 || this.#shown.length || this.#latest !== undefined) return;
      const body = withHeader(senderName, `${MESSAGES.thinking}.`);
      try {
        const id = await this.#port.send(this.#msg.room, this.#message(body, "placeholder"));
        if (id) this.#shown = [{ id, body }];
      } catch (error) {
        log.warn(
          `Could not send the placeholder in ${this.#msg.room}: ${(error as Error).message}`,
        );
        return;
      }
      // A retried event may already have a newer edit than our frames would be.
      if (this.#shown.length && !this.#msg.retry) this.#animate(senderName, 0);
    });
  }

  #message(body: string, suffix?: string, retry?: boolean): OutgoingMessage {
    return {
      body,
      threadId: this.#msg.threadId,
      // Every answer is a reply to its message (decision 36).
      replyTo: this.#msg.eventId,
      txnId: suffix ? this.#txn(suffix) : undefined,
      ...(retry ? { retry } : {}),
    };
  }

  #animate(senderName: string, frame: number): void {
    const max = this.#options.maxAnimationEdits ?? 25;
    if (this.#stopped || frame >= max) return;
    this.#timer = setTimeout(() => {
      if (this.#stopped) return;
      const body = withHeader(senderName, `${MESSAGES.thinking}${FRAMES[frame % FRAMES.length]}`);
      this.#pending = this.#port.edit(this.#msg.room, this.#shown[0].id, {
        body,
        threadId: this.#msg.threadId,
      }).catch((error) => log.debug(`Placeholder edit failed: ${(error as Error).message}`))
        .then(() => this.#animate(senderName, frame + 1));
    }, this.#options.animationMs ?? 1200);
  }

  async #stopAnimation(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    // The last animation edit must land before the next version, or clients
    // would show "Thinking..." as the latest one.
    await this.#pending;
  }

  /**
   * The answer so far (header included), while it streams: shown once the
   * placeholder delay is over, then at most once per stream interval.
   * Ignored once the answer was replied.
   */
  partial(body: string): void {
    if (!this.#streaming || this.#count > 0 || this.#closed) return;
    this.#latest = body;
    if (this.#delayOver) this.#schedule();
  }

  #schedule(): void {
    if (this.#flushDue) return;
    this.#flushDue = true;
    const wait = Math.max(0, this.#textAt + this.#interval() - performance.now());
    this.#flushTimer = setTimeout(() => void this.#enqueue(() => this.#flush()), wait);
  }

  #interval(): number {
    return this.#options.streamIntervalMs ?? 1500;
  }

  async #flush(): Promise<void> {
    const body = this.#latest;
    if (this.#count > 0 || this.#closed || body === undefined) return;
    await this.#stopAnimation();
    await this.#write(body, false);
    this.#flushDue = false;
    if (this.#latest !== body) this.#schedule();
  }

  /**
   * Makes the reply's messages show `body`, split as one event holds it:
   * changed parts edited, new ones sent, left-over ones removed. A failed
   * edit of the final version is sent anew.
   */
  async #write(body: string, final: boolean): Promise<void> {
    const limit = this.#port.editLimitBytes;
    const parts = limit ? splitMarkdown(body, limit) : [body];
    const stale = this.#shown.slice(parts.length);
    const changed = parts.map((part, i) => ({ part, i })).filter(({ part, i }) =>
      this.#shown[i]?.body !== part
    );
    if (!changed.length && !stale.length) return;
    // The whole answer is not held back for the pace of the text so far: a
    // user waiting for it (or a backlog after a restart) would wait an
    // interval more for nothing.
    this.#textAt = performance.now();
    for (const { part, i } of changed) await this.#writePart(part, i, final);
    for (const old of stale) await this.#redact(old.id);
    this.#shown = this.#shown.slice(0, parts.length);
  }

  async #writePart(part: string, i: number, final: boolean): Promise<void> {
    const room = this.#msg.room;
    const old = this.#shown[i];
    const key = final ? (i ? `reply0#${i}` : "reply0") : undefined;
    if (!old) {
      const suffix = key ?? (i ? `placeholder#${i}` : "placeholder");
      try {
        const id = await this.#port.send(room, this.#message(part, suffix));
        if (id) this.#shown[i] = { id, body: part };
      } catch (error) {
        log.error(`Could not send a reply in ${room}: ${(error as Error).message}`);
      }
      return;
    }
    const message = this.#message(part, key ?? `edit${this.#edits++}`, final && this.#msg.retry);
    try {
      await this.#port.edit(room, old.id, message);
      this.#shown[i] = { id: old.id, body: part };
    } catch (error) {
      if (!final) return log.debug(`Streamed edit failed: ${(error as Error).message}`);
      log.warn(`Could not edit the reply in ${room}, sending anew: ${(error as Error).message}`);
      // The failed edit used this key; a send with the same one is refused.
      if (message.txnId) message.txnId = `${message.txnId}:fallback`;
      try {
        const id = await this.#port.send(room, { ...message, retry: undefined });
        if (id) this.#shown[i] = { id, body: part };
      } catch (e) {
        log.error(`Could not send a reply in ${room}: ${(e as Error).message}`);
      }
      // The old version left above the answer would look like a second, stuck answer.
      await this.#redact(old.id);
    }
  }

  async #redact(id: string): Promise<void> {
    await this.#port.redact(this.#msg.room, id).catch((e) =>
      log.warn(`Could not remove the message ${id}: ${(e as Error).message}`)
    );
  }

  /** Sends a reply: the first one finishes the placeholder or streamed text, later ones are new messages. */
  async reply(body: string): Promise<void> {
    this.firstSendAt ??= performance.now();
    const n = this.#count++;
    clearTimeout(this.#delayTimer);
    clearTimeout(this.#flushTimer);
    if (n > 0) {
      await this.#chain;
      return this.#send(body, n);
    }
    await this.#enqueue(async () => {
      if (!this.#shown.length) return this.#send(body, 0, this.#firstKey);
      await this.#stopAnimation();
      await this.#write(body, true);
    });
  }

  async #send(body: string, n: number, key = `reply${n}`): Promise<void> {
    try {
      await this.#port.send(this.#msg.room, this.#message(body, key, this.#msg.retry));
    } catch (error) {
      log.error(`Could not send a reply in ${this.#msg.room}: ${(error as Error).message}`);
    }
  }

  /** Posts an image; a failure is replied as text. */
  async image(image: ToolImage): Promise<void> {
    await this.#chain;
    const n = this.#images++;
    try {
      await this.#port.sendImage(this.#msg.room, image, {
        threadId: this.#msg.threadId,
        replyTo: this.#msg.eventId,
        txnId: this.#txn(`image${n}`),
      });
    } catch (error) {
      log.error(
        `Could not post image ${image.name} in ${this.#msg.room}: ${(error as Error).message}`,
      );
      await this.reply(MESSAGES.imageFailed((error as Error).message));
    }
  }

  /**
   * Stops animation and typing; a placeholder (or streamed text) nobody
   * replaced is removed, unless the answer was interrupted by shutdown and
   * will come later.
   */
  async finish(interrupted = false): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#typingDelay);
    clearInterval(this.#typingTimer);
    clearTimeout(this.#delayTimer);
    clearTimeout(this.#flushTimer);
    await this.#chain;
    await this.#stopAnimation();
    if (this.#count === 0 && !interrupted) {
      for (const { id } of this.#shown) await this.#redact(id);
    }
    if (this.#typing) await this.#port.setTyping(this.#msg.room, false).catch(() => {});
  }
}
