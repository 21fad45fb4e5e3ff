import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import {
  before,
  History,
  type HistoryOptions,
  type Message,
  PersonalModels,
  Settings,
  type SettingValues,
  systemPrompt,
  trimThread,
  wellFormed,
} from "../lib/history.ts";
import { Store } from "../lib/store.ts";

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

// --- History, PersonalModels, Settings on a real store ----------------------

interface TempStore extends Disposable {
  dir: string;
  store: Store;
  reopen(): Store;
}

function tempStore(): TempStore {
  const dir = Deno.makeTempDirSync({ prefix: "infinigpt-history-" });
  const state = {
    dir,
    store: Store.open(dir),
    reopen() {
      state.store.close();
      state.store = Store.open(dir);
      return state.store;
    },
    [Symbol.dispose]() {
      state.store.close();
      Deno.removeSync(dir, { recursive: true });
    },
  };
  return state;
}

const ROOM = "!room:hs";
const OTHER_ROOM = "!other:hs";
const ALICE = "@alice:hs";
const BOB = "@bob:hs";

function options(overrides: Partial<HistoryOptions> = {}): HistoryOptions {
  return {
    prompt: ["you are ", ".", " Be brief."],
    personality: "a helpful bot",
    historySize: 5,
    verbose: () => false,
    ...overrides,
  };
}

const DEFAULT_PROMPT = "you are a helpful bot. Be brief.";

Deno.test("History: a new thread starts with the default system prompt, not yet stored", () => {
  using t = tempStore();
  const history = new History(t.store.db, options());
  deepStrictEqual(history.get(ROOM, ALICE), [{ role: "system", content: DEFAULT_PROMPT }]);
  strictEqual(history.has(ROOM, ALICE), false);
  deepStrictEqual(history.users(ROOM), []);
});

Deno.test("History: the default prompt follows the verbose mode at creation time", () => {
  using t = tempStore();
  let verbose = true;
  const history = new History(t.store.db, options({ verbose: () => verbose }));
  strictEqual(history.get(ROOM, ALICE)[0].content, "you are a helpful bot.");
  verbose = false;
  strictEqual(history.get(ROOM, ALICE)[0].content, DEFAULT_PROMPT);
  strictEqual(history.defaultPrompt("a cat"), "you are a cat. Be brief.");
});

Deno.test("History: append stores the messages durably (survives reopening the store)", () => {
  using t = tempStore();
  const history = new History(t.store.db, options());
  history.append(ROOM, ALICE, { role: "user", content: "hi", id: "$e1" }, {
    role: "assistant",
    content: "hello",
  });
  const reopened = new History(t.reopen().db, options());
  deepStrictEqual(reopened.get(ROOM, ALICE), [
    { role: "system", content: DEFAULT_PROMPT },
    { role: "user", content: "hi", id: "$e1" },
    { role: "assistant", content: "hello" },
  ]);
  strictEqual(reopened.has(ROOM, ALICE), true);
});

Deno.test("History: append trims to history_size by whole exchanges, keeping the system prompt", () => {
  using t = tempStore();
  const history = new History(t.store.db, options({ historySize: 3 }));
  for (const content of ["1", "2"]) {
    history.append(ROOM, ALICE, user(content), bot(`re ${content}`));
  }
  deepStrictEqual(history.get(ROOM, ALICE).map((m) => m.content), [DEFAULT_PROMPT, "2", "re 2"]);
});

Deno.test("History: appending a message whose id is stored drops the earlier copy", () => {
  using t = tempStore();
  const history = new History(t.store.db, options());
  // As an older version left it: the user message of an exchange that failed.
  history.append(ROOM, ALICE, { role: "user", content: "hi", id: "$e1" });
  history.append(ROOM, ALICE, user("later"), bot("re later"));
  history.append(
    ROOM,
    ALICE,
    { role: "user", content: "hi", id: "$e1" },
    { role: "assistant", content: "hello", id: "$e1:answer" },
  );
  deepStrictEqual(history.get(ROOM, ALICE).map((m) => m.content), [
    DEFAULT_PROMPT,
    "later",
    "re later",
    "hi",
    "hello",
  ]);
});

Deno.test("History: the same id in another user's thread is a different message", () => {
  using t = tempStore();
  const history = new History(t.store.db, options());
  history.append(ROOM, ALICE, { role: "user", content: "a", id: "$e1" });
  history.append(ROOM, BOB, { role: "user", content: "b", id: "$e1" });
  strictEqual(history.get(ROOM, ALICE).at(-1)?.content, "a");
  strictEqual(history.get(ROOM, BOB).at(-1)?.content, "b");
});

Deno.test("History: request builds the exchange's messages without storing anything", () => {
  using t = tempStore();
  const history = new History(t.store.db, options());
  history.append(ROOM, ALICE, user("1"), bot("2"));
  const stored = history.get(ROOM, ALICE);
  deepStrictEqual(
    history.request(ROOM, ALICE, { next: { role: "user", content: "3", id: "$3" } }),
    [
      ...stored,
      { role: "user", content: "3", id: "$3" },
    ],
  );
  deepStrictEqual(history.get(ROOM, ALICE), stored);
  strictEqual(history.has(ROOM, BOB), false);
  deepStrictEqual(history.request(ROOM, BOB, { next: user("hi") }), [
    sys(DEFAULT_PROMPT),
    user("hi"),
  ]);
  strictEqual(history.has(ROOM, BOB), false);
});

Deno.test("History: request never sends two user messages in a row, whatever is stored", () => {
  using t = tempStore();
  const history = new History(t.store.db, options());
  history.set(ROOM, ALICE, [sys(), user("failed once"), user("failed twice")]);
  deepStrictEqual(history.request(ROOM, ALICE, { next: user("now") }), [sys(), user("now")]);
  // Without a new message (an empty .ai), the last unanswered one is asked.
  deepStrictEqual(history.request(ROOM, ALICE), [sys(), user("failed twice")]);
});

Deno.test("History: request leaves out an earlier copy of the message and what followed it", () => {
  using t = tempStore();
  const history = new History(t.store.db, options());
  history.set(ROOM, ALICE, [
    sys(),
    { role: "user", content: "first", id: "$m1" },
    { role: "user", content: "second", id: "$m2" },
    { role: "assistant", content: "re second", id: "$m2:answer" },
  ]);
  deepStrictEqual(
    history.request(ROOM, ALICE, { next: { role: "user", content: "first", id: "$m1" } }),
    [sys(), { role: "user", content: "first", id: "$m1" }],
  );
});

Deno.test("History: request trims whole exchanges to history_size, the new message included", () => {
  using t = tempStore();
  const history = new History(t.store.db, options({ historySize: 4 }));
  history.append(ROOM, ALICE, user("1"), bot("2"));
  history.append(ROOM, ALICE, user("3"), bot("4"));
  deepStrictEqual(history.request(ROOM, ALICE, { next: user("5") }), [
    sys(DEFAULT_PROMPT),
    user("3"),
    bot("4"),
    user("5"),
  ]);
});

Deno.test("History: request can start from another thread (.persona)", () => {
  using t = tempStore();
  const history = new History(t.store.db, options());
  history.append(ROOM, ALICE, user("old"), bot("old answer"));
  deepStrictEqual(
    history.request(ROOM, ALICE, { next: user("introduce yourself"), thread: [sys("pirate")] }),
    [sys("pirate"), user("introduce yourself")],
  );
});

Deno.test("History: find returns the stored message with an id, or nothing", () => {
  using t = tempStore();
  const history = new History(t.store.db, options());
  history.append(ROOM, ALICE, { role: "user", content: "q", id: "$q" });
  history.append(ROOM, ALICE, { role: "assistant", content: "a", id: "$q:answer" });
  deepStrictEqual(history.find(ROOM, ALICE, "$q:answer"), {
    role: "assistant",
    content: "a",
    id: "$q:answer",
  });
  strictEqual(history.find(ROOM, ALICE, "$missing"), undefined);
  strictEqual(history.find(ROOM, BOB, "$q"), undefined);
});

Deno.test("History: get returns a copy the caller may change freely", () => {
  using t = tempStore();
  const history = new History(t.store.db, options());
  history.append(ROOM, ALICE, { role: "user", content: "hi" });
  const copy = history.get(ROOM, ALICE);
  copy.push({ role: "user", content: "not stored" });
  copy[0].content = "changed";
  deepStrictEqual(history.get(ROOM, ALICE).map((m) => m.content), [DEFAULT_PROMPT, "hi"]);
});

Deno.test("History: set replaces the thread and trims it", () => {
  using t = tempStore();
  const history = new History(t.store.db, options({ historySize: 2 }));
  history.set(ROOM, ALICE, [sys("custom"), user("1"), bot("2"), user("3")]);
  deepStrictEqual(history.get(ROOM, ALICE), [sys("custom"), user("3")]);
});

Deno.test("History: a stock (empty) thread is kept empty and not re-seeded", () => {
  using t = tempStore();
  const history = new History(t.store.db, options());
  history.set(ROOM, ALICE, []);
  deepStrictEqual(history.get(ROOM, ALICE), []);
  strictEqual(history.has(ROOM, ALICE), true);
  history.append(ROOM, ALICE, { role: "user", content: "no system" });
  deepStrictEqual(new History(t.reopen().db, options()).get(ROOM, ALICE), [user("no system")]);
});

Deno.test("History: threads are separate per room and per user", () => {
  using t = tempStore();
  const history = new History(t.store.db, options());
  history.append(ROOM, ALICE, user("alice here"));
  history.append(OTHER_ROOM, ALICE, user("alice there"));
  history.append(ROOM, BOB, user("bob here"));
  strictEqual(history.get(ROOM, ALICE).at(-1)?.content, "alice here");
  strictEqual(history.get(OTHER_ROOM, ALICE).at(-1)?.content, "alice there");
  strictEqual(history.get(ROOM, BOB).at(-1)?.content, "bob here");
});

Deno.test("History: users() lists the room's users, most recently active first", () => {
  using t = tempStore();
  let clock = 1000;
  const history = new History(t.store.db, options({ now: () => clock++ }));
  history.append(ROOM, ALICE, user("1"));
  history.append(ROOM, BOB, user("2"));
  history.append(OTHER_ROOM, "@carol:hs", user("3"));
  deepStrictEqual(history.users(ROOM), [BOB, ALICE]);
  history.append(ROOM, ALICE, user("4"));
  deepStrictEqual(history.users(ROOM), [ALICE, BOB]);
  deepStrictEqual(history.users(OTHER_ROOM), ["@carol:hs"]);
});

Deno.test("History: clearAll removes every thread in every room", () => {
  using t = tempStore();
  const history = new History(t.store.db, options());
  history.append(ROOM, ALICE, user("1"));
  history.append(OTHER_ROOM, BOB, user("2"));
  history.clearAll();
  deepStrictEqual(history.users(ROOM), []);
  deepStrictEqual(history.users(OTHER_ROOM), []);
  deepStrictEqual(history.get(ROOM, ALICE), [{ role: "system", content: DEFAULT_PROMPT }]);
  strictEqual(new History(t.reopen().db, options()).has(OTHER_ROOM, BOB), false);
});

Deno.test("PersonalModels: set, get and clear per room and user, durably", () => {
  using t = tempStore();
  const models = new PersonalModels(t.store.db);
  strictEqual(models.get(ROOM, ALICE), undefined);
  models.set(ROOM, ALICE, "gpt-5-mini");
  models.set(ROOM, ALICE, "qwen3:8b");
  models.set(OTHER_ROOM, ALICE, "gpt-4.1-nano");
  const reopened = new PersonalModels(t.reopen().db);
  strictEqual(reopened.get(ROOM, ALICE), "qwen3:8b");
  strictEqual(reopened.get(OTHER_ROOM, ALICE), "gpt-4.1-nano");
  strictEqual(reopened.get(ROOM, BOB), undefined);
  strictEqual(reopened.clear(ROOM, ALICE), true);
  strictEqual(reopened.clear(ROOM, ALICE), false);
  strictEqual(reopened.get(ROOM, ALICE), undefined);
  strictEqual(reopened.get(OTHER_ROOM, ALICE), "gpt-4.1-nano");
});

Deno.test("PersonalModels: clearAll removes every personal model", () => {
  using t = tempStore();
  const models = new PersonalModels(t.store.db);
  models.set(ROOM, ALICE, "a");
  models.set(OTHER_ROOM, BOB, "b");
  models.clearAll();
  strictEqual(models.get(ROOM, ALICE), undefined);
  strictEqual(models.get(OTHER_ROOM, BOB), undefined);
});

const DEFAULTS: SettingValues = {
  model: "gpt-4.1-nano",
  tools: true,
  verbose: false,
  thinking: true,
};

Deno.test("Settings: without stored values the defaults apply", () => {
  using t = tempStore();
  const settings = new Settings(t.store.db, DEFAULTS);
  deepStrictEqual(settings.values, DEFAULTS);
  strictEqual(settings.get("model"), "gpt-4.1-nano");
});

Deno.test("Settings: stored values win over the defaults after reopening the store", () => {
  using t = tempStore();
  const settings = new Settings(t.store.db, DEFAULTS);
  settings.set("model", "gpt-5-mini");
  settings.set("tools", false);
  settings.set("verbose", true);
  settings.set("thinking", false);
  strictEqual(settings.get("verbose"), true);
  const reopened = new Settings(t.reopen().db, DEFAULTS);
  deepStrictEqual(reopened.values, {
    model: "gpt-5-mini",
    tools: false,
    verbose: true,
    thinking: false,
  });
});

Deno.test("Settings: a stored model that is no longer valid falls back to the default", () => {
  using t = tempStore();
  new Settings(t.store.db, DEFAULTS).set("model", "retired-model");
  new Settings(t.store.db, DEFAULTS).set("verbose", true);
  const reopened = new Settings(t.reopen().db, DEFAULTS, (m) => m !== "retired-model");
  strictEqual(reopened.get("model"), "gpt-4.1-nano");
  strictEqual(reopened.get("verbose"), true);
});

Deno.test("Settings: a stored value of the wrong type falls back to the default", () => {
  using t = tempStore();
  t.store.db.prepare("INSERT INTO settings (key, value) VALUES (?, ?)").run("tools", '"yes"');
  t.store.db.prepare("INSERT INTO settings (key, value) VALUES (?, ?)").run("model", "42");
  const settings = new Settings(t.store.db, DEFAULTS);
  strictEqual(settings.get("tools"), true);
  strictEqual(settings.get("model"), "gpt-4.1-nano");
});

Deno.test("Settings: values returns a copy", () => {
  using t = tempStore();
  const settings = new Settings(t.store.db, DEFAULTS);
  const values = settings.values;
  values.model = "changed";
  strictEqual(settings.get("model"), "gpt-4.1-nano");
});
