import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import {
  appended,
  before,
  defaultPrompt,
  estimateTokens,
  exchange,
  type Message,
  newThread,
  parseThread,
  substituteVariables,
  systemPrompt,
  type ThreadOptions,
  TooLongError,
  trimThread,
  trimToTokens,
  wellFormed,
  withVariables,
} from "../lib/conversation.ts";

// --- systemPrompt (reference §3.2) ------------------------------------------

const promptCases: Array<
  [name: string, prompt: string[], persona: string, verbose: boolean, want: string]
> = [
  [
    "prefix, persona, suffix and extra are concatenated as written",
    ["you are ", ".", " Keep it short."],
    "a pirate",
    false,
    "you are a pirate. Keep it short.",
  ],
  [
    "the extra clause is dropped in verbose mode",
    ["you are ", ".", " Keep it short."],
    "a pirate",
    true,
    "you are a pirate.",
  ],
  ["no spaces are added between parts", ["A", "B", "C"], "x", false, "AxBC"],
  ["an empty extra clause adds nothing", ["you are ", ".", ""], "calm", false, "you are calm."],
  ["a missing extra clause adds nothing", ["You are ", "!"], "bold", false, "You are bold!"],
  ["a missing suffix defaults to '.'", ["Be "], "kind", false, "Be kind."],
  ["an empty prompt list defaults to 'you are ' and '.'", [], "a bot", false, "you are a bot."],
  ["an empty persona leaves prefix and suffix", ["you are ", "."], "", false, "you are ."],
];

for (const [name, prompt, persona, verbose, want] of promptCases) {
  Deno.test(`systemPrompt: ${name}`, () => {
    strictEqual(systemPrompt(prompt, persona, verbose), want);
  });
}

// --- trimThread (reference §3.3) --------------------------------------------

const sys = (content = "S"): Message => ({ role: "system", content });
const user = (content: string): Message => ({ role: "user", content });
const bot = (content: string): Message => ({ role: "assistant", content });

const trimCases: Array<[name: string, thread: Message[], size: number, want: Message[]]> = [
  ["a thread within the size is unchanged", [sys(), user("a")], 5, [sys(), user("a")]],
  [
    "the oldest whole exchange goes, so a user message follows the system prompt",
    [sys(), user("1"), bot("2"), user("3")],
    3,
    [sys(), user("3")],
  ],
  [
    "exchanges go oldest first until the thread fits",
    [sys(), user("1"), bot("2"), user("3"), bot("4"), user("5"), bot("6")],
    5,
    [sys(), user("3"), bot("4"), user("5"), bot("6")],
  ],
  [
    "without a system message the oldest exchange is dropped",
    [user("1"), bot("2"), user("3")],
    2,
    [user("3")],
  ],
  [
    "size 2 keeps the system message and the last message",
    [sys(), user("1"), bot("2"), user("3")],
    2,
    [sys(), user("3")],
  ],
  [
    "the newest exchange is never dropped, even when it alone is over the size",
    [sys(), user("1"), bot("2"), user("3"), bot("4")],
    2,
    [sys(), user("3"), bot("4")],
  ],
  [
    "answers left before the first user message by older versions go first",
    [sys(), bot("0"), bot("1"), user("2"), bot("3")],
    4,
    [sys(), user("2"), bot("3")],
  ],
  [
    "unanswered user messages of older versions are exchanges of their own",
    [sys(), user("1"), user("2"), bot("3"), user("4")],
    4,
    [sys(), user("2"), bot("3"), user("4")],
  ],
  ["an empty thread stays empty", [], 2, []],
  ["size 1 with a system message keeps the newest exchange", [sys(), user("1")], 1, [
    sys(),
    user("1"),
  ]],
];

for (const [name, thread, size, want] of trimCases) {
  Deno.test(`trimThread: ${name}`, () => {
    const before = structuredClone(thread);
    deepStrictEqual(trimThread(thread, size), want);
    deepStrictEqual(thread, before, "the input must not be changed");
  });
}

Deno.test("trimThread: 10 appends with size 5 leave at most 5 entries (reference test)", () => {
  let thread: Message[] = [sys()];
  for (let i = 0; i < 10; i++) thread = trimThread([...thread, user(`m${i}`)], 5);
  strictEqual(thread.length, 5);
  deepStrictEqual(thread, [sys(), user("m6"), user("m7"), user("m8"), user("m9")]);
});

// --- wellFormed (decision 30) -------------------------------------------------

const formCases: Array<[name: string, thread: Message[], want: Message[]]> = [
  [
    "an alternating thread is unchanged",
    [sys(), user("1"), bot("2"), user("3")],
    [sys(), user("1"), bot("2"), user("3")],
  ],
  [
    "an unanswered user message stored by an older version is dropped, not glued",
    [sys(), user("failed"), user("next")],
    [sys(), user("next")],
  ],
  [
    "a run of unanswered user messages keeps only the last",
    [sys(), user("1"), user("2"), user("3"), bot("4")],
    [sys(), user("3"), bot("4")],
  ],
  [
    "answers before the first user message are dropped",
    [sys(), bot("0"), user("1"), bot("2")],
    [sys(), user("1"), bot("2")],
  ],
  [
    "two answers in a row (an empty .ai) are joined",
    [sys(), user("1"), bot("a"), bot("b"), user("2")],
    [sys(), user("1"), bot("a\n\nb"), user("2")],
  ],
  ["a thread without a system prompt may start with a user message", [user("1"), user("2")], [
    user("2"),
  ]],
  ["a thread without a system prompt drops a leading answer", [bot("0"), user("1")], [user("1")]],
  ["an empty thread stays empty", [], []],
  ["a lone system prompt stays", [sys()], [sys()]],
];

for (const [name, thread, want] of formCases) {
  Deno.test(`wellFormed: ${name}`, () => {
    const copy = structuredClone(thread);
    const got = wellFormed(thread);
    deepStrictEqual(got, want);
    deepStrictEqual(thread, copy, "the input must not be changed");
    for (let i = 1; i < got.length; i++) {
      ok(got[i].role !== got[i - 1].role, `two ${got[i].role} messages in a row`);
    }
  });
}

Deno.test("wellFormed keeps ids", () => {
  deepStrictEqual(
    wellFormed([{ role: "user", content: "a", id: "$1" }, {
      role: "user",
      content: "b",
      id: "$2",
    }]),
    [{ role: "user", content: "b", id: "$2" }],
  );
});

const withIds: Message[] = [
  sys(),
  { role: "user", content: "1", id: "$1" },
  { role: "user", content: "2", id: "$2" },
  { role: "assistant", content: "3", id: "$2:answer" },
];

const beforeCases: Array<[name: string, id: string | undefined, want: Message[]]> = [
  ["no id: the whole thread", undefined, withIds],
  ["an unknown id: the whole thread", "$9", withIds],
  ["a stored id: the thread before that message", "$2", withIds.slice(0, 2)],
  ["the first message's id: only what precedes it", "$1", withIds.slice(0, 1)],
];

for (const [name, id, want] of beforeCases) {
  Deno.test(`before: ${name}`, () => {
    deepStrictEqual(before(withIds, id), want);
  });
}

// --- the exchange helpers every ThreadStore uses --------------------------------

const OPTIONS: ThreadOptions = {
  prompt: ["you are ", ".", " Be brief."],
  personality: "a helpful bot",
  historySize: 5,
  verbose: () => false,
};

Deno.test("defaultPrompt uses the persona given, else the configured personality", () => {
  strictEqual(defaultPrompt(OPTIONS), "you are a helpful bot. Be brief.");
  strictEqual(defaultPrompt(OPTIONS, "a cat"), "you are a cat. Be brief.");
  strictEqual(defaultPrompt(OPTIONS, ""), "you are a helpful bot. Be brief.");
  strictEqual(defaultPrompt({ ...OPTIONS, verbose: () => true }), "you are a helpful bot.");
  deepStrictEqual(newThread(OPTIONS), [sys("you are a helpful bot. Be brief.")]);
});

const appendCases: Array<
  [name: string, thread: Message[], messages: Message[], size: number, want: Message[]]
> = [
  ["messages go at the end", [sys(), user("1")], [bot("2")], 5, [sys(), user("1"), bot("2")]],
  [
    "an earlier copy of a new message (same id) is dropped",
    [sys(), { role: "user", content: "hi", id: "$1" }, user("later")],
    [{ role: "user", content: "hi", id: "$1" }, bot("hello")],
    5,
    [sys(), user("later"), { role: "user", content: "hi", id: "$1" }, bot("hello")],
  ],
  [
    "messages without an id never replace anything",
    [sys(), user("same")],
    [user("same")],
    5,
    [sys(), user("same"), user("same")],
  ],
  [
    "the result is trimmed by whole exchanges",
    [sys(), user("1"), bot("2")],
    [user("3"), bot("4")],
    3,
    [sys(), user("3"), bot("4")],
  ],
];

for (const [name, thread, messages, size, want] of appendCases) {
  Deno.test(`appended: ${name}`, () => {
    const copy = structuredClone(thread);
    deepStrictEqual(appended(thread, messages, size), want);
    deepStrictEqual(thread, copy, "the input must not be changed");
  });
}

const exchangeCases: Array<
  [name: string, thread: Message[], next: Message | undefined, size: number, want: Message[]]
> = [
  ["the new message follows the thread", [sys(), user("1"), bot("2")], user("3"), 5, [
    sys(),
    user("1"),
    bot("2"),
    user("3"),
  ]],
  ["without a new message the thread is asked as it is", [sys(), user("1")], undefined, 5, [
    sys(),
    user("1"),
  ]],
  [
    "an earlier copy of the new message and what followed it are left out",
    [sys(), { role: "user", content: "q", id: "$q" }, bot("a"), user("later")],
    { role: "user", content: "q", id: "$q" },
    5,
    [sys(), { role: "user", content: "q", id: "$q" }],
  ],
  ["the request is well-formed", [sys(), user("failed")], user("now"), 5, [sys(), user("now")]],
  ["the request is trimmed", [sys(), user("1"), bot("2")], user("3"), 2, [sys(), user("3")]],
];

for (const [name, thread, next, size, want] of exchangeCases) {
  Deno.test(`exchange: ${name}`, () => {
    deepStrictEqual(exchange(thread, next, size), want);
  });
}

Deno.test("parseThread reads a stored array, and anything else as an empty thread", () => {
  deepStrictEqual(parseThread('[{"role":"user","content":"hi"}]'), [user("hi")]);
  deepStrictEqual(parseThread("{}"), []);
  deepStrictEqual(parseThread("null"), []);
  deepStrictEqual(parseThread('"text"'), []);
  throws(() => parseThread("not json"), SyntaxError);
});

// --- context by tokens (decision 39) ------------------------------------------

Deno.test("estimateTokens: 4 characters a token, 1000 an image, text parts counted", () => {
  strictEqual(estimateTokens(""), 0);
  strictEqual(estimateTokens("abcd"), 1);
  strictEqual(estimateTokens("abcde"), 2);
  strictEqual(
    estimateTokens([
      { type: "text", text: "abcdefgh" },
      { type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } },
    ]),
    1002,
  );
  strictEqual(estimateTokens(undefined), 0);
});

const tok = (role: Message["role"], tokens: number): Message => ({
  role,
  content: "x".repeat(tokens * 4),
});
const tokenCases: Array<[string, Message[], number, Message[]]> = [
  ["a thread that fits stays whole", [tok("system", 2), tok("user", 2), tok("assistant", 2)], 6, [
    tok("system", 2),
    tok("user", 2),
    tok("assistant", 2),
  ]],
  [
    "the oldest exchange goes first, whole",
    [
      tok("system", 2),
      tok("user", 3),
      tok("assistant", 3),
      tok("user", 1),
      tok("assistant", 1),
      tok("user", 2),
    ],
    6,
    [tok("system", 2), tok("user", 1), tok("assistant", 1), tok("user", 2)],
  ],
  [
    "the system prompt and the newest message stay even over the limit",
    [tok("system", 8), tok("user", 1), tok("assistant", 1), tok("user", 2)],
    3,
    [tok("system", 8), tok("user", 2)],
  ],
  [
    "a thread without a system prompt trims the same way",
    [
      tok("user", 4),
      tok("assistant", 4),
      tok("user", 1),
    ],
    2,
    [tok("user", 1)],
  ],
];
for (const [name, messages, limit, want] of tokenCases) {
  Deno.test(`trimToTokens: ${name}`, () => {
    deepStrictEqual(trimToTokens(messages, limit), want);
  });
}

Deno.test("trimToTokens: a newest message alone over the limit is TooLongError with its estimate", () => {
  throws(
    () => trimToTokens([tok("system", 1), tok("user", 7)], 6),
    (e) => e instanceof TooLongError && e.tokens === 7 && e.limit === 6,
  );
});

Deno.test("exchange: context_tokens 0 trims by history_size only", () => {
  const thread = [tok("system", 100), tok("user", 100), tok("assistant", 100)];
  deepStrictEqual(exchange(thread, tok("user", 100), 10, 0).length, 4);
  deepStrictEqual(exchange(thread, tok("user", 100), 10, 250).length, 2);
});

// --- prompt variables (decision 40) -----------------------------------------

const values = {
  // Friday 2026-12-04 23:30 UTC is Saturday 00:30 in Berlin.
  now: new Date("2026-12-04T23:30:00Z"),
  timeZone: "UTC",
  model: "gpt-5-mini",
  botName: "InfiniGPT",
  userName: "Alice",
};
const variableCases: Array<[string, string, Partial<typeof values>, string]> = [
  ["date, time and weekday", "{date} {time} {weekday}", {}, "2026-12-04 23:30 Friday"],
  [
    "in llm.timezone",
    "{date} {time} {weekday}",
    { timeZone: "Europe/Berlin" },
    "2026-12-05 00:30 Saturday",
  ],
  [
    "model and names",
    "{bot_name} on {model} talks to {user_name}",
    {},
    "InfiniGPT on gpt-5-mini talks to Alice",
  ],
  ["doubled braces are literal", "{{date}} is {date}; }} {{", {}, "{date} is 2026-12-04; } {"],
  ["unknown names stay as written", "{nope} {Date} { date }", {}, "{nope} {Date} { date }"],
  ["a value is not substituted again", "{user_name}", { userName: "{date}" }, "{date}"],
  ["midnight is 00, not 24", "{time}", { now: new Date("2026-12-04T00:05:00Z") }, "00:05"],
];
for (const [name, text, over, want] of variableCases) {
  Deno.test(`substituteVariables: ${name}`, () => {
    strictEqual(substituteVariables(text, { ...values, ...over }), want);
  });
}

Deno.test("withVariables: only system prompts are substituted", () => {
  const messages: Message[] = [
    { role: "system", content: "today is {date}" },
    { role: "user", content: "what is {date}?" },
  ];
  deepStrictEqual(withVariables(messages, values), [
    { role: "system", content: "today is 2026-12-04" },
    { role: "user", content: "what is {date}?" },
  ]);
  strictEqual(messages[0].content, "today is {date}");
});
