import { deepStrictEqual, strictEqual } from "node:assert/strict";
import {
  History,
  type HistoryOptions,
  type Message,
  PersonalModels,
  Settings,
  type SettingValues,
  systemPrompt,
  trimThread,
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
    "the system message is kept and the oldest other message dropped",
    [sys(), user("1"), bot("2"), user("3")],
    3,
    [sys(), bot("2"), user("3")],
  ],
  [
    "without a system message the oldest message is dropped",
    [user("1"), bot("2"), user("3")],
    2,
    [bot("2"), user("3")],
  ],
  [
    "size 2 keeps the system message and the last message",
    [sys(), user("1"), bot("2"), user("3")],
    2,
    [sys(), user("3")],
  ],
  [
    "a system message that is not first is trimmed like any other",
    [user("1"), sys(), user("2")],
    2,
    [sys(), user("2")],
  ],
  ["an empty thread stays empty", [], 2, []],
  ["size 1 with a system message keeps only the system message", [sys(), user("1")], 1, [sys()]],
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

Deno.test("History: append stores the message durably (survives reopening the store)", () => {
  using t = tempStore();
  const history = new History(t.store.db, options());
  strictEqual(history.append(ROOM, ALICE, { role: "user", content: "hi", id: "$e1" }), true);
  strictEqual(history.append(ROOM, ALICE, { role: "assistant", content: "hello" }), true);
  const reopened = new History(t.reopen().db, options());
  deepStrictEqual(reopened.get(ROOM, ALICE), [
    { role: "system", content: DEFAULT_PROMPT },
    { role: "user", content: "hi", id: "$e1" },
    { role: "assistant", content: "hello" },
  ]);
  strictEqual(reopened.has(ROOM, ALICE), true);
});

Deno.test("History: append trims to history_size, keeping the system prompt", () => {
  using t = tempStore();
  const history = new History(t.store.db, options({ historySize: 3 }));
  for (const content of ["1", "2", "3", "4"]) {
    history.append(ROOM, ALICE, { role: "user", content });
  }
  deepStrictEqual(history.get(ROOM, ALICE).map((m) => m.content), [DEFAULT_PROMPT, "3", "4"]);
});

Deno.test("History: appending a message whose id is already stored changes nothing", () => {
  using t = tempStore();
  const history = new History(t.store.db, options());
  history.append(ROOM, ALICE, { role: "user", content: "hi", id: "$e1" });
  const before = history.get(ROOM, ALICE);
  strictEqual(history.append(ROOM, ALICE, { role: "user", content: "hi again", id: "$e1" }), false);
  deepStrictEqual(history.get(ROOM, ALICE), before);
});

Deno.test("History: the same id in another user's thread is a different message", () => {
  using t = tempStore();
  const history = new History(t.store.db, options());
  strictEqual(history.append(ROOM, ALICE, { role: "user", content: "a", id: "$e1" }), true);
  strictEqual(history.append(ROOM, BOB, { role: "user", content: "b", id: "$e1" }), true);
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
  history.set(ROOM, ALICE, [sys("custom"), user("1"), user("2")]);
  deepStrictEqual(history.get(ROOM, ALICE), [sys("custom"), user("2")]);
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
