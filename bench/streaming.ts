/**
 * `deno task bench` row 6, streaming (decision 35), on the bot's defaults
 * (`.thinking` on, `llm.stream`, placeholder delay 0.6 s, interval 1.5 s),
 * in an encrypted room, by server timestamps:
 *
 * - 8a. a 2 s fake stream: time from the command to the first visible text
 *   and to the whole answer (its last edit);
 * - 8b. a zero-latency model: the answer's distance from the command, and
 *   how many events it took (one: no placeholder and edit).
 *
 * @module
 */
import { FakeOpenAI } from "../tests/fixtures/fake_openai.ts";
import { setupBot, TestClient } from "../tests/e2e/helpers.ts";
import { fmt, stats } from "./lib.ts";

/** Where the figures go. */
export interface BenchOut {
  row(what: string, value: string, target: string): void;
  note(...lines: string[]): void;
  quick: boolean;
}

const WORDS = Array.from({ length: 20 }, (_, i) => `w${i}`).join(" ");

/** The bot on its defaults and a user in an encrypted room with it. */
interface Rig {
  alice: TestClient;
  bot: string;
  room: string;
  /** The server timestamp of one of alice's events. */
  sentTs(id: string): Promise<number>;
}

/** 6a: the 2 s stream. */
async function slowStream(rig: Rig, out: BenchOut): Promise<void> {
  const { alice, room, bot } = rig;
  const first: number[] = [], whole: number[] = [], versions: number[] = [];
  for (let i = -1; i < (out.quick ? 3 : 7); i++) {
    const id = await alice.send(room, `.ai slow:2000 ${i} ${WORDS}`);
    const end = `Echo: ${i} ${WORDS}`;
    const seen = await alice.waitForMessage(room, bot, (t) => t.endsWith(end), 60_000);
    if (i < 0) continue; // warm-up
    const t0 = await rig.sentTs(id);
    first.push(seen.ts - t0);
    whole.push((seen.editedTs ?? seen.ts) - t0);
    versions.push(1 + alice.edits.filter((e) => e.target === seen.eventId).length);
  }
  out.row("8a. 2 s stream: command → first visible text", fmt(stats(first), "ms"), "≤ 0.8 s");
  out.row("8a. 2 s stream: command → whole answer", fmt(stats(whole), "ms"), "(report)");
  out.row("8a. versions of the streamed answer", fmt(stats(versions), "versions"), "(report)");
}

/** 6b: a zero-latency model with the placeholder on. */
async function fastAnswers(rig: Rig, out: BenchOut): Promise<void> {
  const { alice, room, bot } = rig;
  const fast: number[] = [], events: number[] = [];
  for (let i = -3; i < (out.quick ? 10 : 30); i++) {
    const before = alice.seen.length;
    const id = await alice.send(room, `.ai f${i}`);
    const seen = await alice.waitForMessage(room, bot, (t) => t.endsWith(`Echo: f${i}`));
    await new Promise((r) => setTimeout(r, 100)); // an edit would follow by now
    if (i < 0) continue;
    fast.push(seen.ts - await rig.sentTs(id));
    const mine = alice.seen.slice(before).filter((s) => s.sender === bot);
    events.push(mine.length + alice.edits.filter((e) => e.target === seen.eventId).length);
  }
  out.row(
    "8b. zero-latency model, `.thinking` on: reply − message (server)",
    fmt(stats(fast), "ms"),
    "(Python bot: 49 ms)",
  );
  out.row("8b. events per fast answer", fmt(stats(events), "events"), "1");
}

/** Runs row 6 (`parts` picks 6a and/or 6b). */
export async function streaming(out: BenchOut, parts = ["6a", "6b"]): Promise<void> {
  out.note("8. streaming: defaults, encrypted room, server timestamps");
  await using fake = FakeOpenAI.start();
  const alice = await TestClient.create("alice");
  const setup = await setupBot({ providerUrl: fake.url, admins: [alice.userId] });
  const bot = await setup.start();
  try {
    await bot.ready();
    const room = await alice.createRoom({ invite: [setup.userId] });
    await alice.waitForJoin(room, setup.userId);
    const sentTs = async (id: string) =>
      alice.client.getRoom(room)?.findEventById(id)?.getTs() ??
        (await alice.client.fetchRoomEvent(room, id)).origin_server_ts!;
    const rig = { alice, bot: setup.userId, room, sentTs };
    if (parts.includes("6a")) await slowStream(rig, out);
    if (parts.includes("6b")) await fastAnswers(rig, out);
  } finally {
    await bot.stop();
    alice.stop();
    await setup.remove();
  }
}
