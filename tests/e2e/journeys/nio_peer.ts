/**
 * A matrix-nio user (tests/e2e/nio_client.py) driven step by step: the plan
 * goes in as a file, its report lines are read as they come, and the test
 * answers its `wait_signal` steps on stdin — so a story can start or restart
 * the bot between the user's steps.
 *
 * @module
 */
import { registerUser, ROOT, SYNAPSE_URL, unique } from "../helpers.ts";

const PYTHON = "/usr/bin/python3";
const DRIVER = `${ROOT}/tests/e2e/nio_client.py`;

/** A message of the peer as the nio user saw it (edits applied to `text`). */
export interface NioMessage {
  event_id: string;
  sender: string;
  body: string;
  text: string;
  encrypted: boolean;
  decrypted: boolean;
  edits: Array<{ event_id: string; encrypted?: boolean; body?: string; ts?: number }>;
}

/** One report line of the driver. */
export interface NioLine {
  step?: number;
  ok?: boolean;
  error?: string;
  room?: string;
  created?: string;
  alias?: string | null;
  encrypted?: boolean;
  sent_event_id?: string;
  sent_encrypted?: boolean;
  waiting?: string;
  messages?: NioMessage[];
  report?: NioMessage[];
  undecrypted?: string[];
  memberships?: Array<{ event_id: string; membership: string }>;
  [key: string]: unknown;
}

/** A running nio user. */
export class NioPeer {
  readonly userId: string;
  readonly lines: NioLine[] = [];
  readonly #child: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly #dir: string;
  readonly #stderr: Promise<string>;
  #waiters: Array<() => void> = [];
  #ended = false;

  private constructor(userId: string, child: Deno.ChildProcess, dir: string) {
    this.userId = userId;
    this.#child = child;
    this.#dir = dir;
    this.#stdin = child.stdin.getWriter();
    this.#stderr = new Response(child.stderr).text();
    void (async () => {
      const decoder = new TextDecoder();
      let buffer = "";
      for await (const chunk of child.stdout) {
        buffer += decoder.decode(chunk, { stream: true });
        let at: number;
        while ((at = buffer.indexOf("\n")) !== -1) {
          const line = buffer.slice(0, at).trim();
          buffer = buffer.slice(at + 1);
          if (line) this.lines.push(JSON.parse(line));
          this.#wake();
        }
      }
      this.#ended = true;
      this.#wake();
    })();
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  /**
   * Registers a user and starts the driver with `plan` (`homeserver`, `user`
   * and `password` are filled in; `rooms` defaults to none).
   */
  static async start(plan: Record<string, unknown>, prefix = "nio"): Promise<NioPeer> {
    const name = unique(prefix);
    const password = `pw-${name}`;
    const { user_id } = await registerUser(name, password);
    const dir = await Deno.makeTempDir({ prefix: "nio-plan-" });
    const file = `${dir}/plan.json`;
    await Deno.writeTextFile(
      file,
      JSON.stringify({ homeserver: SYNAPSE_URL, user: user_id, password, rooms: [], ...plan }),
    );
    const child = new Deno.Command(PYTHON, {
      args: [DRIVER, file],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    return new NioPeer(user_id, child, dir);
  }

  /** Waits for the first report line that matches (the driver failing or ending fails it). */
  async waitFor(what: string, match: (line: NioLine) => boolean, timeoutMs = 90_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.find(match);
      if (found) return found;
      const failed = this.lines.find((l) => l.ok === false);
      if (failed || this.#ended || Date.now() > deadline) {
        throw new Error(
          `nio: no ${what} (${
            failed ? failed.error : this.#ended ? "driver ended" : "timeout"
          }); ` +
            `stderr: ${this.#ended ? (await this.#stderr).slice(-2000) : "(running)"}\n` +
            `lines: ${JSON.stringify(this.lines).slice(-3000)}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 250);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The line of step `index`. */
  step(index: number, timeoutMs?: number): Promise<NioLine> {
    return this.waitFor(
      `step ${index}`,
      (l) => l.step === index && l.waiting === undefined,
      timeoutMs,
    );
  }

  /** Answers a `wait_signal` step (after it is waiting). */
  async signal(word: string): Promise<void> {
    await this.waitFor(`wait for ${word}`, (l) => l.waiting === word);
    await this.#stdin.write(new TextEncoder().encode(word + "\n"));
  }

  /** Waits for the driver's exit; returns its code. */
  async done(): Promise<number> {
    const { code } = await this.#child.status;
    return code;
  }

  /** Stops the driver and removes its plan. */
  async close(): Promise<void> {
    try {
      await this.#stdin.close();
    } catch {
      // Already closed.
    }
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    await this.#child.status;
    await this.#stderr.catch(() => "");
    await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
  }
}
