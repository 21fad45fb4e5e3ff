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
    name: "the name at the start without a pill does not",
    msg: { body: "InfiniGPT, hello" },
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
