import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { invalid } from "../../lib/handlers/args.ts";
import type { Context } from "../../lib/handlers/context.ts";
import { type DispatchOptions, dispatchStep } from "../../lib/pipeline/dispatch.ts";
import { KeyedQueue } from "../../lib/queue.ts";
import type { TokenCount, UsageStore } from "../../lib/state/ports.ts";
import { UsageLedger } from "../../lib/usage.ts";
import { MemoryPort } from "../fixtures/memory_port.ts";
import { ADMIN, ALICE, ROOM, testCommand, testServices, testTurn } from "../fixtures/turns.ts";

function setup(act?: (ctx: Context) => Promise<void>, args: unknown = { text: "hi" }) {
  const port = new MemoryPort({ names: { [ADMIN]: "Admin" } });
  const usage: Array<[string, string, TokenCount]> = [];
  const options: DispatchOptions = {
    port,
    threadLocks: new KeyedQueue(),
    signal: new AbortController().signal,
  };
  const command = testCommand({ name: ".ai", act });
  const store: UsageStore = {
    add: (user, model, tokens) => void usage.push([user, model, tokens]),
    sum: () => [],
  };
  const services = testServices({ usage: new UsageLedger({ store }) });
  const turn = testTurn({
    port,
    command,
    args,
    services,
    senderName: "Alice",
    msg: { threadId: "$root" },
  });
  return { port, usage, options, command, services, turn };
}

Deno.test("dispatch: the handler gets the facts, its parsed arguments and the services, nothing else", async () => {
  const { options, command, services, turn } = setup();
  await dispatchStep(options)(turn, () => Promise.resolve());
  strictEqual(command.runs.length, 1);
  const ctx = command.runs[0];
  deepStrictEqual(Object.keys(ctx).sort(), [
    "args",
    "attachments",
    "botName",
    "catalog",
    "displayName",
    "download",
    "eventId",
    "help",
    "isAdmin",
    "llm",
    "log",
    "models",
    "powerLevel",
    "recordUsage",
    "reply",
    "replyImage",
    "room",
    "rooms",
    "sender",
    "senderName",
    "settings",
    "signal",
    "threadId",
    "threads",
    "tools",
    "usage",
    "withAllThreads",
    "withThread",
  ]);
  deepStrictEqual(
    {
      room: ctx.room,
      sender: ctx.sender,
      senderName: ctx.senderName,
      isAdmin: ctx.isAdmin,
      eventId: ctx.eventId,
      threadId: ctx.threadId,
      botName: ctx.botName,
      args: ctx.args,
    },
    {
      room: ROOM,
      sender: ALICE,
      senderName: "Alice",
      isAdmin: false,
      eventId: "$e1",
      threadId: "$root",
      botName: "InfiniGPT",
      args: { text: "hi" },
    },
  );
  for (const key of ["threads", "models", "settings", "llm", "tools", "catalog", "help"] as const) {
    strictEqual(ctx[key], services[key], key);
  }
  strictEqual(ctx.signal, options.signal);
});

Deno.test("dispatch: replies go through the turn's responder", async () => {
  const { port, options, turn } = setup((ctx) => ctx.reply("one").then(() => ctx.reply("two")));
  await dispatchStep(options)(turn, () => Promise.resolve());
  deepStrictEqual(port.visible(), ["one", "two"]);
});

Deno.test("dispatch: arguments with a usage get the usage as the reply, and the handler does not run", async () => {
  const { port, options, command, turn } = setup(undefined, invalid("Usage: .test [on|off]"));
  await dispatchStep(options)(turn, () => Promise.resolve());
  strictEqual(command.runs.length, 0);
  deepStrictEqual(port.visible(), ["Usage: .test [on|off]"]);
});

Deno.test("dispatch: arguments without a usage are dropped silently", async () => {
  const { port, options, command, turn } = setup(undefined, invalid());
  await dispatchStep(options)(turn, () => Promise.resolve());
  strictEqual(command.runs.length, 0);
  deepStrictEqual(port.events, []);
});

Deno.test("dispatch: usage is counted for the sender and the model", async () => {
  const { usage, options, turn } = setup((ctx) =>
    Promise.resolve(ctx.recordUsage("m1", { input: 40, output: 2 }))
  );
  await dispatchStep(options)(turn, () => Promise.resolve());
  deepStrictEqual(usage, [[ALICE, "m1", { input: 40, output: 2 }]]);
});

Deno.test("dispatch: a power level comes from the port; none, or one that fails, is 0", async () => {
  const levels: number[] = [];
  const act = async (ctx: Context) => void levels.push(await ctx.powerLevel(ADMIN));
  const plain = setup(act);
  await dispatchStep(plain.options)(plain.turn, () => Promise.resolve());
  const withLevels = setup(act);
  withLevels.port.powerLevels.set(ADMIN, 50);
  await dispatchStep(withLevels.options)(withLevels.turn, () => Promise.resolve());
  const failing = setup(act);
  failing.port.powerLevel = () => Promise.reject(new Error("no state"));
  await dispatchStep(failing.options)(failing.turn, () => Promise.resolve());
  deepStrictEqual(levels, [0, 50, 0]);
});

Deno.test("dispatch: display names come from the room, the Matrix ID when there is none", async () => {
  const names: string[] = [];
  const { options, turn } = setup(async (ctx) => {
    names.push(await ctx.displayName(ADMIN), await ctx.displayName("@nobody:test"));
  });
  await dispatchStep(options)(turn, () => Promise.resolve());
  deepStrictEqual(names, ["Admin", "@nobody:test"]);
});

Deno.test("dispatch: withThread runs tasks on one thread in order, other threads alongside", async () => {
  const log: string[] = [];
  const { options, turn } = setup(async (ctx) => {
    let release!: () => void;
    const held = new Promise<void>((r) => release = r);
    const first = ctx.withThread(ALICE, async () => {
      log.push("alice 1");
      await held;
    });
    const second = ctx.withThread(ALICE, () => Promise.resolve(void log.push("alice 2")));
    const other = ctx.withThread(ADMIN, () => Promise.resolve(void log.push("admin")));
    await other;
    release();
    await Promise.all([first, second]);
  });
  await dispatchStep(options)(turn, () => Promise.resolve());
  deepStrictEqual(log, ["alice 1", "admin", "alice 2"]);
});

Deno.test("dispatch: a handler's error goes on to the boundary", async () => {
  const { options, turn } = setup(() => Promise.reject(new Error("boom")));
  const error = await Promise.resolve(dispatchStep(options)(turn, () => Promise.resolve()))
    .catch((e) => (e as Error).message);
  strictEqual(error, "boom");
});
