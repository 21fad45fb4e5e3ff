/**
 * The ThreadStore contract, run against the SQLite and the memory
 * implementation alike (tests/state/backends.ts).
 */
import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import {
  type Message,
  threadKey,
  type ThreadOptions,
  TooLongError,
} from "../../lib/conversation.ts";
import { contract } from "./backends.ts";

const sys = (content = "S"): Message => ({ role: "system", content });
const user = (content: string): Message => ({ role: "user", content });
const bot = (content: string): Message => ({ role: "assistant", content });

const ROOM = "!room:hs";
const OTHER_ROOM = "!other:hs";
const ALICE = "@alice:hs";
const BOB = "@bob:hs";

function options(overrides: Partial<ThreadOptions> = {}): ThreadOptions {
  return {
    prompt: ["you are ", ".", " Be brief."],
    personality: "a helpful bot",
    historySize: 5,
    verbose: () => false,
    ...overrides,
  };
}

const DEFAULT_PROMPT = "you are a helpful bot. Be brief.";

contract(
  "ThreadStore",
  "a new thread starts with the default system prompt, not yet stored",
  (t) => {
    const history = t.threads(options());
    deepStrictEqual(history.get(ROOM, ALICE), [{ role: "system", content: DEFAULT_PROMPT }]);
    strictEqual(history.has(ROOM, ALICE), false);
    deepStrictEqual(history.users(ROOM), []);
  },
);

contract("ThreadStore", "the default prompt follows the verbose mode at creation time", (t) => {
  let verbose = true;
  const history = t.threads(options({ verbose: () => verbose }));
  strictEqual(history.get(ROOM, ALICE)[0].content, "you are a helpful bot.");
  verbose = false;
  strictEqual(history.get(ROOM, ALICE)[0].content, DEFAULT_PROMPT);
  strictEqual(history.defaultPrompt("a cat"), "you are a cat. Be brief.");
});

contract(
  "ThreadStore",
  "append stores the messages durably (survives reopening the store)",
  (t) => {
    const history = t.threads(options());
    history.append(ROOM, ALICE, { role: "user", content: "hi", id: "$e1" }, {
      role: "assistant",
      content: "hello",
    });
    const reopened = t.reopen().threads(options());
    deepStrictEqual(reopened.get(ROOM, ALICE), [
      { role: "system", content: DEFAULT_PROMPT },
      { role: "user", content: "hi", id: "$e1" },
      { role: "assistant", content: "hello" },
    ]);
    strictEqual(reopened.has(ROOM, ALICE), true);
  },
);

contract(
  "ThreadStore",
  "append trims to history_size by whole exchanges, keeping the system prompt",
  (t) => {
    const history = t.threads(options({ historySize: 3 }));
    for (const content of ["1", "2"]) {
      history.append(ROOM, ALICE, user(content), bot(`re ${content}`));
    }
    deepStrictEqual(history.get(ROOM, ALICE).map((m) => m.content), [DEFAULT_PROMPT, "2", "re 2"]);
  },
);

contract("ThreadStore", "appending a message whose id is stored drops the earlier copy", (t) => {
  const history = t.threads(options());
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

contract("ThreadStore", "the same id in another user's thread is a different message", (t) => {
  const history = t.threads(options());
  history.append(ROOM, ALICE, { role: "user", content: "a", id: "$e1" });
  history.append(ROOM, BOB, { role: "user", content: "b", id: "$e1" });
  strictEqual(history.get(ROOM, ALICE).at(-1)?.content, "a");
  strictEqual(history.get(ROOM, BOB).at(-1)?.content, "b");
});

contract("ThreadStore", "request builds the exchange's messages without storing anything", (t) => {
  const history = t.threads(options());
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

contract(
  "ThreadStore",
  "request never sends two user messages in a row, whatever is stored",
  (t) => {
    const history = t.threads(options());
    history.set(ROOM, ALICE, [sys(), user("failed once"), user("failed twice")]);
    deepStrictEqual(history.request(ROOM, ALICE, { next: user("now") }), [sys(), user("now")]);
    // Without a new message (an empty .ai), the last unanswered one is asked.
    deepStrictEqual(history.request(ROOM, ALICE), [sys(), user("failed twice")]);
  },
);

contract(
  "ThreadStore",
  "request leaves out an earlier copy of the message and what followed it",
  (t) => {
    const history = t.threads(options());
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
  },
);

contract(
  "ThreadStore",
  "request trims whole exchanges to history_size, the new message included",
  (t) => {
    const history = t.threads(options({ historySize: 4 }));
    history.append(ROOM, ALICE, user("1"), bot("2"));
    history.append(ROOM, ALICE, user("3"), bot("4"));
    deepStrictEqual(history.request(ROOM, ALICE, { next: user("5") }), [
      sys(DEFAULT_PROMPT),
      user("3"),
      bot("4"),
      user("5"),
    ]);
  },
);

contract("ThreadStore", "request can start from another thread (.persona)", (t) => {
  const history = t.threads(options());
  history.append(ROOM, ALICE, user("old"), bot("old answer"));
  deepStrictEqual(
    history.request(ROOM, ALICE, { next: user("introduce yourself"), thread: [sys("pirate")] }),
    [sys("pirate"), user("introduce yourself")],
  );
});

contract("ThreadStore", "find returns the stored message with an id, or nothing", (t) => {
  const history = t.threads(options());
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

contract("ThreadStore", "get returns a copy the caller may change freely", (t) => {
  const history = t.threads(options());
  history.append(ROOM, ALICE, { role: "user", content: "hi" });
  const copy = history.get(ROOM, ALICE);
  copy.push({ role: "user", content: "not stored" });
  copy[0].content = "changed";
  deepStrictEqual(history.get(ROOM, ALICE).map((m) => m.content), [DEFAULT_PROMPT, "hi"]);
});

contract("ThreadStore", "set replaces the thread and trims it", (t) => {
  const history = t.threads(options({ historySize: 2 }));
  history.set(ROOM, ALICE, [sys("custom"), user("1"), bot("2"), user("3")]);
  deepStrictEqual(history.get(ROOM, ALICE), [sys("custom"), user("3")]);
});

contract("ThreadStore", "a stock (empty) thread is kept empty and not re-seeded", (t) => {
  const history = t.threads(options());
  history.set(ROOM, ALICE, []);
  deepStrictEqual(history.get(ROOM, ALICE), []);
  strictEqual(history.has(ROOM, ALICE), true);
  history.append(ROOM, ALICE, { role: "user", content: "no system" });
  deepStrictEqual(t.reopen().threads(options()).get(ROOM, ALICE), [user("no system")]);
});

contract("ThreadStore", "threads are separate per room and per user", (t) => {
  const history = t.threads(options());
  history.append(ROOM, ALICE, user("alice here"));
  history.append(OTHER_ROOM, ALICE, user("alice there"));
  history.append(ROOM, BOB, user("bob here"));
  strictEqual(history.get(ROOM, ALICE).at(-1)?.content, "alice here");
  strictEqual(history.get(OTHER_ROOM, ALICE).at(-1)?.content, "alice there");
  strictEqual(history.get(ROOM, BOB).at(-1)?.content, "bob here");
});

contract("ThreadStore", "users() lists the room's users, most recently active first", (t) => {
  let clock = 1000;
  const history = t.threads(options({ now: () => clock++ }));
  history.append(ROOM, ALICE, user("1"));
  history.append(ROOM, BOB, user("2"));
  history.append(OTHER_ROOM, "@carol:hs", user("3"));
  deepStrictEqual(history.users(ROOM), [BOB, ALICE]);
  history.append(ROOM, ALICE, user("4"));
  deepStrictEqual(history.users(ROOM), [ALICE, BOB]);
  deepStrictEqual(history.users(OTHER_ROOM), ["@carol:hs"]);
});

contract("ThreadStore", "clearAll removes every thread in every room", (t) => {
  const history = t.threads(options());
  history.append(ROOM, ALICE, user("1"));
  history.append(OTHER_ROOM, BOB, user("2"));
  history.clearAll();
  deepStrictEqual(history.users(ROOM), []);
  deepStrictEqual(history.users(OTHER_ROOM), []);
  deepStrictEqual(history.get(ROOM, ALICE), [{ role: "system", content: DEFAULT_PROMPT }]);
  strictEqual(t.reopen().threads(options()).has(OTHER_ROOM, BOB), false);
});

contract("ThreadStore", "users active at the same moment are listed in id order", (t) => {
  const history = t.threads(options({ now: () => 1000 }));
  for (const u of ["@c:hs", "@a:hs", "@z:hs", "@b:hs"]) history.append(ROOM, u, user("hi"));
  t.threads(options({ now: () => 2000 })).append(ROOM, "@m:hs", user("later"));
  deepStrictEqual(history.users(ROOM), ["@m:hs", "@a:hs", "@b:hs", "@c:hs", "@z:hs"]);
});

contract("ThreadStore", "a message stored with an undefined id comes back without one", (t) => {
  const history = t.threads(options());
  history.set(ROOM, ALICE, [{ role: "user", content: "hi", id: undefined }]);
  deepStrictEqual(history.get(ROOM, ALICE), [user("hi")]);
  strictEqual("id" in history.get(ROOM, ALICE)[0], false);
});

contract(
  "ThreadStore",
  "a Matrix thread's conversation is kept apart from users' and survives a reopen (decision 38)",
  (t) => {
    const key = threadKey("$root");
    const history = t.threads(options());
    history.append(ROOM, ALICE, user("mine"), bot("a"));
    history.set(ROOM, key, [sys(), user("Alice: in the thread"), bot("b")]);
    strictEqual(history.has(ROOM, key), true);
    strictEqual(history.has(OTHER_ROOM, key), false);
    deepStrictEqual(history.users(ROOM), [ALICE]);
    const after = t.reopen().threads(options());
    deepStrictEqual(after.get(ROOM, key), [sys(), user("Alice: in the thread"), bot("b")]);
    deepStrictEqual(after.get(ROOM, ALICE), [sys(DEFAULT_PROMPT), user("mine"), bot("a")]);
    after.clearAll();
    strictEqual(after.has(ROOM, key), false);
  },
);

contract(
  "ThreadStore",
  "a request is trimmed by estimated tokens when context_tokens is set (decision 39)",
  (t) => {
    const history = t.threads(options({ historySize: 100, contextTokens: 10 }));
    // 4 characters a token: each 16-character message is 4 tokens.
    history.set(ROOM, ALICE, [sys("S"), user("a".repeat(16)), bot("b".repeat(16))]);
    deepStrictEqual(history.request(ROOM, ALICE, { next: user("c".repeat(16)) }), [
      sys("S"),
      user("c".repeat(16)),
    ]);
    throws(
      () => history.request(ROOM, ALICE, { next: user("d".repeat(44)) }),
      (e) => e instanceof TooLongError && e.tokens === 11 && e.limit === 10,
    );
  },
);
