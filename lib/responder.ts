/**
 * The replies to one message: the "Thinking…" placeholder and its animation,
 * the typing notice, and the answers (the first one replaces the
 * placeholder). Transport failures are logged, never thrown.
 *
 * @module
 */
import type { ChatPort, IncomingMessage } from "./chat_port.ts";
import { getLogger } from "./log.ts";
import { escapeMarkdownInline } from "./markdown.ts";
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

/** Placeholder animation and typing-notice timings. */
export interface ResponderOptions {
  /** Delay between placeholder edits (default 1200 ms, the floor). */
  animationMs?: number;
  /** Placeholder edits before the animation rests (default 25). */
  maxAnimationEdits?: number;
  /** Interval to renew the typing notice (default 20 s). */
  typingRenewMs?: number;
  /** Delay before the typing notice appears (default 300 ms). */
  typingDelayMs?: number;
}

/**
 * Sends the replies of one command: the first replaces the placeholder,
 * later ones are new messages. Never throws: transport failures are logged.
 */
export class Responder {
  readonly #port: ChatPort;
  readonly #msg: IncomingMessage;
  readonly #options: ResponderOptions;
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

  /** A responder for the replies to `msg`. */
  constructor(port: ChatPort, msg: IncomingMessage, options: ResponderOptions = {}) {
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
          body: withHeader(senderName, `${MESSAGES.thinking}.`),
          threadId: this.#msg.threadId,
          replyTo: this.#msg.eventId,
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
      const body = withHeader(senderName, `${MESSAGES.thinking}${FRAMES[frame % FRAMES.length]}`);
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

  /** Sends a reply: the first one replaces the placeholder, later ones are new messages. */
  async reply(body: string): Promise<void> {
    this.firstSendAt ??= performance.now();
    await this.#placeholderSent;
    const n = this.#count++;
    const room = this.#msg.room;
    const message = {
      body,
      threadId: this.#msg.threadId,
      replyTo: this.#msg.eventId,
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

  /** Posts an image; a failure is replied as text. */
  async image(image: ToolImage): Promise<void> {
    await this.#placeholderSent;
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
