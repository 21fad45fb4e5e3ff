/**
 * `infinigpt console`: chat with the bot in a terminal through the same
 * router and handlers, with state in the same store. One line is one
 * message; Ctrl-D (end of input) exits once the last answer is printed.
 *
 * @module
 */
import { join } from "node:path";
import type { ChatPort, OutgoingMessage } from "./chat_port.ts";
import type { ToolImage } from "./tools/registry.ts";
import { localpart } from "./mxid.ts";

/** The room the console talks in. */
export const CONSOLE_ROOM = "!console:localhost";

/** Where console output goes. */
export interface ConsoleOutput {
  write(text: string): void;
}

/** Options for {@link ConsolePort}. */
export interface ConsolePortOptions {
  userId: string;
  botName: string;
  output: ConsoleOutput;
  /** Where posted images are saved so they can be opened. */
  imagesDir: string;
}

/** A {@link ChatPort} that prints to the terminal. */
export class ConsolePort implements ChatPort {
  readonly userId: string;
  readonly #options: ConsolePortOptions;
  #next = 0;

  constructor(options: ConsolePortOptions) {
    this.#options = options;
    this.userId = `@${options.botName.toLowerCase().replace(/[^a-z0-9._=-]/g, "")}:console`;
  }

  botName(): string {
    return this.#options.botName;
  }

  #print(text: string): void {
    this.#options.output.write(`${text}\n\n`);
  }

  send(_room: string, message: OutgoingMessage): Promise<string> {
    this.#print(message.body);
    return Promise.resolve(`$console-${++this.#next}`);
  }

  edit(_room: string, _eventId: string, message: OutgoingMessage): Promise<void> {
    this.#print(message.body);
    return Promise.resolve();
  }

  redact(): Promise<void> {
    return Promise.resolve();
  }

  async sendImage(_room: string, image: ToolImage): Promise<void> {
    await Deno.mkdir(this.#options.imagesDir, { recursive: true });
    const path = join(this.#options.imagesDir, image.name);
    // Image tools already saved theirs there; MCP images exist only as bytes.
    await Deno.writeFile(path, image.bytes, { createNew: true }).catch((error) => {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    });
    this.#print(
      `[image ${image.name}: ${image.mimetype}, ${image.bytes.length} bytes, saved to ${path}]`,
    );
  }

  setTyping(): Promise<void> {
    return Promise.resolve();
  }

  displayName(_room: string, userId: string): Promise<string> {
    return Promise.resolve(userId === this.userId ? this.#options.botName : localpart(userId));
  }
}

/** Splits a byte stream into lines (without line endings). */
export async function* readLines(input: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffer = "";
  const decoder = new TextDecoder();
  for await (const bytes of input) {
    buffer += decoder.decode(bytes, { stream: true });
    let at: number;
    while ((at = buffer.indexOf("\n")) !== -1) {
      yield buffer.slice(0, at).replace(/\r$/, "");
      buffer = buffer.slice(at + 1);
    }
  }
  buffer += decoder.decode();
  if (buffer) yield buffer;
}

/** Options for {@link runConsoleLoop}. */
export interface ConsoleLoopOptions {
  input: ReadableStream<Uint8Array>;
  output: ConsoleOutput;
  userId: string;
  /** Show a `you> ` prompt (only useful on a terminal). */
  prompt: boolean;
  /** Handles one message; resolves when it is answered. */
  handle(message: { room: string; sender: string; body: string; eventId: string }): Promise<void>;
}

/** Reads lines until end of input, handing each to the bot in order. */
export async function runConsoleLoop(options: ConsoleLoopOptions): Promise<number> {
  const promptText = `${localpart(options.userId)}> `;
  let count = 0;
  if (options.prompt) options.output.write(promptText);
  for await (const line of readLines(options.input)) {
    if (line.trim()) {
      count++;
      await options.handle({
        room: CONSOLE_ROOM,
        sender: options.userId,
        body: line,
        eventId: `$console-${crypto.randomUUID()}`,
      });
    }
    if (options.prompt) options.output.write(promptText);
  }
  if (options.prompt) options.output.write("\n");
  return count;
}
