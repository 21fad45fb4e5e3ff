/**
 * Journey: the model provider fails on one message and works on the next
 * (decision 30). A user asks something, the provider fails on their next
 * message (HTTP 500, a timeout, or a 400 saying the context is too long),
 * the user sees `Something went wrong (<reason>)` and sends another message:
 * its answer is about that message only — the failed one is nowhere in the
 * request the provider gets, and roles alternate. Each story runs in a plain
 * and an encrypted room, with the real bot process against the real Synapse;
 * the fake model (shared with the bot through its URL) fails on the texts
 * the test names and answers `Echo: <text>` to everything else.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { FakeOpenAI, type FakeReply, type RecordedRequest } from "../../fixtures/fake_openai.ts";
import {
  type BotProcess,
  type NioStep,
  registerUser,
  runNio,
  setupBot,
  SYNAPSE_URL,
  TestClient,
  unique,
} from "../helpers.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const DEFAULT_PROMPT = "you are a helpful test bot. Be brief.";

/** What the provider does for each failure, and what the user sees. */
const FAILURES = {
  "HTTP 500": {
    reply: {
      kind: "error",
      status: 500,
      message: "The server had an error while processing your request. Sorry about that!",
    },
    seen: "Something went wrong (the model provider had an internal error, HTTP 500)",
  },
  "a timeout": {
    // Never answers: the bot gives up after llm.timeout.
    reply: { kind: "hang" },
    seen: "Something went wrong (the model provider timed out)",
  },
  "HTTP 400 context too long": {
    // The body OpenAI sends for a request over the model's context window.
    reply: {
      kind: "error",
      status: 400,
      type: "invalid_request_error",
      param: "messages",
      code: "context_length_exceeded",
      message: "This model's maximum context length is 128000 tokens. However, your messages " +
        "resulted in 131072 tokens. Please reduce the length of the messages.",
    },
    seen: "Something went wrong (the conversation is too long for this model, try .reset)",
  },
} satisfies Record<string, { reply: FakeReply; seen: string }>;

type Failure = keyof typeof FAILURES;

function lastUserText(request: RecordedRequest): string {
  const m = request.messages.findLast((m) => m.role === "user");
  return typeof m?.content === "string" ? m.content : "";
}

/** A fake model that fails on the texts in `failing` (keyed on the user's message). */
function fakeModel(): { fake: FakeOpenAI; failing: Map<string, FakeReply> } {
  const fake = FakeOpenAI.start();
  const failing = new Map<string, FakeReply>();
  fake.setHandler((request) => failing.get(lastUserText(request)));
  return { fake, failing };
}

/** The one request whose last message is `text`. */
function requestFor(fake: FakeOpenAI, text: string): RecordedRequest {
  const found = fake.chats.filter((r) => r.messages.at(-1)?.content === text);
  strictEqual(found.length, 1, `one model request ending with ${JSON.stringify(text)}`);
  return found[0];
}

/**
 * The request for `next` is `thread` exactly: the failed text is nowhere in
 * it, and after the system prompt user and assistant alternate.
 */
function assertAboutNextOnly(
  fake: FakeOpenAI,
  next: string,
  failed: string,
  thread: Array<[string, string]>,
): void {
  const request = requestFor(fake, next);
  ok(!JSON.stringify(request.messages).includes(failed), "the failed message is not resent");
  const roles = request.messages.map((m) => m.role);
  strictEqual(roles[0], "system");
  roles.slice(1).forEach((role, i) =>
    strictEqual(role, i % 2 === 0 ? "user" : "assistant", `roles ${roles.join(",")}`)
  );
  deepStrictEqual(request.messages.map((m) => [m.role, m.content]), thread);
  // The failed message reached the provider once: in the request that failed.
  strictEqual(
    fake.chats.filter((r) => JSON.stringify(r.messages).includes(failed)).length,
    1,
    "the failed message was sent exactly once",
  );
}

function logTail(bot: BotProcess): string {
  return bot.log.slice(-30).join("\n");
}

Deno.test({
  name:
    "a provider fails on one message (HTTP 500, then a timeout) and works on the next: a matrix-js-sdk user sees 'Something went wrong (…)' and the next answer is about the next message only, in a plain and an encrypted room",
  ...opts,
  async fn() {
    const started = performance.now();
    const { fake, failing } = fakeModel();
    const alice = await TestClient.create("alice");
    // A small llm.timeout, so the timeout story takes seconds, not minutes.
    const setup = await setupBot({
      providerUrl: fake.url,
      admins: [alice.userId],
      config: { llm: { timeout: 3 } },
    });
    const bot = await setup.start();
    try {
      await bot.ready();
      const rooms = await Promise.all([true, false].map(async (encrypted) => {
        const id = await alice.createRoom({ encrypted, invite: [setup.userId] });
        await alice.waitForJoin(id, setup.userId);
        return { id, tag: encrypted ? "encrypted" : "plain" };
      }));
      // Both rooms at once: the stories do not share a thread or a fake reply.
      await Promise.all(rooms.map(async ({ id, tag }) => {
        const see = async (send: string, expected: (text: string) => boolean) => {
          await alice.send(id, `.ai ${send}`);
          try {
            await alice.waitForMessage(id, setup.userId, expected, 60_000);
          } catch (error) {
            console.error(`no reply to "${send}"; last bot log lines:\n${logTail(bot)}`);
            throw error;
          }
        };
        const echo = (text: string) => see(text, (t) => t.endsWith(`\nEcho: ${text}`));
        const thread: Array<[string, string]> = [["system", DEFAULT_PROMPT]];

        const hello = `hello, I am in the ${tag} room`;
        await echo(hello);
        thread.push(["user", hello], ["assistant", `Echo: ${hello}`]);

        for (const failure of ["HTTP 500", "a timeout"] as Failure[]) {
          const failed = `this one meets ${failure} in the ${tag} room`;
          failing.set(failed, FAILURES[failure].reply);
          await see(failed, (t) => t === FAILURES[failure].seen);

          const next = `and this one works after ${failure} in the ${tag} room`;
          await echo(next);
          thread.push(["user", next]);
          assertAboutNextOnly(fake, next, failed, thread);
          thread.push(["assistant", `Echo: ${next}`]);
        }
      }));
      console.log(
        `provider failure journey (matrix-js-sdk): ${Math.round(performance.now() - started)} ms`,
      );
    } finally {
      await bot.stop();
      alice.stop();
      await fake.close();
      await setup.remove();
    }
  },
});

Deno.test({
  name:
    "a provider refuses one message as too long for the context (HTTP 400) and works on the next: a matrix-nio user sees 'Something went wrong (…)' and the next answer is about the next message only, in a plain and an encrypted room",
  ...opts,
  async fn() {
    const started = performance.now();
    const { fake, failing } = fakeModel();
    const alice = await TestClient.create("alice");
    const nioName = unique("nio");
    const nioPassword = `pw-${nioName}`;
    const nio = await registerUser(nioName, nioPassword);
    const setup = await setupBot({ providerUrl: fake.url, admins: [alice.userId] });
    const bot = await setup.start();
    try {
      await bot.ready();
      const rooms = await Promise.all([true, false].map(async (encrypted) => {
        const id = await alice.createRoom({ encrypted, invite: [setup.userId, nio.user_id] });
        await alice.waitForJoin(id, setup.userId);
        return { id, encrypted, tag: encrypted ? "encrypted" : "plain" };
      }));
      const failure: Failure = "HTTP 400 context too long";
      const texts = rooms.map(({ tag }) => ({
        hello: `hello from nio in the ${tag} room`,
        // A long paste, as people do: the provider says it does not fit.
        failed: `please summarise this (${tag} room): ${
          "lorem ipsum dolor sit amet ".repeat(400).trim()
        }`,
        next: `a short question from nio in the ${tag} room`,
      }));
      for (const t of texts) failing.set(t.failed, FAILURES[failure].reply);
      const run = await runNio({
        homeserver: SYNAPSE_URL,
        user: nio.user_id,
        password: nioPassword,
        rooms: rooms.map((r) => r.id),
        peer: setup.userId,
        timeout: 90,
        steps: rooms.flatMap((room, i) => [
          { room: room.id, send: `.ai ${texts[i].hello}`, expect: `Echo: ${texts[i].hello}` },
          { room: room.id, send: `.ai ${texts[i].failed}`, expect: "Something went wrong (" },
          { room: room.id, send: `.ai ${texts[i].next}`, expect: `Echo: ${texts[i].next}` },
        ]),
      });
      strictEqual(run.code, 0, `nio driver failed:\n${run.stderr}\nbot log:\n${logTail(bot)}`);
      strictEqual(run.steps.length, 6);
      for (const [i, room] of rooms.entries()) {
        const [hello, failed, next] = run.steps.slice(3 * i, 3 * i + 3) as NioStep[];
        for (const step of [hello, failed, next]) {
          strictEqual(step.sent_encrypted, room.encrypted);
          strictEqual(step.messages.length, 1, `one reply to ${step.send.slice(0, 60)}`);
          strictEqual(step.messages[0].encrypted, room.encrypted);
        }
        strictEqual(failed.messages[0].text, FAILURES[failure].seen);
        ok(next.messages[0].text.endsWith(`\nEcho: ${texts[i].next}`), next.messages[0].text);
        assertAboutNextOnly(fake, texts[i].next, texts[i].failed, [
          ["system", DEFAULT_PROMPT],
          ["user", texts[i].hello],
          ["assistant", `Echo: ${texts[i].hello}`],
          ["user", texts[i].next],
        ]);
      }
      console.log(
        `provider failure journey (matrix-nio): ${Math.round(performance.now() - started)} ms`,
      );
    } finally {
      await bot.stop();
      alice.stop();
      await fake.close();
      await setup.remove();
    }
  },
});
