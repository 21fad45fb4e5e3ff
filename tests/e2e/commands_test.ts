/**
 * Every chat command as users meet it: the real bot process on the real
 * Synapse, asked from matrix-js-sdk clients (admin alice, non-admin bob), in
 * an encrypted room and in a plain room, with the fake OpenAI-compatible
 * server behind the providers.
 */
import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import * as sdk from "matrix-js-sdk";
import { splitHelp } from "../../lib/handlers/help.ts";
import { MAX_PART_BYTES } from "../../lib/matrix_outbox.ts";
import { byteLength } from "../../lib/split.ts";
import { FakeOpenAI } from "../fixtures/fake_openai.ts";
import { rawConfig } from "../fixtures/harness.ts";
import { ROOT, type Seen, setupBot, SYNAPSE_URL, TestClient, waitFor } from "./helpers.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

const HELP = splitHelp(await Deno.readTextFile(`${ROOT}/help.md`));
const MODELS = Object.values(
  (rawConfig("http://x").llm as { models: Record<string, string[]> }).models,
).flat();
const SORTED = [...MODELS].sort();
const DEFAULT_MODEL = "gpt-4.1-nano";
const PROMPT = "you are a helpful test bot. Be brief.";
const PROMPT_VERBOSE = "you are a helpful test bot.";
const BOT_NAME = "Infini Test Bot";

const PLACEHOLDER = /^\*\*[^\n]*\*\*:\nThinking\.*$/;

/** Event ids each client saw redacted. */
const redacted = new WeakMap<TestClient, Set<string>>();

/** Records the redactions `client` sees (the bot removes placeholders it did not need). */
function trackRedactions(client: TestClient): void {
  const ids = new Set<string>();
  redacted.set(client, ids);
  client.client.on(sdk.RoomEvent.Redaction, (event) => {
    const id = event.event.redacts ?? (event.getContent().redacts as string | undefined);
    if (id) ids.add(id);
  });
}

/** The bot's messages in `room` that `client` saw from index `from` on, not redacted. */
function botMessages(client: TestClient, room: string, bot: string, from = 0): Seen[] {
  const gone = redacted.get(client);
  return client.seen.slice(from).filter((s) =>
    s.room === room && s.sender === bot && s.type === "m.room.message" && !gone?.has(s.eventId)
  );
}

/** A password login on a new device (raw client-server API). */
async function login(userId: string, password: string): Promise<string> {
  const response = await fetch(`${SYNAPSE_URL}/_matrix/client/v3/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      type: "m.login.password",
      identifier: { type: "m.id.user", user: userId },
      password,
      initial_device_display_name: "commands_test",
    }),
  });
  if (!response.ok) throw new Error(`login ${userId}: ${response.status} ${await response.text()}`);
  return (await response.json()).access_token;
}

async function api(token: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${SYNAPSE_URL}/_matrix/client/v3${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) {
    throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  }
  return await response.json();
}

/** Something that must never have been answered, checked once more at the end. */
interface Forbidden {
  client: TestClient;
  room: string;
  /** Index in `client.seen` when it was sent. */
  from: number;
  pattern: RegExp;
  why: string;
}

/** Talks to one bot as one user. */
class Speaker {
  /**
   * `peers`: the other clients in the same rooms. They must have seen a reply
   * before anyone asks again, or it would pass for the answer to their question.
   */
  constructor(
    readonly client: TestClient,
    readonly bot: string,
    readonly peers: TestClient[] = [],
  ) {}

  /** Sends `body` and waits for `n` replies (placeholders resolved). */
  async ask(room: string, body: string, n = 1, extra: Record<string, unknown> = {}) {
    const from = this.client.seen.length;
    await this.client.send(room, body, extra);
    const replies = await waitFor(`${n} repl(ies) to ${JSON.stringify(body)} in ${room}`, () => {
      const got = botMessages(this.client, room, this.bot, from);
      if (got.length < n) return undefined;
      const first = got.slice(0, n);
      return first.every((s) => !PLACEHOLDER.test(TestClient.text(s))) ? first : undefined;
    });
    for (const peer of this.peers) {
      if (peer.client.getRoom(room)?.getMyMembership() !== "join") continue;
      await waitFor(
        `${peer.userId} to see the replies`,
        () => replies.every((r) => peer.seen.some((s) => s.eventId === r.eventId)) || undefined,
      );
    }
    return { replies, from };
  }

  /** Sends `body` and checks the one reply's text. */
  async expect(
    room: string,
    body: string,
    expected: string | RegExp,
    extra: Record<string, unknown> = {},
  ): Promise<Seen> {
    const { replies: [reply] } = await this.ask(room, body, 1, extra);
    if (typeof expected === "string") strictEqual(TestClient.text(reply), expected, body);
    else match(TestClient.text(reply), expected, body);
    return reply;
  }
}

Deno.test({
  name: "every chat command is answered correctly in an encrypted room and in a plain room",
  ...opts,
  async fn(t) {
    await using fake = FakeOpenAI.start();
    const alice = await TestClient.create("alice");
    const bob = await TestClient.create("bob");
    trackRedactions(alice);
    trackRedactions(bob);
    const setup = await setupBot({ providerUrl: fake.url, admins: [alice.userId] });
    const botId = setup.userId;
    // A display name with spaces, set before the start (the bot reads it once).
    const botToken = await login(botId, setup.password);
    await api(botToken, "PUT", `/profile/${encodeURIComponent(botId)}/displayname`, {
      displayname: BOT_NAME,
    });
    const bot = await setup.start();
    const forbidden: Forbidden[] = [];
    try {
      await bot.ready();
      const a = new Speaker(alice, botId, [bob]);
      const b = new Speaker(bob, botId, [alice]);
      const aliceName = (await alice.client.getProfileInfo(alice.userId)).displayname!;
      const bobName = (await bob.client.getProfileInfo(bob.userId)).displayname!;
      ok(aliceName && bobName && aliceName !== bobName);
      const header = (name: string, text: string) => `**${name}**:\n${text}`;

      const encrypted = await alice.createRoom({ invite: [botId, bob.userId] });
      const plain = await alice.createRoom({ invite: [botId, bob.userId], encrypted: false });
      const rooms: Array<[string, string]> = [["encrypted", encrypted], ["plain", plain]];
      for (const [, room] of rooms) {
        await bob.client.joinRoom(room);
        await alice.waitForJoin(room, botId);
        await alice.waitForJoin(room, bob.userId);
        await bob.waitForJoin(room, botId);
      }
      const lastChat = () => fake.chats.at(-1)!;
      /** Sends something that must not be answered, then a sentinel that must. */
      const ignored = async (
        who: Speaker,
        room: string,
        body: string,
        pattern: RegExp,
        sentinel: [string, string | RegExp],
        { extra = {}, late = true }: { extra?: Record<string, unknown>; late?: boolean } = {},
      ) => {
        const from = who.client.seen.length;
        await who.client.send(room, body, extra);
        await who.expect(room, sentinel[0], sentinel[1]);
        const answered = botMessages(who.client, room, botId, from).filter((s) =>
          pattern.test(TestClient.text(s))
        );
        deepStrictEqual(answered.map((s) => TestClient.text(s)), [], `${body} was answered`);
        // Replies to later commands may look alike; those are checked in the log instead.
        if (late) forbidden.push({ client: who.client, room, from, pattern, why: body });
      };

      await t.step(
        ".ai replies with the sender's name and the answer, encrypted where the room is",
        async () => {
          for (const [kind, room] of rooms) {
            const reply = await a.expect(
              room,
              `.ai hello ${kind}`,
              header(aliceName, `Echo: hello ${kind}`),
            );
            strictEqual(reply.encrypted, kind === "encrypted");
            // A fast answer is one message, no placeholder and no edit (decision 35).
            strictEqual(reply.edited, undefined, "a fast answer is never edited");
            strictEqual(reply.content.body, header(aliceName, `Echo: hello ${kind}`));
            match(
              String(reply.content.formatted_body),
              new RegExp(`<strong>${aliceName}</strong>:<br`),
            );
            deepStrictEqual(lastChat().messages.map((m) => [m.role, m.content]), [
              ["system", PROMPT],
              ["user", `hello ${kind}`],
            ]);
          }
        },
      );

      await t.step(
        "the mention form works by display name (spaces, any case) and by Matrix ID",
        async () => {
          for (const [, room] of rooms) {
            await a.expect(room, `${BOT_NAME}: hi there`, header(aliceName, "Echo: hi there"));
            await a.expect(
              room,
              `${BOT_NAME.toLowerCase()}: lower`,
              header(aliceName, "Echo: lower"),
            );
            await a.expect(room, `${botId}: by id`, header(aliceName, "Echo: by id"));
          }
        },
      );

      await t.step(
        "a mention pill at the start is a question, and so is the bot's name as a word; a longer word is not",
        async () => {
          for (const [, room] of rooms) {
            const pill = {
              format: "org.matrix.custom.html",
              formatted_body: `<a href="https://matrix.to/#/${botId}">${BOT_NAME}</a> what is up`,
              "m.mentions": { user_ids: [botId] },
            };
            await a.expect(
              room,
              `${BOT_NAME} what is up`,
              header(aliceName, "Echo: what is up"),
              pill,
            );
            await a.expect(
              room,
              `${BOT_NAME} no pill here`,
              header(aliceName, "Echo: no pill here"),
            );
            await ignored(a, room, `${BOT_NAME}s no pill here`, /no pill here/, [
              ".ai sentinel",
              header(aliceName, "Echo: sentinel"),
            ]);
          }
        },
      );

      await t.step(".x talks into bob's thread, by Matrix ID and by display name", async () => {
        for (const [, room] of rooms) {
          await b.expect(room, ".ai I am bob", header(bobName, "Echo: I am bob"));
          await a.expect(room, `.x ${bob.userId} via mxid`, header(aliceName, "Echo: via mxid"));
          deepStrictEqual(lastChat().messages.map((m) => m.content), [
            PROMPT,
            "I am bob",
            "Echo: I am bob",
            "via mxid",
          ]);
          await a.expect(room, `.x ${bobName} via name`, header(aliceName, "Echo: via name"));
          deepStrictEqual(lastChat().messages.slice(-3).map((m) => m.content), [
            "via mxid",
            "Echo: via mxid",
            "via name",
          ]);
          // An unknown name is ignored.
          await ignored(a, room, ".x nobody-here hello?", /hello\?/, [
            ".ai still here",
            header(aliceName, "Echo: still here"),
          ]);
        }
      });

      await t.step(
        ".persona and .custom restart the thread and let the model introduce itself",
        async () => {
          for (const [, room] of rooms) {
            await a.expect(
              room,
              ".persona a pirate",
              header(aliceName, "Echo: introduce yourself"),
            );
            deepStrictEqual(lastChat().messages.map((m) => [m.role, m.content]), [
              ["system", "you are a pirate. Be brief."],
              ["user", "introduce yourself"],
            ]);
            strictEqual(lastChat().body.tools, undefined, ".persona never offers tools");
            await a.expect(
              room,
              ".custom You answer in haiku.",
              header(aliceName, "Echo: introduce yourself"),
            );
            deepStrictEqual(lastChat().messages.map((m) => [m.role, m.content]), [
              ["system", "You answer in haiku."],
              ["user", "introduce yourself"],
            ]);
          }
        },
      );

      await t.step(".reset, .reset stock and .stock", async () => {
        for (const [, room] of rooms) {
          await a.expect(room, ".reset", `${BOT_NAME} reset to default for ${aliceName}`);
          await a.expect(room, ".ai after reset", header(aliceName, "Echo: after reset"));
          deepStrictEqual(lastChat().messages.map((m) => m.content), [PROMPT, "after reset"]);
          await a.expect(room, ".reset stock", `Stock settings applied for ${aliceName}`);
          await a.expect(room, ".ai after stock", header(aliceName, "Echo: after stock"));
          deepStrictEqual(lastChat().messages.map((m) => [m.role, m.content]), [[
            "user",
            "after stock",
          ]]);
          await a.expect(room, ".reset", `${BOT_NAME} reset to default for ${aliceName}`);
          await a.expect(room, ".stock", `Stock settings applied for ${aliceName}`);
          await a.expect(room, ".ai stock again", header(aliceName, "Echo: stock again"));
          deepStrictEqual(lastChat().messages.map((m) => m.role), ["user"]);
          await a.expect(room, ".reset", `${BOT_NAME} reset to default for ${aliceName}`);
        }
      });

      await t.step(".help: one message for a user, two for an admin", async () => {
        for (const [, room] of rooms) {
          const { replies: forBob, from } = await b.ask(room, ".help");
          strictEqual(TestClient.text(forBob[0]), HELP.user);
          await b.expect(room, ".mymodel", /^\*\*Your current model\*\*/);
          strictEqual(botMessages(bob, room, botId, from).length, 2, "help + the sentinel's reply");
          const { replies: forAlice } = await a.ask(room, ".help", 2);
          deepStrictEqual(forAlice.map((s) => TestClient.text(s)), [HELP.user, HELP.admin]);
          match(String(forAlice[0].content.formatted_body), /<table>/);
        }
      });

      await t.step(".mymodel lists, sets, refuses unknown and local models, resets", async () => {
        for (const [, room] of rooms) {
          const list = MODELS.join(", ");
          await a.expect(
            room,
            ".mymodel",
            `**Your current model**: ${DEFAULT_MODEL}\n**Available models**: ${list}`,
          );
          await a.expect(room, ".mymodel gpt-5-mini", `Model for ${aliceName} set to gpt-5-mini`);
          await a.expect(
            room,
            ".mymodel",
            `**Your current model**: gpt-5-mini\n**Available models**: ${list}`,
          );
          await a.expect(room, ".ai which model", header(aliceName, "Echo: which model"));
          strictEqual(lastChat().body.model, "gpt-5-mini");
          await a.expect(room, ".mymodel nope-1", `Model 'nope-1' not found. Available: ${list}`);
          await a.expect(
            room,
            ".mymodel qwen3:8b",
            "You cannot set an Ollama model unless it matches the current global model. Please ask an admin to change the global model first.",
          );
          await a.expect(
            room,
            ".mymodel reset",
            `Model for ${aliceName} reset to the global model (${DEFAULT_MODEL})`,
          );
          await a.expect(room, ".ai which model now", header(aliceName, "Echo: which model now"));
          strictEqual(lastChat().body.model, DEFAULT_MODEL);
        }
      });

      await t.step(
        ".model for admins: list, set, unknown, reset; non-admins get no reply",
        async () => {
          for (const [, room] of rooms) {
            const list = SORTED.join(", ");
            await a.expect(
              room,
              ".model",
              `**Current model**: ${DEFAULT_MODEL}\n**Available models**: ${list}`,
            );
            await a.expect(room, ".model gemini-2.5-flash", "Model set to **gemini-2.5-flash**");
            await a.expect(room, ".ai global", header(aliceName, "Echo: global"));
            strictEqual(lastChat().body.model, "gemini-2.5-flash");
            await a.expect(room, ".model nope-2", `Model 'nope-2' not found. Available: ${list}`);
            await a.expect(room, ".model", /^\*\*Current model\*\*: gemini-2\.5-flash\n/);
            await a.expect(room, ".model reset", `Model set to **${DEFAULT_MODEL}**`);
            const sentinel: [string, RegExp] = [".mymodel", /^\*\*Your current model\*\*/];
            const adminReply = /^\*\*Current model\*\*|^Model /;
            await ignored(b, room, ".model", adminReply, sentinel, { late: false });
            await ignored(b, room, ".model gpt-5-mini", adminReply, sentinel, { late: false });
            await a.expect(
              room,
              ".model",
              new RegExp(`^\\*\\*Current model\\*\\*: ${DEFAULT_MODEL}\\n`),
            );
          }
        },
      );

      await t.step(".tools status, off and on; bob cannot switch them", async () => {
        for (const [, room] of rooms) {
          await a.expect(room, ".tools", "Tools are currently enabled");
          await a.expect(room, ".tools off", "Tools are now disabled");
          await a.expect(room, ".tools status", "Tools are currently disabled");
          await a.expect(room, ".ai no tools", header(aliceName, "Echo: no tools"));
          strictEqual(lastChat().body.tools, undefined);
          await ignored(b, room, ".tools on", /^Tools /, [".mymodel", /^\*\*Your current model/], {
            late: false,
          });
          await a.expect(room, ".tools on", "Tools are now enabled");
          await a.expect(room, ".ai with tools", header(aliceName, "Echo: with tools"));
          ok(
            Array.isArray(lastChat().body.tools) && (lastChat().body.tools as unknown[]).length > 0,
          );
        }
      });

      await t.step(".verbose leaves the brevity clause out of new system prompts", async () => {
        for (const [, room] of rooms) {
          await a.expect(room, ".verbose", "Verbose mode is **OFF**");
          await a.expect(room, ".verbose on", "Verbose mode set to **ON**");
          await a.expect(room, ".verbose", "Verbose mode is **ON**");
          await a.expect(room, ".reset", `${BOT_NAME} reset to default for ${aliceName}`);
          await a.expect(room, ".ai wordy", header(aliceName, "Echo: wordy"));
          strictEqual(lastChat().messages[0].content, PROMPT_VERBOSE);
          await a.expect(room, ".verbose off", "Verbose mode set to **OFF**");
          await a.expect(room, ".verbose maybe", "Usage: .verbose [on|off|toggle]");
          await a.expect(room, ".reset", `${BOT_NAME} reset to default for ${aliceName}`);
          await a.expect(room, ".ai brief", header(aliceName, "Echo: brief"));
          strictEqual(lastChat().messages[0].content, PROMPT);
        }
      });

      await t.step(
        ".thinking off: the answer comes without a placeholder; on again: with one",
        async () => {
          for (const [, room] of rooms) {
            await a.expect(room, ".thinking", "Thinking placeholder is **ON**");
            await a.expect(room, ".thinking off", "Thinking placeholder set to **OFF**");
            const { replies: [plainReply], from } = await a.ask(room, ".ai no placeholder");
            strictEqual(String(plainReply.content.body), header(aliceName, "Echo: no placeholder"));
            strictEqual(plainReply.edited, undefined, "sent once, never edited");
            strictEqual(botMessages(alice, room, botId, from).length, 1);
            await a.expect(room, ".thinking maybe", "Usage: .thinking [on|off|toggle]");
            await a.expect(room, ".thinking on", "Thinking placeholder set to **ON**");
            // A fast answer is one message (decision 35): this one takes long enough to need it.
            const withPlaceholder = await a.expect(
              room,
              ".ai sleep:1500 placeholder",
              header(aliceName, "Echo: placeholder"),
            );
            match(String(withPlaceholder.content.body), PLACEHOLDER);
            ok(withPlaceholder.edited);
          }
        },
      );

      await t.step("a message in a Matrix thread is answered in that thread", async () => {
        for (const [, room] of rooms) {
          const root = await alice.send(room, "let us talk in a thread");
          const inThread = {
            "m.relates_to": {
              rel_type: "m.thread",
              event_id: root,
              is_falling_back: true,
              "m.in_reply_to": { event_id: root },
            },
          };
          for (
            const [body, expected] of [
              // The model sees who speaks in a thread (decision 38).
              [".ai in the thread", header(aliceName, `Echo: ${aliceName}: in the thread`)],
              [
                ".mymodel reset",
                `Model for ${aliceName} reset to the global model (${DEFAULT_MODEL})`,
              ],
            ]
          ) {
            const reply = await a.expect(room, body, expected, inThread);
            const relates = reply.content["m.relates_to"] as Record<string, unknown>;
            strictEqual(relates?.rel_type, "m.thread", body);
            strictEqual(relates.event_id, root, body);
          }
        }
      });

      /** Sends `.ai` with a long fake answer; checks the parts that arrive. */
      const longAnswer = async (kind: string, room: string, content: string) => {
        fake.enqueue({ content });
        const from = alice.seen.length;
        await alice.send(room, ".ai tell me everything");
        const expected = header(aliceName, content.trim()).replace(/\s+/g, "");
        const parts = await waitFor(`the whole long answer in the ${kind} room`, () => {
          const got = botMessages(alice, room, botId, from);
          const joined = got.map((s) => TestClient.text(s)).join("").replace(/\s+/g, "");
          return joined === expected ? got : undefined;
        }).catch((error) => {
          const got = botMessages(alice, room, botId, from).map((s) => TestClient.text(s));
          throw new Error(
            `${error.message}: ${got.length} message(s): ${
              got.map((g) => `${g.length} chars: ${JSON.stringify(g.slice(0, 30))}…`).join(" | ")
            }\n${bot.log.filter((l) => / (WARNING|ERROR) /.test(l)).slice(-3).join("\n")}`,
          );
        });
        ok(parts.length >= 3, `${parts.length} parts`);
        for (const part of parts) {
          ok(!PLACEHOLDER.test(TestClient.text(part)), "no placeholder is left behind");
          const size = byteLength(TestClient.text(part));
          ok(size <= MAX_PART_BYTES, `a part of ${size} bytes`);
          strictEqual(part.encrypted, kind === "encrypted");
        }
      };

      await t.step(
        "a very long answer arrives split into parts within the limit, all of it",
        async () => {
          for (const [kind, room] of rooms) await longAnswer(kind, room, "word ".repeat(8000));
        },
      );

      // 80 paragraphs: the first part (≈16 KB) replaces the placeholder. Later parts start
      // with a command word, which the bot must not answer (checked in the log at the end).
      const paragraphs = Array.from(
        { length: 80 },
        (_, i) => `.help ${i} ${"word ".repeat(100).trim()}`,
      ).join("\n\n");
      await t.step("a long answer of many paragraphs is split too (plain room)", async () => {
        await longAnswer("plain", plain, paragraphs);
      });
      await t.step({
        name: "a long answer of many paragraphs is split too (encrypted room)",
        fn: () => longAnswer("encrypted", encrypted, paragraphs),
      });

      await t.step(
        "messages of the bot's own user (another device) are never answered",
        async () => {
          const txn = `own${crypto.randomUUID()}`;
          const from = alice.seen.length;
          const { event_id } = await api(
            botToken,
            "PUT",
            `/rooms/${encodeURIComponent(plain)}/send/m.room.message/${txn}`,
            { msgtype: "m.text", body: ".ai talking to myself" },
          ) as { event_id: string };
          await waitFor("alice to see it", () => alice.seen.some((s) => s.eventId === event_id));
          await a.expect(plain, ".ai sentinel", header(aliceName, "Echo: sentinel"));
          forbidden.push({
            client: alice,
            room: plain,
            from,
            pattern: /Echo: talking to myself/,
            why: "own message",
          });
          ok(!fake.chats.some((c) => JSON.stringify(c.messages).includes("talking to myself")));
        },
      );

      await t.step(
        "history from before the bot joined is not answered; what follows is",
        async () => {
          for (const encrypt of [true, false]) {
            const room = await alice.createRoom({ encrypted: encrypt });
            await alice.send(room, ".ai from before the bot");
            await alice.client.invite(room, botId);
            await alice.waitForJoin(room, botId);
            await a.expect(
              room,
              ".ai after the bot joined",
              header(aliceName, "Echo: after the bot joined"),
            );
            forbidden.push({
              client: alice,
              room,
              from: 0,
              pattern: /Echo: from before the bot/,
              why: "history",
            });
          }
        },
      );

      await t.step("an invite from a non-admin is declined, an admin's is accepted", async () => {
        const bobs = await bob.createRoom({ invite: [botId], encrypted: false });
        await waitFor(
          "the bot to decline bob's invite",
          () => bob.client.getRoom(bobs)?.getMember(botId)?.membership === "leave" || undefined,
        );
        const alices = await alice.createRoom({ invite: [botId] });
        await alice.waitForJoin(alices, botId);
        await a.expect(alices, ".ai accepted", header(aliceName, "Echo: accepted"));
        strictEqual(bob.client.getRoom(bobs)?.getMember(botId)?.membership, "leave");
      });

      await t.step("bob with alice's display name is still no admin", async () => {
        await bob.client.setDisplayName(aliceName);
        for (const [, room] of rooms) {
          await waitFor(
            "bob's new name",
            () =>
              alice.client.getRoom(room)?.getMember(bob.userId)?.rawDisplayName === aliceName ||
              undefined,
          );
          await ignored(b, room, ".model", /^\*\*Current model\*\*|^Model /, [
            ".reset",
            // The bot knew bob by his new name when it answered.
            `${BOT_NAME} reset to default for ${aliceName}`,
          ], { late: false });
          await ignored(
            b,
            room,
            ".clear",
            /reset for everyone/,
            [".mymodel", /^\*\*Your current/],
            {
              late: false,
            },
          );
        }
      });

      await t.step(
        ".clear forgets every thread and personal model and resets the global model",
        async () => {
          for (const [, room] of rooms) {
            await a.expect(room, ".mymodel gpt-5-mini", `Model for ${aliceName} set to gpt-5-mini`);
            await a.expect(room, ".model gemini-2.5-flash", "Model set to **gemini-2.5-flash**");
            await a.expect(room, ".ai remember me", header(aliceName, "Echo: remember me"));
            await a.expect(room, ".clear", "Bot has been reset for everyone");
            // No thread is left, so no display name is a `.x` target any more.
            await ignored(a, room, `.x ${aliceName} are you there`, /are you there/, [
              ".mymodel",
              new RegExp(`^\\*\\*Your current model\\*\\*: ${DEFAULT_MODEL}\\n`),
            ]);
            await a.expect(room, ".ai fresh", header(aliceName, "Echo: fresh"));
            deepStrictEqual(lastChat().messages.map((m) => m.content), [PROMPT, "fresh"]);
            strictEqual(lastChat().body.model, DEFAULT_MODEL);
          }
        },
      );

      await t.step(
        "nothing forbidden was answered late, and the bot never handled its own message",
        async () => {
          await new Promise((r) => setTimeout(r, 2000));
          for (const f of forbidden) {
            const late = botMessages(f.client, f.room, botId, f.from).filter((s) =>
              f.pattern.test(TestClient.text(s))
            );
            deepStrictEqual(late.map((s) => TestClient.text(s)), [], `answered: ${f.why}`);
          }
          const own = bot.log.filter((l) => l.includes(`(${botId}) sent`));
          deepStrictEqual(own, []);
          // Bob's admin commands: each seen and refused, none run.
          deepStrictEqual(
            bot.log.filter((l) => l.includes(`(${bob.userId}) sent .`)).map((l) =>
              /sent (\.\w+)/.exec(l)![1]
            ).filter((c) => [".model", ".tools", ".clear"].includes(c)),
            [],
          );
          const refused = bot.log.filter((l) => l.includes(`${bob.userId} is not an admin`));
          strictEqual(refused.length, 10, refused.join("\n"));
        },
      );
    } finally {
      const status = await bot.stop();
      alice.stop();
      bob.stop();
      await api(botToken, "POST", "/logout", {}).catch(() => {});
      await setup.remove();
      strictEqual(status.code, 0, bot.log.slice(-10).join("\n"));
    }
    ok(bot.log.some((l) => /Journal self-check: identical/.test(l)), bot.log.slice(-5).join("\n"));
  },
});

Deno.test({
  name: "with markdown: false replies carry a plain body and no formatted_body",
  ...opts,
  async fn() {
    await using fake = FakeOpenAI.start();
    const alice = await TestClient.create("alice");
    const setup = await setupBot({
      providerUrl: fake.url,
      admins: [alice.userId],
      config: { markdown: false },
    });
    const bot = await setup.start();
    try {
      await bot.ready();
      const a = new Speaker(alice, setup.userId);
      const room = await alice.createRoom({ invite: [setup.userId] });
      await alice.waitForJoin(room, setup.userId);
      const name = (await alice.client.getProfileInfo(alice.userId)).displayname!;
      // Slow enough for the placeholder and its edit: both are plain.
      const answer = await a.expect(
        room,
        ".ai sleep:1500 **bold** move",
        `**${name}**:\nEcho: **bold** move`,
      );
      ok(answer.encrypted);
      ok(answer.edited, "the placeholder was edited into the answer");
      for (const content of [answer.content, answer.edited!]) {
        strictEqual(content.formatted_body, undefined, JSON.stringify(content));
        strictEqual(content.format, undefined, JSON.stringify(content));
      }
      const { replies } = await a.ask(room, ".help", 2);
      deepStrictEqual(replies.map((s) => TestClient.text(s)), [HELP.user, HELP.admin]);
      for (const reply of replies) strictEqual(reply.content.formatted_body, undefined);
    } finally {
      await bot.stop();
      alice.stop();
      await setup.remove();
    }
  },
});

Deno.test({
  name: "allowed_users and allowed_rooms limit who is answered where, and who may invite the bot",
  ...opts,
  async fn() {
    await using fake = FakeOpenAI.start();
    const alice = await TestClient.create("alice");
    const bob = await TestClient.create("bob");
    trackRedactions(alice);
    trackRedactions(bob);
    // allowed_rooms holds room IDs, so the rooms exist before the bot starts.
    const allowed = await alice.createRoom({ invite: [bob.userId] });
    const other = await alice.createRoom({ invite: [bob.userId], encrypted: false });
    const setup = await setupBot({
      providerUrl: fake.url,
      admins: [],
      config: { matrix: { allowed_users: [alice.userId], allowed_rooms: [allowed] } },
    });
    const botId = setup.userId;
    const bot = await setup.start();
    try {
      await bot.ready();
      const a = new Speaker(alice, botId, [bob]);
      const aliceName = (await alice.client.getProfileInfo(alice.userId)).displayname!;
      // Alice is no admin, but an allowed user: her invites are accepted.
      for (const room of [allowed, other]) {
        await bob.client.joinRoom(room);
        await alice.client.invite(room, botId);
        await alice.waitForJoin(room, botId);
        await bob.waitForJoin(room, botId);
      }
      const bobs = await bob.createRoom({ invite: [botId], encrypted: false });
      await waitFor(
        "the bot to decline bob's invite",
        () => bob.client.getRoom(bobs)?.getMember(botId)?.membership === "leave" || undefined,
      );

      const fromBob = bob.seen.length;
      const fromAlice = alice.seen.length;
      await bob.send(allowed, ".ai bob is not allowed");
      await alice.send(other, ".ai not in this room");
      await a.expect(allowed, ".ai alice here", `**${aliceName}**:\nEcho: alice here`);
      // Nothing else comes, even a while later.
      await new Promise((r) => setTimeout(r, 2000));
      deepStrictEqual(botMessages(bob, allowed, botId, fromBob).map((s) => TestClient.text(s)), [
        `**${aliceName}**:\nEcho: alice here`,
      ]);
      deepStrictEqual(botMessages(alice, other, botId, fromAlice), []);
      deepStrictEqual(
        fake.chats.map((c) => c.messages.at(-1)?.content),
        ["alice here"],
        "only alice's message in the allowed room reached the model",
      );
    } finally {
      await bot.stop();
      alice.stop();
      bob.stop();
      await setup.remove();
    }
  },
});
