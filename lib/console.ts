/**
 * `infinigpt console`: chat with the bot in a terminal through the same
 * router and handlers, with state in the same store. One line is one
 * message; Ctrl-D (end of input) exits once the last answer is printed.
 *
 * @module
 */
import { basename, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type ChatPort, MediaError, type OutgoingMessage } from "./chat_port.ts";
import type { Attachment, MediaRef } from "./content.ts";
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

  /** A local file attached with `/image` or `/file`. */
  async download(ref: MediaRef, maxBytes: number): Promise<Uint8Array> {
    if (!ref.url.startsWith("file:")) throw new MediaError("not a local file");
    const path = fileURLToPath(ref.url);
    try {
      if ((await Deno.stat(path)).size > maxBytes) {
        throw new MediaError("too large", { tooLarge: true });
      }
      return await Deno.readFile(path);
    } catch (error) {
      if (error instanceof MediaError) throw error;
      throw new MediaError("the file could not be read", { cause: error });
    }
  }
}

/**
 * `/image <path>` and `/file <path>`: the attachment for the next message,
 * or why not. Other lines: undefined.
 */
export async function consoleAttachment(line: string): Promise<Attachment | string | undefined> {
  const match = /^\/(image|file)\s+(.+)$/.exec(line.trim());
  if (!match) return undefined;
  const path = resolve(match[2].trim());
  let size: number;
  try {
    const stat = await Deno.stat(path);
    if (!stat.isFile) return `[${path} is not a file]`;
    size = stat.size;
  } catch {
    return `[cannot read ${path}]`;
  }
  const ref: MediaRef = { url: pathToFileURL(path).href, name: basename(path), mimetype: "", size };
  return { kind: match[1] === "image" ? "image" : "file", ref };
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
  handle(message: {
    room: string;
    sender: string;
    body: string;
    eventId: string;
    attachments?: Attachment[];
  }): Promise<void>;
}

/** Reads lines until end of input, handing each to the bot in order. */
export async function runConsoleLoop(options: ConsoleLoopOptions): Promise<number> {
  const promptText = `${localpart(options.userId)}> `;
  let count = 0;
  if (options.prompt) options.output.write(promptText);
  let attachments: Attachment[] = [];
  for await (const line of readLines(options.input)) {
    const attached = await consoleAttachment(line);
    if (typeof attached === "string") options.output.write(`${attached}\n\n`);
    else if (attached) {
      attachments.push(attached);
      options.output.write(`[${attached.ref.name} goes with your next message]\n\n`);
    } else if (line.trim()) {
      count++;
      await options.handle({
        room: CONSOLE_ROOM,
        sender: options.userId,
        body: line,
        eventId: `$console-${crypto.randomUUID()}`,
        ...(attachments.length ? { attachments } : {}),
      });
      attachments = [];
    }
    if (options.prompt) options.output.write(promptText);
  }
  if (options.prompt) options.output.write("\n");
  return count;
}
