/**
 * Shared pieces of the benchmarks: statistics, process memory, and a bot
 * with users on a real Synapse and the fake model.
 *
 * @module
 */
import { FakeOpenAI } from "../tests/fixtures/fake_openai.ts";
import { type BotProcess, type BotSetup, setupBot, TestClient } from "../tests/e2e/helpers.ts";

/** Median, min and max of a sample. */
export interface Stats {
  median: number;
  min: number;
  max: number;
  n: number;
}

/** Summarises a sample. */
export function stats(values: number[]): Stats {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], n: sorted.length };
}

/** `median (min–max)` with a unit. */
export function fmt(s: Stats, unit: string, digits = 0): string {
  const f = (n: number) => n.toFixed(digits);
  return `${f(s.median)} ${unit} (${f(s.min)}–${f(s.max)}, n=${s.n})`;
}

/** Resident set size of a process in MB (Linux /proc). */
export async function rssMb(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

/** A bot and a client in a shared encrypted room. */
export interface Scenario {
  fake: FakeOpenAI;
  setup: BotSetup;
  bot: BotProcess;
  alice: TestClient;
  room: string;
  /** Sends `.ai <text>` and resolves with the reply's visible text when it arrives. */
  ask(text: string, client?: TestClient, room?: string): Promise<void>;
  close(): Promise<void>;
}

/** Starts a fake model, a bot, a client and an encrypted room. */
export async function scenario(options: {
  latencyMs?: number;
  config?: Record<string, unknown>;
  env?: Record<string, string>;
} = {}): Promise<Scenario> {
  const fake = FakeOpenAI.start({ latencyMs: options.latencyMs ?? 0 });
  const alice = await TestClient.create("alice");
  const setup = await setupBot({
    providerUrl: fake.url,
    admins: [alice.userId],
    config: options.config,
  });
  const bot = await setup.start(options.env);
  await bot.ready();
  const room = await alice.createRoom({ invite: [setup.userId] });
  await alice.waitForJoin(room, setup.userId);
  const ask = async (text: string, client = alice, where = room) => {
    await client.send(where, `.ai ${text}`);
    try {
      await client.waitForMessage(where, setup.userId, (t) => t.endsWith(`Echo: ${text}`), 60_000);
    } catch (error) {
      console.error(
        `no answer to "${text}"; last bot log lines:\n${bot.log.slice(-30).join("\n")}`,
      );
      throw error;
    }
  };
  return {
    fake,
    setup,
    bot,
    alice,
    room,
    ask,
    async close() {
      await bot.stop();
      alice.stop();
      await fake.close();
      await setup.remove();
    },
  };
}
