import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { waitUntil } from "./fixtures/wait.ts";
import { FakeOpenAI } from "./fixtures/fake_openai.ts";
import { startTestBot, type TestBot, withBot } from "./fixtures/harness.ts";
import type { PortEvent } from "./fixtures/memory_port.ts";

const ROOM = "!room:test";
const ALICE = "@alice:test";
const BOB = "@bob:test";
const ADMIN = "@admin:test";
const names = { [ALICE]: "Alice", [BOB]: "Bob", [ADMIN]: "Admin" };

function kinds(events: readonly PortEvent[]): string[] {
  return events.map((e) => e.kind === "typing" ? `typing:${e.typing}` : e.kind);
}

function edits(bot: TestBot): Array<Extract<PortEvent, { kind: "edit" }>> {
  return bot.port.events.filter((e): e is Extract<PortEvent, { kind: "edit" }> =>
    e.kind === "edit"
  );
}

function sends(bot: TestBot): Array<Extract<PortEvent, { kind: "send" }>> {
  return bot.port.events.filter((e): e is Extract<PortEvent, { kind: "send" }> =>
    e.kind === "send"
  );
}

// --- filtering ---

Deno.test("the bot ignores its own messages", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say("@bot:test", ".ai talking to myself");
  await bot.say("@bot:test", "InfiniGPT: hi");
  deepStrictEqual(bot.port.events, []);
  strictEqual(bot.fake.requests.length, 0);
});

Deno.test("unknown commands, plain chat and misplaced command words get no reply", async () => {
  await using fake = FakeOpenAI.start();
  await using bot = await startTestBot({ providerUrl: fake.url, port: { names } });
  for (
    const body of [".unknown", "hello", ".AI hi", "hello .ai", ".aihello", "InfiniGPTs hi", ""]
  ) {
    await bot.say(ALICE, body);
  }
  deepStrictEqual(bot.port.events, []);
  strictEqual(fake.requests.length, 0);
});

for (
  const command of [".model gpt-5-mini", ".tools off", ".verbose on", ".thinking off", ".clear"]
) {
  Deno.test(`a non-admin's ${command.split(" ")[0]} is ignored without a reply`, async () => {
    await using fake = FakeOpenAI.start();
    await using bot = await startTestBot({ providerUrl: fake.url, port: { names } });
    await bot.say(ALICE, ".ai keep me");
    const before = { settings: bot.settings.values, thread: bot.history.get(ROOM, ALICE) };
    bot.port.clear();
    await bot.say(ALICE, command);
    deepStrictEqual(bot.port.events, []);
    deepStrictEqual(bot.settings.values, before.settings);
    deepStrictEqual(bot.history.get(ROOM, ALICE), before.thread);
  });
}

Deno.test("admins are matched by Matrix ID only, not by display name (decision 16)", async () => {
  await using bot = await withBot({
    port: { names: { [ALICE]: "Admin Person", [ADMIN]: "Whoever" } },
    config: { matrix: { admins: ["@admin:test", "Admin Person"] } },
  });
  await bot.say(ALICE, ".model gpt-5-mini");
  deepStrictEqual(bot.port.events, []);
  strictEqual(bot.settings.get("model"), "gpt-4.1-nano");
  await bot.say(ADMIN, ".model gpt-5-mini");
  deepStrictEqual(bot.port.visible(), ["Model set to **gpt-5-mini**"]);
});

Deno.test("allowed_users limits who is answered, but admins are always answered", async () => {
  await using bot = await withBot({
    port: { names },
    config: { matrix: { allowed_users: [ALICE] } },
  });
  await bot.say(BOB, ".ai let me in");
  await bot.say(BOB, ".help");
  deepStrictEqual(bot.port.events, []);
  await bot.say(ALICE, ".ai hi");
  await bot.say(ADMIN, ".ai hi");
  deepStrictEqual(bot.port.visible(), ["**Alice**:\nEcho: hi", "**Admin**:\nEcho: hi"]);
  strictEqual(bot.fake.chats.length, 2);
});

Deno.test("a message that mentions the bot with a pill and starts with its name is .ai (decision 14)", async () => {
  // The name without a pill is a mention too (decision 37), unless mentions are off.
  await using bot = await withBot({
    port: { names },
    config: { matrix: { answer: { mentions: false } } },
  });
  await bot.bot.handle({ room: ROOM, sender: ALICE, body: "InfiniGPT, hi", eventId: "$m1" });
  deepStrictEqual(bot.port.events, []);
  await bot.bot.handle({
    room: ROOM,
    sender: ALICE,
    body: "InfiniGPT, hi",
    eventId: "$m2",
    mentions: ["@bot:test"],
  });
  deepStrictEqual(bot.port.visible(), ["**Alice**:\nEcho: hi"]);
});

Deno.test("a display-name lookup that fails shows the sender by Matrix ID", async () => {
  await using bot = await withBot({ port: { names } });
  bot.port.displayName = () => Promise.reject(new Error("profile unavailable"));
  await bot.say(ALICE, ".ai hi");
  deepStrictEqual(bot.port.visible(), ["**@alice:test**:\nEcho: hi"]);
});

// --- concurrency (decision 17) ---

Deno.test("different users are answered in parallel", async () => {
  await using bot = await withBot({ port: { names } });
  bot.fake.latencyMs = 300;
  await Promise.all([bot.say(ALICE, ".ai from alice"), bot.say(BOB, ".ai from bob")]);
  ok(bot.fake.maxInFlight >= 2, `maxInFlight was ${bot.fake.maxInFlight}`);
  deepStrictEqual(bot.port.visible().sort(), [
    "**Alice**:\nEcho: from alice",
    "**Bob**:\nEcho: from bob",
  ]);
});

Deno.test("one user's messages in a room are answered one after another, in order", async () => {
  await using bot = await withBot({ port: { names } });
  const first = bot.say(ALICE, ".ai sleep:300 one");
  const second = bot.say(ALICE, ".ai two");
  await Promise.all([first, second]);
  strictEqual(bot.fake.maxInFlight, 1);
  deepStrictEqual(bot.port.visible(), ["**Alice**:\nEcho: one", "**Alice**:\nEcho: two"]);
  // The second request saw the first exchange: strictly sequential.
  deepStrictEqual(bot.fake.chats[1].messages.slice(1), [
    { role: "user", content: "sleep:300 one" },
    { role: "assistant", content: "Echo: one" },
    { role: "user", content: "two" },
  ]);
});

Deno.test("the same user in two rooms is answered in parallel", async () => {
  await using bot = await withBot({ port: { names } });
  bot.fake.latencyMs = 300;
  await Promise.all([bot.say(ALICE, ".ai a", ROOM), bot.say(ALICE, ".ai b", "!other:test")]);
  ok(bot.fake.maxInFlight >= 2, `maxInFlight was ${bot.fake.maxInFlight}`);
  strictEqual(bot.port.visible().length, 2);
});

Deno.test("llm.max_concurrency caps simultaneous provider calls", async () => {
  await using bot = await withBot({ port: { names }, config: { llm: { max_concurrency: 1 } } });
  bot.fake.latencyMs = 100;
  await Promise.all([bot.say(ALICE, ".ai a"), bot.say(BOB, ".ai b"), bot.say(ADMIN, ".ai c")]);
  strictEqual(bot.fake.maxInFlight, 1);
  strictEqual(bot.port.visible().length, 3);
});

// --- placeholder and typing ---

Deno.test("the placeholder is sent, animated, then edited into the answer", async () => {
  await using bot = await withBot({
    port: { names },
    placeholders: true,
    timing: { animationMs: 10 },
  });
  // Answer only once the animation has visibly moved three frames.
  bot.fake.setHandler(async () => {
    await waitUntil("three animation edits", () => edits(bot).length >= 3);
    return { content: "the answer" };
  });
  await bot.say(ALICE, ".ai hi", ROOM, "$p1");
  const [placeholder, ...more] = sends(bot);
  deepStrictEqual(more, []);
  strictEqual(placeholder.message.body, "**Alice**:\nThinking.");
  strictEqual(placeholder.message.txnId, "$p1:placeholder");
  const all = edits(bot);
  ok(all.every((e) => e.target === placeholder.eventId));
  const frames = ["..", "...", "..", "."];
  const animation = all.slice(0, -1);
  ok(animation.length >= 3);
  animation.forEach((e, i) =>
    strictEqual(e.message.body, `**Alice**:\nThinking${frames[i % frames.length]}`)
  );
  strictEqual(all.at(-1)?.message.body, "**Alice**:\nthe answer");
  strictEqual(all.at(-1)?.message.txnId, "$p1:reply0");
  deepStrictEqual(bot.port.visible(), ["**Alice**:\nthe answer"]);
  strictEqual(bot.port.events.some((e) => e.kind === "redact"), false);
});

Deno.test("a slow animation edit in flight lands before the final answer, never after it", async () => {
  await using bot = await withBot({
    port: { names },
    placeholders: true,
    timing: { animationMs: 1 },
  });
  const port = bot.port;
  const edit = port.edit.bind(port);
  let started = 0;
  port.edit = async (room, target, message) => {
    if (message.body.includes("Thinking")) {
      started++;
      await new Promise((r) => setTimeout(r, 50));
    }
    return edit(room, target, message);
  };
  // Answer while the first animation edit is still on its way.
  bot.fake.setHandler(async () => {
    await waitUntil("an animation edit to start", () => started >= 1);
    return { content: "done" };
  });
  await bot.say(ALICE, ".ai hi");
  // Give a stray animation edit the time to land (it takes 50 ms).
  await new Promise((r) => setTimeout(r, 100));
  strictEqual(edits(bot).at(-1)?.message.body, "**Alice**:\ndone");
  deepStrictEqual(port.visible(), ["**Alice**:\ndone"]);
});

Deno.test("the placeholder animation stops after maxAnimationEdits", async () => {
  await using fake = FakeOpenAI.start();
  await using bot = await startTestBot({
    providerUrl: fake.url,
    port: { names },
    placeholders: true,
    timing: { animationMs: 1, maxAnimationEdits: 3 },
  });
  await bot.say(ALICE, ".ai sleep:200 hi");
  strictEqual(edits(bot).length, 4); // three frames and the answer
});

for (
  const [what, body] of [
    ["an empty .custom", ".custom"],
    ["an .x to an unknown name", ".x Nobody hello"],
  ]
) {
  Deno.test(`the placeholder is removed when ${what} produces no reply`, async () => {
    await using fake = FakeOpenAI.start();
    await using bot = await startTestBot({
      providerUrl: fake.url,
      port: { names },
      placeholders: true,
      timing: { animationMs: 10 },
    });
    await bot.say(ALICE, body);
    const [placeholder] = sends(bot);
    strictEqual(placeholder.message.body, "**Alice**:\nThinking.");
    deepStrictEqual(bot.port.events.filter((e) => e.kind === "redact"), [
      { kind: "redact", room: ROOM, target: placeholder.eventId },
    ]);
    deepStrictEqual(bot.port.visible(), []);
    // Nothing animates an orphaned placeholder afterwards.
    const count = bot.port.events.length;
    await new Promise((r) => setTimeout(r, 50));
    strictEqual(bot.port.events.length, count);
  });
}

Deno.test("with .thinking off no placeholder is sent", async () => {
  await using bot = await withBot({
    port: { names },
    placeholders: true,
    timing: { animationMs: 10, typingDelayMs: 20 },
  });
  await bot.say(ADMIN, ".thinking off");
  bot.port.clear();
  await bot.say(ALICE, ".ai sleep:100 hi");
  deepStrictEqual(kinds(bot.port.events), ["typing:true", "send", "typing:false"]);
  deepStrictEqual(bot.port.visible(), ["**Alice**:\nEcho: hi"]);
});

Deno.test("commands that do not use the model get no placeholder and no typing notice", async () => {
  await using bot = await withBot({ port: { names }, placeholders: true });
  await bot.say(ALICE, ".reset");
  await bot.say(ALICE, ".mymodel");
  await bot.say(ADMIN, ".tools");
  deepStrictEqual(kinds(bot.port.events), ["send", "send", "send"]);
});

Deno.test("the typing notice is on while a slow model works and off afterwards", async () => {
  await using bot = await withBot({ port: { names }, timing: { typingDelayMs: 20 } });
  await bot.say(ALICE, ".ai sleep:200 hi");
  deepStrictEqual(kinds(bot.port.events), ["typing:true", "send", "typing:false"]);
  ok(bot.port.events.every((e) => e.room === ROOM));
});

Deno.test("an instant answer sends no typing notice at all", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(ALICE, ".ai hi");
  deepStrictEqual(kinds(bot.port.events), ["send"]);
});

Deno.test("the typing notice is renewed while a slow answer is pending", async () => {
  await using bot = await withBot({
    port: { names },
    timing: { typingRenewMs: 10, typingDelayMs: 5 },
  });
  bot.fake.setHandler(async () => {
    await waitUntil(
      "typing renewals",
      () => bot.port.events.filter((e) => e.kind === "typing" && e.typing).length >= 3,
    );
    return { content: "ok" };
  });
  await bot.say(ALICE, ".ai hi");
  deepStrictEqual(kinds(bot.port.events).at(-1), "typing:false");
  const count = bot.port.events.length;
  await new Promise((r) => setTimeout(r, 40));
  strictEqual(bot.port.events.length, count, "typing renewals continued after the answer");
});

Deno.test("replies to a message in a thread stay in that thread", async () => {
  await using bot = await withBot({
    port: { names },
    placeholders: true,
    timing: { animationMs: 10 },
  });
  await bot.bot.handle({
    room: ROOM,
    sender: ALICE,
    body: ".ai sleep:50 hi",
    eventId: "$t1",
    threadId: "$root",
  });
  const messages = bot.port.events.filter((e) => e.kind === "send" || e.kind === "edit");
  ok(messages.length >= 2);
  for (const e of messages) {
    if (e.kind === "send" || e.kind === "edit") strictEqual(e.message.threadId, "$root");
  }
});

// --- failures ---

Deno.test("a handler that throws replies with an internal error and the bot keeps serving", async () => {
  await using bot = await withBot({ port: { names } });
  const models = bot.models;
  models.get = () => {
    throw new Error("state database is gone");
  };
  await bot.say(ALICE, ".ai hi");
  deepStrictEqual(bot.port.visible(), ["Something went wrong (an internal error)"]);
  // deno-lint-ignore no-explicit-any
  delete (models as any).get;
  await bot.say(ALICE, ".ai again");
  await bot.say(BOB, ".ai me too");
  deepStrictEqual(bot.port.visible().slice(1), [
    "**Alice**:\nEcho: again",
    "**Bob**:\nEcho: me too",
  ]);
});

Deno.test("a handler that throws resolves its placeholder with the internal error", async () => {
  await using bot = await withBot({
    port: { names },
    placeholders: true,
    timing: { animationMs: 10 },
  });
  bot.history.append = () => {
    throw new Error("disk full");
  };
  await bot.say(ALICE, ".ai hi");
  deepStrictEqual(bot.port.visible(), ["Something went wrong (an internal error)"]);
  strictEqual(sends(bot).length, 1);
  strictEqual(bot.port.events.some((e) => e.kind === "redact"), false);
});

Deno.test("a port that cannot send does not stop the bot, and the answer is still stored", async () => {
  await using bot = await withBot({ port: { names } });
  bot.port.failSends = new Error("homeserver unreachable");
  await bot.say(ALICE, ".ai lost reply");
  deepStrictEqual(bot.port.visible(), []);
  strictEqual(bot.history.get(ROOM, ALICE).at(-1)?.content, "Echo: lost reply");
  bot.port.failSends = undefined;
  await bot.say(ALICE, ".ai next");
  deepStrictEqual(bot.port.visible(), ["**Alice**:\nEcho: next"]);
});

Deno.test("a placeholder that cannot be sent still lets the answer through", async () => {
  await using bot = await withBot({
    port: { names },
    placeholders: true,
    timing: { animationMs: 10 },
  });
  const port = bot.port;
  const send = port.send.bind(port);
  let calls = 0;
  port.send = (room, message) => {
    if (calls++ === 0) return Promise.reject(new Error("rate limited"));
    return send(room, message);
  };
  await bot.say(ALICE, ".ai hi");
  deepStrictEqual(port.visible(), ["**Alice**:\nEcho: hi"]);
  strictEqual(edits(bot).length, 0);
});

Deno.test("when the placeholder cannot be edited the answer is sent anew and the placeholder removed", async () => {
  await using bot = await withBot({
    port: { names },
    placeholders: true,
    timing: { animationMs: 10_000 },
  });
  bot.port.failEdits = new Error("M_UNKNOWN");
  await bot.say(ALICE, ".ai hi");
  const placeholder = sends(bot)[0];
  strictEqual(placeholder.message.body, "**Alice**:\nThinking.");
  deepStrictEqual(
    bot.port.events.filter((e) => e.kind === "redact").map((e) => e.target),
    [placeholder.eventId],
  );
  deepStrictEqual(bot.port.visible(), ["**Alice**:\nEcho: hi"]);
});

// --- shutdown ---

Deno.test("stop() waits for answers in progress and then ignores new messages", async () => {
  await using bot = await withBot({ port: { names } });
  bot.fake.latencyMs = 300;
  const pending = bot.say(ALICE, ".ai in flight");
  await waitUntil("the request to reach the provider", () => bot.fake.inFlight === 1);
  await bot.bot.stop(10_000);
  deepStrictEqual(bot.port.visible(), ["**Alice**:\nEcho: in flight"]);
  await pending;
  strictEqual(bot.bot.closing, true);
  await bot.say(ALICE, ".ai too late");
  strictEqual(bot.fake.chats.length, 1);
  strictEqual(bot.port.visible().length, 1);
});

Deno.test("stop() cancels answers still running after the grace period, without replying", async () => {
  await using bot = await withBot({ port: { names }, placeholders: true });
  bot.fake.enqueue({ kind: "hang" });
  const pending = bot.bot.handle({
    room: ROOM,
    sender: ALICE,
    body: ".ai never answered",
    eventId: "$hang",
  });
  await waitUntil("the request to reach the provider", () => bot.fake.inFlight === 1);
  await bot.bot.stop(50);
  // Not handled: the transport keeps the message and answers it after the restart,
  // reusing the placeholder (so it is not removed either).
  strictEqual(await pending, false);
  deepStrictEqual(bot.port.visible(), ["**Alice**:\nThinking."]);
  ok(!bot.port.events.some((e) => e.kind === "redact"));
});

Deno.test("an .x into someone's thread waits for that user's own exchange, and vice versa", async () => {
  await using bot = await withBot({ port: { names } });
  const own = bot.say(BOB, ".ai sleep:300 mine");
  await waitUntil("Bob's request", () => bot.fake.inFlight === 1);
  await Promise.all([own, bot.say(ALICE, ".x @bob:test yours")]);
  strictEqual(bot.fake.maxInFlight, 1);
  deepStrictEqual(bot.history.get(ROOM, BOB).map((m) => [m.role, m.content]), [
    ["system", "you are a helpful test bot. Be brief."],
    ["user", "sleep:300 mine"],
    ["assistant", "Echo: mine"],
    ["user", "yours"],
    ["assistant", "Echo: yours"],
  ]);
});
