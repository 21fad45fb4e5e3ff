import { deepStrictEqual, strictEqual } from "node:assert/strict";
import type { IncomingMessage } from "../../lib/chat_port.ts";
import { ADDRESS_FORMS, type AddressForm, COMMAND_NAMES } from "../../lib/handlers/mod.ts";
import type { Routed } from "../../lib/handlers/router.ts";
import { addressStep } from "../../lib/pipeline/address.ts";
import { passes, testTurn } from "../fixtures/turns.ts";

const BOT = "@bot:test";

interface Case {
  name: string;
  msg: Partial<IncomingMessage>;
  want: Routed | undefined;
}

const cases: Case[] = [
  {
    name: "a command word addresses the bot",
    msg: { body: ".model  gpt-5-mini " },
    want: { command: ".model", args: "gpt-5-mini" },
  },
  {
    name: "`Name: text` addresses the bot as .ai",
    msg: { body: "InfiniGPT: hello" },
    want: { command: ".ai", args: "hello" },
  },
  {
    name: "a pill of the bot at the start addresses it as .ai",
    msg: { body: "InfiniGPT, hello", mentions: [BOT] },
    want: { command: ".ai", args: "hello" },
  },
  {
    name: "the name at the start without a pill is a mention (decision 37)",
    msg: { body: "InfiniGPT, hello" },
    want: { command: ".ai", args: "hello" },
  },
  {
    name: "a command word in a direct chat stays that command",
    msg: { body: ".reset", direct: true },
    want: { command: ".reset", args: "" },
  },
  {
    name: "plain text in a direct chat is .ai",
    msg: { body: "hello there", direct: true },
    want: { command: ".ai", args: "hello there" },
  },
  {
    name: "plain text in a thread the bot answers in is .ai",
    msg: { body: "and you?", threadId: "$known" },
    want: { command: ".ai", args: "and you?" },
  },
  {
    name: "plain text in another thread is not",
    msg: { body: "and you?", threadId: "$other" },
    want: undefined,
  },
  { name: "plain chat does not", msg: { body: "hello everyone" }, want: undefined },
  { name: "an unknown command word does not", msg: { body: ".weather" }, want: undefined },
];

for (const c of cases) {
  Deno.test(`address: ${c.name}`, async () => {
    const turn = testTurn({ msg: c.msg });
    const step = addressStep({
      botName: () => "InfiniGPT",
      botUserId: BOT,
      commands: COMMAND_NAMES,
      knownThread: (_room, root) => root === "$known",
    });
    strictEqual(await passes(step, turn), c.want !== undefined);
    deepStrictEqual(turn.address, c.want);
  });
}

Deno.test("address: the bot's name is read for every message (it can change)", async () => {
  let name = "Old";
  const step = addressStep({ botName: () => name, botUserId: BOT, commands: COMMAND_NAMES });
  name = "New";
  strictEqual(await passes(step, testTurn({ msg: { body: "Old: hi" } })), false);
  strictEqual(await passes(step, testTurn({ msg: { body: "New: hi" } })), true);
});

Deno.test("address: an address an earlier step found is kept", async () => {
  const step = addressStep({ botName: () => "Bot", botUserId: BOT, commands: COMMAND_NAMES });
  const turn = testTurn({ msg: { body: "no command here" } });
  turn.address = { command: ".ai", args: "no command here" };
  strictEqual(await passes(step, turn), true);
  deepStrictEqual(turn.address, { command: ".ai", args: "no command here" });
});

Deno.test("address: a new way of being addressed is one more form, tried after the others", async () => {
  const everything: AddressForm = (input) => ({ command: ".ai", args: input.body.trim() });
  const step = addressStep({
    botName: () => "Bot",
    botUserId: BOT,
    commands: COMMAND_NAMES,
    forms: [...ADDRESS_FORMS, everything],
  });
  const plain = testTurn({ msg: { body: "hello" } });
  strictEqual(await passes(step, plain), true);
  deepStrictEqual(plain.address, { command: ".ai", args: "hello" });
  const command = testTurn({ msg: { body: ".help" } });
  await passes(step, command);
  deepStrictEqual(command.address, { command: ".help", args: "" });
});

Deno.test("address: matrix.answer switched off leaves only the prefix forms", async () => {
  const step = addressStep({
    botName: () => "InfiniGPT",
    botUserId: BOT,
    commands: COMMAND_NAMES,
    answer: { dm: false, replies: false, mentions: false, threads: false },
    knownThread: () => true,
  });
  const msg = { body: "hi InfiniGPT", direct: true, replyToSender: BOT, threadId: "$t" };
  strictEqual(await passes(step, testTurn({ msg })), false);
  strictEqual(await passes(step, testTurn({ msg: { ...msg, body: ".ai hi" } })), true);
});
