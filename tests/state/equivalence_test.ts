/**
 * The memory stores are interchangeable with the SQLite ones: the same long
 * random sequence of calls (seeded, so a failure replays) is made on both,
 * and every answer must be equal. The contract tests pin the behaviour by
 * example; this looks for the differences nobody thought of.
 */
import { deepStrictEqual } from "node:assert/strict";
import type { Message } from "../../lib/conversation.ts";
import { type Backend, MEMORY, SQLITE } from "./backends.ts";

const STEPS = 400;
const SEEDS = [1, 2, 3];

/** A small deterministic PRNG (mulberry32). */
function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: <T>(items: readonly T[]): T => items[int(items.length)] };
}

type Rng = ReturnType<typeof random>;

/** What one side of a {@link differential} run has of its own. */
interface Side {
  backend: Backend;
  rng: Rng;
  /** A clock only this side's calls move. */
  clock: number;
}

/**
 * Makes {@link STEPS} random calls on a store of each backend. `step` makes
 * one call on the store it is given (the same call for both, as it draws
 * from the same random sequence) and returns what the call answered.
 */
function differential<S>(
  seed: number,
  open: (side: Side) => S,
  step: (store: S, side: Side) => unknown,
): void {
  using sqlite = SQLITE.open();
  using memory = MEMORY.open();
  const sides = [sqlite, memory].map((backend) => ({ backend, rng: random(seed), clock: 1000 }));
  const stores = sides.map(open);
  for (let i = 0; i < STEPS; i++) {
    const a = step(stores[0], sides[0]);
    const b = step(stores[1], sides[1]);
    deepStrictEqual(b, a, `seed ${seed}, step ${i}: memory answered differently`);
  }
}

const ROOMS = ["!a:hs", "!b:hs"];
const USERS = ["@u1:hs", "@u2:hs", "@u3:hs"];
const IDS = [undefined, "$1", "$2", "$3", "$1:answer", "$2:answer"];
const ROLES: Message["role"][] = ["system", "user", "user", "assistant", "assistant"];

function message(rng: Rng): Message {
  const id = rng.pick(IDS);
  const m: Message = { role: rng.pick(ROLES), content: `c${rng.int(5)}` };
  return id === undefined ? m : { ...m, id };
}

function messages(rng: Rng, max: number): Message[] {
  return Array.from({ length: rng.int(max + 1) }, () => message(rng));
}

for (const seed of SEEDS) {
  Deno.test(`ThreadStore: memory and SQLite answer a random call sequence alike (seed ${seed})`, () => {
    const open = (side: Side) =>
      side.backend.threads({
        prompt: ["you are ", ".", " Be brief."],
        personality: "p",
        historySize: 2 + (seed % 4),
        verbose: () => side.clock % 3 === 0,
        now: () => side.clock,
      });
    differential(seed, open, (threads, side) => {
      const rng = side.rng;
      const [room, user] = [rng.pick(ROOMS), rng.pick(USERS)];
      // Several writes often share a moment, as within one millisecond.
      if (rng.int(2)) side.clock++;
      switch (rng.int(9)) {
        case 0:
          return threads.append(room, user, ...messages(rng, 3));
        case 1:
          return threads.set(room, user, messages(rng, 6));
        case 2:
          return threads.request(room, user, {
            next: rng.int(4) ? message(rng) : undefined,
            thread: rng.int(4) ? undefined : messages(rng, 4),
          });
        case 3:
          return threads.find(room, user, rng.pick(IDS) ?? "$none");
        case 4:
          return threads.users(room);
        case 5:
          return threads.has(room, user);
        case 6:
          return rng.int(20) ? threads.get(room, user) : threads.clearAll();
        case 7:
          return threads.defaultPrompt(rng.int(2) ? undefined : "a cat");
        default:
          return threads.get(room, user);
      }
    });
  });

  Deno.test(`PersonalModelStore: memory and SQLite answer a random call sequence alike (seed ${seed})`, () => {
    differential(seed, (side) => side.backend.models(), (models, { rng }) => {
      const [room, user] = [rng.pick(ROOMS), rng.pick(USERS)];
      switch (rng.int(5)) {
        case 0:
          return models.set(room, user, rng.pick(["m1", "m2"]));
        case 1:
          return models.clear(room, user);
        case 2:
          return rng.int(20) ? models.get(room, user) : models.clearAll();
        default:
          return models.get(room, user);
      }
    });
  });

  Deno.test(`SettingsStore: memory and SQLite answer a random call sequence alike (seed ${seed})`, () => {
    const defaults = { model: "m1", tools: true, verbose: false, thinking: true };
    const valid = (model: string) => model !== "retired";
    differential(seed, (side) => side.backend, (backend, { rng }) => {
      const settings = backend.settings(defaults, valid);
      switch (rng.int(4)) {
        case 0:
          settings.set("model", rng.pick(["m1", "m2", "retired"]));
          break;
        case 1:
          settings.set(rng.pick(["tools", "verbose", "thinking"] as const), rng.int(2) === 1);
          break;
        case 2:
          // What an older version or a hand edit may have left.
          backend.storeSetting(
            rng.pick(["model", "tools", "verbose", "thinking"]),
            rng.pick(['"yes"', "42", "true", '"m2"', "null"]),
          );
          break;
      }
      return [settings.values, backend.settings(defaults, valid).values];
    });
  });

  Deno.test(`UsageStore: memory and SQLite answer a random call sequence alike (seed ${seed})`, () => {
    const day = 86_400_000;
    const MODELS = ["m1", "m2", ""];
    differential(seed, (side) => side.backend.usage(), (usage, { rng }) => {
      const now = Date.UTC(2026, 0, 1) + rng.int(500) * day + rng.int(day);
      const dayOf = (t: number) => new Date(t).toISOString().slice(0, 10);
      if (rng.int(3) > 0) {
        const tokens = () => rng.pick([-3, 0, 0.4, 7.5, 12, 30]);
        return usage.add(
          rng.pick(USERS),
          rng.pick(MODELS),
          { input: tokens(), output: tokens() },
          now,
        );
      }
      const from = dayOf(now - rng.int(60) * day);
      return usage.sum({ from, to: dayOf(now), user: rng.int(2) ? rng.pick(USERS) : undefined });
    });
  });

  Deno.test(`RoomSettingsStore: memory and SQLite answer a random call sequence alike (seed ${seed})`, () => {
    const KEYS = ["model", "persona", "tools", "stream"] as const;
    differential(seed, (side) => side.backend.rooms(), (rooms, { rng, backend }) => {
      const room = rng.pick(ROOMS);
      const key = rng.pick(KEYS);
      switch (rng.int(5)) {
        case 0:
          return rooms.set(
            room,
            key,
            rng.pick([undefined, "m1", true, false, "a pirate"]) as never,
          );
        case 1:
          return backend.storeRoomSetting(
            room,
            rng.pick([...KEYS, "other"]),
            rng.pick(['"m2"', "true", "{", "3"]),
          );
        case 2:
          return rng.int(4) === 0 ? rooms.clearAll() : rooms.get(room);
        default:
          return rooms.get(room);
      }
    });
  });

  Deno.test(`InboxStore: memory and SQLite answer a random call sequence alike (seed ${seed})`, () => {
    const EVENTS = ["$e1", "$e2", "$e3", "$e4", "$e5", "$e6"];
    const TXNS = ["t1", "t2", "t3"];
    differential(seed, (side) => side.backend.inbox(), (inbox, side) => {
      const rng = side.rng;
      const id = rng.pick(EVENTS);
      const clock = side.clock += rng.int(3) * 1000;
      switch (rng.int(10)) {
        case 0:
        case 1: {
          const event = rng.int(2) ? { origin_server_ts: rng.int(4) * 500 } : { body: id };
          return inbox.add(id, rng.pick(ROOMS), event, clock - rng.int(2) * 1000);
        }
        case 2:
          return inbox.done(id, rng.pick(ROOMS), clock);
        case 3:
          return inbox.prune(rng.pick([2000, 5000, undefined]), clock);
        case 4:
          return inbox.seen(id);
        case 5:
          return inbox.handled(id);
        case 6:
          return inbox.markVerification(rng.pick(TXNS), clock);
        case 7:
          return inbox.verificationSeen(rng.pick(TXNS));
        default:
          return inbox.pending();
      }
    });
  });
}
