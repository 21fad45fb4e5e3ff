import { deepStrictEqual } from "node:assert/strict";
import type { Routed } from "../../lib/handlers/router.ts";
import {
  ANSWER_ALL,
  stripMention,
  unprefixed,
  type UnprefixedInput,
} from "../../lib/pipeline/unprefixed.ts";

const BOT = "@bot:test";
const base = { botName: "InfiniGPT", botUserId: BOT, switches: ANSWER_ALL };
const ai = (args: string): Routed => ({ command: ".ai", args });

const cases: Array<[string, Partial<UnprefixedInput>, Routed | null]> = [
  ["plain chat in a group room is not for the bot", { body: "hello everyone" }, null],
  ["`hello .ai` in a group room is not", { body: "hello .ai" }, null],
  ["`.AI` is not, even in a direct chat", { body: ".AI hi", direct: true }, null],
  ["a mistyped command in a direct chat is not", { body: ".rest", direct: true }, null],
  ["an empty message is not", { body: "  ", direct: true }, null],
  ["every text message in a direct chat is", { body: "hello .ai", direct: true }, ai("hello .ai")],
  ["a reply to the bot is", { body: "and then?", replyToSender: BOT }, ai("and then?")],
  ["a reply to someone else is not", { body: "and then?", replyToSender: "@u:test" }, null],
  ["a message in a thread the bot answers in is", { body: "why?", knownThread: true }, ai("why?")],
  ["the name mid-sentence is, without it", {
    body: "what do you think, InfiniGPT, about tea?",
  }, ai("what do you think, about tea?")],
  ["the name at the end loses its space", { body: "thoughts InfiniGPT?" }, ai("thoughts?")],
  ["the name in another case is", { body: "hey infinigpt tell a joke" }, ai("hey tell a joke")],
  ["`@name` is", { body: "ask @InfiniGPT please" }, ai("ask please")],
  ["the mxid is", { body: "ask @bot:test please" }, ai("ask please")],
  ["the name inside a word is not", { body: "InfiniGPTs are fun" }, null],
  ["the name glued after letters is not", { body: "myInfiniGPT is fun" }, null],
  ["a pill without the name in the text is", {
    body: "what time is it",
    mentions: [BOT],
  }, ai("what time is it")],
  ["a pill of someone else is not", { body: "hi Alice", mentions: ["@alice:test"] }, null],
  ["the name alone answers the conversation again", { body: "InfiniGPT" }, ai("")],
];

for (const [name, input, want] of cases) {
  Deno.test(`unprefixed: ${name}`, () => {
    deepStrictEqual(unprefixed({ ...base, body: "", ...input }), want);
  });
}

const off = (key: keyof typeof ANSWER_ALL) => ({ ...ANSWER_ALL, [key]: false });
const switched: Array<[string, Partial<UnprefixedInput>]> = [
  ["dm", { body: "hi", direct: true, switches: off("dm") }],
  ["replies", { body: "hi", replyToSender: BOT, switches: off("replies") }],
  ["mentions", { body: "hi InfiniGPT", mentions: [BOT], switches: off("mentions") }],
  ["threads", { body: "hi", knownThread: true, switches: off("threads") }],
];
for (const [key, input] of switched) {
  Deno.test(`unprefixed: matrix.answer.${key} false turns that way off`, () => {
    deepStrictEqual(unprefixed({ ...base, body: "", ...input }), null);
  });
}

Deno.test("unprefixed: a mention in a direct chat is removed too", () => {
  deepStrictEqual(
    unprefixed({ ...base, body: "InfiniGPT: hi there", direct: true }),
    ai("hi there"),
  );
});

const strips: Array<[string, string, string]> = [
  ["InfiniGPT, hello", "hello", "a leading name with a comma"],
  ["hello InfiniGPT: how are you", "hello how are you", "a name with a colon mid-text"],
  ["line one InfiniGPT\nline two", "line one\nline two", "newlines kept"],
  ["(InfiniGPT) hi", "() hi", "inside brackets"],
];
for (const [body, want, name] of strips) {
  Deno.test(`stripMention: ${name}`, () => {
    deepStrictEqual(stripMention(body, ["InfiniGPT", BOT]), { found: true, text: want });
  });
}

Deno.test("stripMention: a name with regex characters is matched literally", () => {
  deepStrictEqual(stripMention("hi A.I. Bot (v2) there", ["A.I. Bot (v2)"]), {
    found: true,
    text: "hi there",
  });
  deepStrictEqual(stripMention("hi AxI. Bot (v2) there", ["A.I. Bot (v2)"]).found, false);
});
