import { deepStrictEqual } from "node:assert/strict";
import { COMMAND_NAMES as COMMANDS } from "../../lib/handlers/mod.ts";
import { route, type Routed, type RouteInput } from "../../lib/handlers/router.ts";

const BOT = "@bot:hs";

interface Case {
  name: string;
  body: string;
  botName?: string;
  mentions?: readonly string[];
  commands?: ReadonlySet<string>;
  want: Routed | null;
}

const cases: Case[] = [
  // Commands (reference §2.1, decision 18).
  {
    name: ".ai with arguments routes to .ai with the rest of the line",
    body: ".ai hello world",
    want: { command: ".ai", args: "hello world" },
  },
  {
    name: ".ai alone routes with empty arguments",
    body: ".ai",
    want: { command: ".ai", args: "" },
  },
  {
    name: "other commands route by their first word",
    body: ".model gpt-5-mini",
    want: { command: ".model", args: "gpt-5-mini" },
  },
  {
    name: "arguments keep inner newlines and spacing, only the ends are trimmed",
    body: ".ai  a\n  b ",
    want: { command: ".ai", args: "a\n  b" },
  },
  {
    name: "a newline right after the command word separates it from the arguments",
    body: ".ai\nline one\nline two",
    want: { command: ".ai", args: "line one\nline two" },
  },
  {
    name: "a tab after the command word separates it from the arguments",
    body: ".x\tBob hi",
    want: { command: ".x", args: "Bob hi" },
  },
  {
    name: "leading and trailing whitespace around the whole body is ignored",
    body: "  \n.help  ",
    want: { command: ".help", args: "" },
  },
  {
    name: "markup characters in arguments are kept as written",
    body: ".custom You are *very*  `terse`.",
    want: { command: ".custom", args: "You are *very*  `terse`." },
  },
  { name: "commands are case-sensitive: .AI is ignored", body: ".AI hello", want: null },
  { name: "a command glued to text (.aihello) is ignored", body: ".aihello", want: null },
  { name: "a command that is not the first word is ignored", body: "hello .ai", want: null },
  { name: "an unknown dot-command is ignored", body: ".weather Paris", want: null },
  { name: "a lone dot is ignored", body: ".", want: null },
  { name: "plain chat is ignored", body: "hello everyone", want: null },
  { name: "an empty body is ignored", body: "", want: null },
  { name: "a whitespace-only body is ignored", body: " \n\t ", want: null },
  {
    name: "an edit's fallback body (starting with *) is ignored",
    body: "* .ai hello",
    want: null,
  },

  // Mention form `<name>: text` (reference §2.2, decision 14).
  {
    name: "`Bot: hi` routes to .ai when the bot's display name is Bot",
    body: "Bot: hi",
    want: { command: ".ai", args: "hi" },
  },
  {
    name: "the mention form without a space after the colon routes",
    body: "Bot:hi",
    want: { command: ".ai", args: "hi" },
  },
  {
    name: "the mention form alone routes with empty arguments",
    body: "Bot:",
    want: { command: ".ai", args: "" },
  },
  {
    name: "the mention form keeps inner newlines of the message",
    body: "Bot: first\n  second",
    want: { command: ".ai", args: "first\n  second" },
  },
  {
    name: "display names with spaces work in the mention form",
    botName: "Infini GPT",
    body: "Infini GPT: hi",
    want: { command: ".ai", args: "hi" },
  },
  {
    name: "the display name matches case-insensitively",
    botName: "InfiniGPT",
    body: "infinigpt: hi",
    want: { command: ".ai", args: "hi" },
  },
  {
    name: "the display name matches case-insensitively when written in capitals",
    botName: "Infini GPT",
    body: "INFINI GPT: what now",
    want: { command: ".ai", args: "what now" },
  },
  { name: "the name without a colon does not route", body: "Bot hi", want: null },
  { name: "another bot's name does not route", body: "OtherBot: hi", want: null },
  { name: "a longer word starting with the name does not route", body: "Bottle: hi", want: null },
  {
    name: "a space between the name and the colon does not route",
    body: "Bot : hi",
    want: null,
  },
  { name: "the name later in the message does not route", body: "hey Bot: hi", want: null },
  {
    name: "the bot's user ID works as the mention form (@bot:hs: hi)",
    body: "@bot:hs: hi",
    want: { command: ".ai", args: "hi" },
  },
  {
    name: "the bot's user ID mention form works when the display name differs",
    botName: "Infini GPT",
    body: "@bot:hs: tell me",
    want: { command: ".ai", args: "tell me" },
  },
  {
    name: "another user's ID in the mention form does not route",
    body: "@bot:other: hi",
    want: null,
  },

  // Mention pills (m.mentions.user_ids, decision 14).
  {
    name: "a pill of the bot at the start without a colon routes to .ai",
    body: "Bot hi there",
    mentions: [BOT],
    want: { command: ".ai", args: "hi there" },
  },
  {
    name: "a pill of a bot whose name has spaces routes without a colon",
    botName: "Infini GPT",
    body: "Infini GPT what is 2+2?",
    mentions: ["@someone:hs", BOT],
    want: { command: ".ai", args: "what is 2+2?" },
  },
  {
    name: "a pill followed by a comma routes and drops the comma",
    body: "Bot, hi",
    mentions: [BOT],
    want: { command: ".ai", args: "hi" },
  },
  {
    name: "a pill of the bot elsewhere in the body does not route",
    body: "I asked Bot yesterday",
    mentions: [BOT],
    want: null,
  },
  {
    name: "a pill of another user does not make the bot's name route without a colon",
    body: "Bot hi",
    mentions: ["@alice:hs"],
    want: null,
  },
  {
    name: "a pill of the bot does not route a longer word that starts with its name",
    body: "Bottle of water",
    mentions: [BOT],
    want: null,
  },
  {
    name: "the mention form wins over a command word in its text",
    body: "Bot: .model gpt-5-mini",
    want: { command: ".ai", args: ".model gpt-5-mini" },
  },
  {
    name: "every command of the table routes, .thinking included",
    body: ".thinking off",
    want: { command: ".thinking", args: "off" },
  },
  {
    name: "a command still wins when the body also mentions the bot",
    body: ".reset",
    mentions: [BOT],
    want: { command: ".reset", args: "" },
  },

  // The command set decides what is a command.
  {
    name: "a word in the passed command set routes",
    body: ".thinking on",
    commands: new Set([".thinking"]),
    want: { command: ".thinking", args: "on" },
  },
  {
    name: "a word missing from the passed command set does not route",
    body: ".ai hello",
    commands: new Set([".x"]),
    want: null,
  },
  {
    name: "the mention form routes to .ai whatever the command set",
    body: "Bot: hi",
    commands: new Set(),
    want: { command: ".ai", args: "hi" },
  },
];

for (const c of cases) {
  Deno.test(`router: ${c.name}`, () => {
    const input: RouteInput = {
      body: c.body,
      botName: c.botName ?? "Bot",
      botUserId: BOT,
      mentions: c.mentions,
    };
    deepStrictEqual(route(input, c.commands ?? COMMANDS), c.want);
  });
}

Deno.test("router: an empty display name never matches, the user ID still does", () => {
  const input = { body: ": hi", botName: "", botUserId: BOT };
  deepStrictEqual(route(input, COMMANDS), null);
  deepStrictEqual(route({ ...input, body: "@bot:hs: hi" }, COMMANDS), {
    command: ".ai",
    args: "hi",
  });
});
