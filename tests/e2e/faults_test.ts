/**
 * Hardening on the Matrix side, against the real bot process: a rate-limiting
 * homeserver (through a proxy), a room the bot was kicked from, malformed
 * events, a message at the homeserver's size limit, HTML and markup in
 * messages and display names, and secrets kept out of the logs and the store.
 *
 * One bot serves every step (it starts in a few seconds, and several steps
 * need one that has already been through the others); it talks to Synapse
 * through {@link HsProxy} and runs with a store key, an API key in the
 * environment and another in the config, at log level DEBUG.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { FakeOpenAI } from "../fixtures/fake_openai.ts";
import { HsProxy } from "../fixtures/hs_proxy.ts";
import { startToolApis } from "../fixtures/tool_apis.ts";
import {
  type BotProcess,
  type Seen,
  setupBot,
  SYNAPSE_URL,
  TestClient,
  waitFor,
} from "./helpers.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const STORE_KEY = "5f".repeat(8) + crypto.randomUUID().replaceAll("-", "") +
  crypto.randomUUID().replaceAll("-", "").slice(0, 16);
const ENV_KEY = `sk-envkey-${crypto.randomUUID().replaceAll("-", "")}`;
const CONFIG_KEY = `sk-cfgkey-${crypto.randomUUID().replaceAll("-", "")}`;
const RETRY_AFTER_MS = 1500;
const SEND = { method: "PUT", path: /\/rooms\/[^/]+\/send\// };

/** Lines whose level says something went wrong, or an uncaught error. */
function errorLines(lines: readonly string[]): string[] {
  return lines.filter((l) => / (ERROR|FATAL) /.test(l) || /uncaught|unhandled/i.test(l));
}

/** Turns sanitized Matrix HTML back into the text a reader sees. */
function visibleText(html: string): string {
  return html.replace(/<br\s*\/?>/g, "\n").replace(/<[^>]*>/g, "")
    .replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'").replace(/&amp;/g, "&");
}

/** Numbered words, 12 to a line: every one of them must survive the trip. */
function words(count: number): string {
  const out: string[] = [];
  for (let i = 1; i <= count; i++) {
    out.push(`w${String(i).padStart(5, "0")}${i % 12 === 0 ? "\n" : " "}`);
  }
  return out.join("").trimEnd();
}

function isTooLarge(error: unknown): boolean {
  const e = error as { errcode?: string; httpStatus?: number; name?: string };
  return e.errcode === "M_TOO_LARGE" || e.name === "M_TOO_LARGE" || e.httpStatus === 413;
}

/** Walks a directory tree. */
async function* files(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) yield* files(path);
    else if (entry.isFile) yield path;
  }
}

Deno.test({
  name: "the bot under homeserver faults, malformed events, markup and secret hunting",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await using fake = FakeOpenAI.start();
    // A provider that rejects the key and, as some do, quotes it back.
    fake.setHandler((request) => {
      const last = request.messages.at(-1);
      if (last?.role !== "user" || !String(last.content).includes("leakkey")) return undefined;
      const key = request.headers.get("authorization")?.replace(/^Bearer /, "") ?? "";
      return {
        kind: "error",
        status: 401,
        message: `Incorrect API key provided: ${key}. You can find your API key in your account.`,
        code: "invalid_api_key",
      };
    });
    const apis = startToolApis();
    await using proxy = HsProxy.start(SYNAPSE_URL);
    const alice = await TestClient.create("alice");
    const eve = await TestClient.create("eve");
    const setup = await setupBot({
      providerUrl: fake.url,
      admins: [alice.userId],
      config: {
        matrix: { server: proxy.url },
        llm: { api_keys: { openai: CONFIG_KEY } },
        tools: { endpoints: apis.endpoints },
      },
    });
    const env = {
      INFINIGPT_STORE_KEY: STORE_KEY,
      OPENAI_API_KEY: ENV_KEY,
      INFINIGPT_LOG_LEVEL: "DEBUG",
    };
    const bots: BotProcess[] = [];
    let exited = false;
    const startBot = async () => {
      const bot = await setup.start(env);
      bots.push(bot);
      exited = false;
      void bot.status.then(() => exited = true);
      await bot.ready();
      return bot;
    };
    const botId = setup.userId;
    const fromBot = (room: string, since: number): Seen[] =>
      alice.seen.slice(since).filter((s) =>
        s.room === room && s.sender === botId && s.type === "m.room.message"
      );
    const current = (s: Seen) => (s.edited ?? s.content) as Record<string, unknown>;
    const membership = (room: string) => alice.client.getRoom(room)?.getMember(botId)?.membership;

    try {
      let bot = await startBot();
      const secret = await alice.createRoom({ invite: [botId] });
      const plain = await alice.createRoom({ invite: [botId, eve.userId], encrypted: false });
      await alice.waitForJoin(secret, botId);
      await alice.waitForJoin(plain, botId);
      await eve.join(plain);

      await t.step("a 429 from the homeserver is waited out and the answer sent once", async () => {
        const mark = alice.seen.length;
        const before = proxy.log.length;
        proxy.limitNext(3, { ...SEND, retryAfterMs: RETRY_AFTER_MS });
        await alice.send(secret, ".ai through the rate limit");
        await alice.waitForMessage(
          secret,
          botId,
          (t) => t.endsWith("Echo: through the rate limit"),
          60_000,
        );
        const sends = proxy.log.slice(before).filter((e) =>
          e.method === SEND.method && SEND.path.test(e.path)
        );
        const limited = sends.filter((e) => e.limited);
        strictEqual(limited.length, 3, "three sends were answered 429");
        for (const hit of limited) {
          const next = sends[sends.indexOf(hit) + 1];
          ok(next, `a send followed the 429 of ${hit.path}`);
          strictEqual(next.path, hit.path, "the same transaction was retried");
          ok(
            next.at - hit.answeredAt! >= RETRY_AFTER_MS - 10,
            `retried ${
              next.at - hit.answeredAt!
            } ms after the 429 (retry_after_ms ${RETRY_AFTER_MS})`,
          );
        }
        console.log(
          `retries after the 429s: ${
            limited.map((hit) => sends[sends.indexOf(hit) + 1].at - hit.answeredAt!).join(", ")
          } ms`,
        );
        await sleep(2000);
        const replies = fromBot(secret, mark);
        strictEqual(replies.length, 1, "one message: the placeholder became the answer");
        ok(TestClient.text(replies[0]).endsWith("Echo: through the rate limit"));
      });

      await t.step("malformed events are ignored and the next .ai is answered", async () => {
        const mark = alice.seen.length;
        const logMark = bot.log.length;
        // About 30 KB, 100 levels deep at the bottom: fits an event even encrypted.
        const deep: Record<string, unknown> = { leaf: "x".repeat(100) };
        let node = deep;
        for (let i = 0; i < 100; i++) node = (node.next = { i, list: [1, "two", null] }) as never;
        const wide = Array.from({ length: 8 }, (_, i) => ({ [`k${i}`]: [i, { deep }] }));
        const odd: Array<[string, Record<string, unknown>]> = [
          ["body is a number", { msgtype: "m.text", body: 12345 }],
          ["body is missing", { msgtype: "m.text" }],
          ["body is null", { msgtype: "m.text", body: null }],
          ["body is an object", { msgtype: "m.text", body: { text: ".ai hi" } }],
          ["msgtype is missing", { body: ".ai no msgtype" }],
          ["msgtype is a number", { msgtype: 7, body: ".ai numeric msgtype" }],
          ["m.relates_to is a string", {
            msgtype: "m.text",
            body: "relation garbage",
            "m.relates_to": "garbage",
          }],
          ["m.relates_to is an array", {
            msgtype: "m.text",
            body: "relation array",
            "m.relates_to": [1, 2, { rel_type: "m.thread" }],
          }],
          ["m.in_reply_to is a number", {
            msgtype: "m.text",
            body: "reply garbage",
            "m.relates_to": { "m.in_reply_to": 5, rel_type: 9, event_id: [] },
          }],
          ["an edit relation without a target", {
            msgtype: "m.text",
            body: ".ai pretend edit",
            "m.relates_to": { rel_type: "m.replace" },
          }],
          ["m.new_content is a number", {
            msgtype: "m.text",
            body: ".ai odd new content",
            "m.new_content": 5,
          }],
          ["m.mentions.user_ids is a string naming the bot", {
            msgtype: "m.text",
            body: "hello from a string mention",
            "m.mentions": { user_ids: botId },
          }],
          ["m.mentions.user_ids is an object", {
            msgtype: "m.text",
            body: "hello from an object mention",
            "m.mentions": { user_ids: { 0: botId } },
          }],
          ["m.mentions is a string", {
            msgtype: "m.text",
            body: "hello from a string m.mentions",
            "m.mentions": botId,
          }],
          ["a huge nested object", { msgtype: "m.text", body: "nested", nest: deep, wide }],
          ["content with only garbage", { "": [[[[]]]], "\u0000": { "\u202e": true } }],
        ];
        // Raw client-server calls in the plain room: what Synapse lets through
        // reaches the bot as sent (Synapse itself refuses some shapes).
        const token = alice.client.getAccessToken();
        const accepted: string[] = [];
        // Events the transport must drop before the bot (not text, or an edit):
        // the debug log names each, which proves it arrived and was judged.
        const skipped: string[] = [];
        const mustSkip = (c: Record<string, unknown>) =>
          typeof c.body !== "string" || c.msgtype !== "m.text" ||
          (c["m.relates_to"] as { rel_type?: unknown } | undefined)?.rel_type === "m.replace" ||
          "m.new_content" in c;
        const refused: string[] = [];
        for (const [i, [what, content]] of odd.entries()) {
          const response = await fetch(
            `${SYNAPSE_URL}/_matrix/client/v3/rooms/${encodeURIComponent(plain)}/send/` +
              `m.room.message/odd${Date.now()}-${i}`,
            {
              method: "PUT",
              headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
              body: JSON.stringify(content),
            },
          );
          const text = await response.text();
          if (response.ok) {
            accepted.push(what);
            if (mustSkip(content)) skipped.push(JSON.parse(text).event_id);
          } else refused.push(`${what} (${response.status} ${JSON.parse(text).errcode})`);
        }
        console.log(`Synapse refused in the plain room: ${refused.join("; ") || "none"}`);
        ok(accepted.length >= 5, `enough odd events reach the bot: ${accepted.join("; ")}`);
        // All of them through the SDK in the encrypted room: encrypted, the
        // server cannot check the content, so the bot gets every shape.
        const sendRaw = alice.client.sendEvent.bind(alice.client) as unknown as (
          r: string,
          t: string,
          c: Record<string, unknown>,
        ) => Promise<unknown>;
        const senderRefused: string[] = [];
        for (const [what, content] of odd) {
          // The sending SDK chokes on some relations itself (before encrypting).
          try {
            const sent = await sendRaw(secret, "m.room.message", content) as { event_id: string };
            if (mustSkip(content)) skipped.push(sent.event_id);
          } catch (error) {
            senderRefused.push(`${what} (${(error as Error).message})`);
          }
        }
        console.log(`the sending SDK refused: ${senderRefused.join("; ") || "none"}`);
        ok(senderRefused.length <= 2, senderRefused.join("; "));
        await alice.send(plain, ".ai after the odd plain events");
        await alice.send(secret, ".ai after the odd encrypted events");
        await alice.waitForMessage(
          plain,
          botId,
          (t) => t.endsWith("Echo: after the odd plain events"),
        );
        await alice.waitForMessage(
          secret,
          botId,
          (t) => t.endsWith("Echo: after the odd encrypted events"),
        );
        await sleep(2000);
        deepStrictEqual(
          [...fromBot(plain, mark), ...fromBot(secret, mark)].map(TestClient.text).sort(),
          [
            `**${alice.userId.slice(1).split(":")[0]}**:\nEcho: after the odd encrypted events`,
            `**${alice.userId.slice(1).split(":")[0]}**:\nEcho: after the odd plain events`,
          ],
          "only the two normal messages were answered",
        );
        ok(!exited, "the bot is still running");
        deepStrictEqual(errorLines(bot.log.slice(logMark)), []);
        ok(skipped.length >= 9, `${skipped.length} events to skip`);
        const logged = bot.log.slice(logMark).join("\n");
        deepStrictEqual(skipped.filter((id) => !logged.includes(`Skipping ${id}`)), []);
      });

      for (const [kind, room] of [["encrypted", secret], ["plain", plain]] as const) {
        await t.step(
          `a message at the homeserver's size limit (${kind} room) comes back whole, in parts`,
          async () => {
            // The biggest body Synapse takes in this room, found by trying:
            // probes are not commands, so the bot ignores them.
            let lo = 1000, hi = 10_000;
            while (hi - lo > 8) {
              const mid = (lo + hi) >> 1;
              try {
                await alice.send(room, `nb: ${words(mid)}`);
                lo = mid;
              } catch (error) {
                if (!isTooLarge(error)) throw error;
                hi = mid;
              }
            }
            // A little margin: later events of the room carry slightly bigger metadata.
            const count = lo - 20;
            const text = words(count);
            const bytes = new TextEncoder().encode(`.ai ${text}`).length;
            console.log(`largest body accepted in the ${kind} room: ~${bytes} bytes`);
            ok(bytes > (kind === "plain" ? 60_000 : 40_000), `the body is big (${bytes} bytes)`);
            const mark = alice.seen.length;
            await alice.send(room, `.ai ${text}`);
            const last = `w${String(count).padStart(5, "0")}`;
            const gathered = (): string[] =>
              fromBot(room, mark).map(TestClient.text).join("\n").match(/w\d{5}/g) ?? [];
            await waitFor("every part of the long reply", () => gathered().includes(last), 90_000);
            await sleep(2000);
            const parts = fromBot(room, mark);
            ok(parts.length >= 3, `the reply came in ${parts.length} parts`);
            ok(
              TestClient.text(parts[0]).startsWith(`**${alice.userId.slice(1).split(":")[0]}**:\n`),
              "the first part has the header",
            );
            ok(TestClient.text(parts[0]).includes("Echo: w00001"));
            deepStrictEqual(gathered(), text.match(/w\d{5}/g), "every word once, in order");
          },
        );
      }

      await t.step("HTML and script in a message are shown as text, never as markup", async () => {
        const payload =
          `<script>alert(1)</script><img src=x onerror=alert(2)><a href="javascript:alert(3)">x</a>`;
        await alice.send(secret, `.ai ${payload}`);
        const reply = await alice.waitForMessage(
          secret,
          botId,
          (t) => t.endsWith(`Echo: ${payload}`),
        );
        const html = String(current(reply).formatted_body);
        ok(!/<script/i.test(html), html);
        ok(!/<[a-z][^>]*\sonerror/i.test(html), html);
        ok(!/href\s*=\s*["']?\s*javascript:/i.test(html), html);
        const tags = new Set([...html.matchAll(/<\/?([a-zA-Z][a-zA-Z0-9]*)/g)].map((m) => m[1]));
        deepStrictEqual([...tags].sort(), ["br", "p", "strong"], html);
        ok(html.includes("&lt;script&gt;alert(1)&lt;/script&gt;"), html);
        strictEqual(
          visibleText(html),
          TestClient.text(reply).replace(/^\*\*(.*)\*\*:/, "$1:"),
          "what the reader sees is the text as written",
        );
      });

      await t.step(
        "a display name with markup and a newline stays one escaped header line",
        async () => {
          const name = "<b>Eve</b>\n**bold** [link](http://x)";
          await eve.client.setDisplayName(name);
          await waitFor(
            "eve's new name in the room",
            () => alice.client.getRoom(plain)?.getMember(eve.userId)?.rawDisplayName === name,
          );
          await eve.send(plain, ".ai hello from eve");
          const reply = await alice.waitForMessage(
            plain,
            botId,
            (t) => t.endsWith("Echo: hello from eve") && !t.includes("alice"),
          );
          const lines = TestClient.text(reply).split("\n");
          strictEqual(lines.length, 2, TestClient.text(reply));
          ok(/^\*\*[^\n]+\*\*:$/.test(lines[0]), lines[0]);
          strictEqual(lines[1], "Echo: hello from eve");
          const html = String(current(reply).formatted_body);
          const header = /^(?:<p>)?<strong>([^]*?)<\/strong>:<br\s*\/?>/.exec(html);
          ok(header, html);
          ok(!header[1].includes("<"), `no tag inside the name: ${header[1]}`);
          strictEqual(visibleText(header[1]), "<b>Eve</b> **bold** [link](http://x)");
          strictEqual(html.match(/<strong>/g)?.length, 1, html);
          ok(!/<a[\s>]/.test(html) && !/<b>/.test(html) && !/<em>/.test(html), html);
        },
      );

      await t.step(
        "kicked from a room: silent there, answers elsewhere, back only on an admin's invite",
        async () => {
          const kicked = await alice.createRoom({ invite: [botId, eve.userId] });
          await alice.waitForJoin(kicked, botId);
          await eve.join(kicked);
          await alice.client.setPowerLevel(kicked, eve.userId, 50);
          await alice.send(kicked, ".ai before the kick");
          await alice.waitForMessage(kicked, botId, (t) => t.endsWith("Echo: before the kick"));

          const logMark = bot.log.length;
          await alice.client.kick(kicked, botId, "testing");
          await waitFor("the kick", () => membership(kicked) === "leave" || undefined);
          const mark = alice.seen.length;
          await alice.send(kicked, ".ai while kicked");
          await alice.send(plain, ".ai elsewhere after the kick");
          await alice.waitForMessage(
            plain,
            botId,
            (t) => t.endsWith("Echo: elsewhere after the kick"),
          );
          await sleep(3000);
          deepStrictEqual(fromBot(kicked, mark), [], "nothing in the room it was kicked from");
          strictEqual(membership(kicked), "leave", "it did not rejoin on its own");
          ok(!exited, "the bot is still running");
          deepStrictEqual(errorLines(bot.log.slice(logMark)), []);

          // An invite from a non-admin is declined.
          await eve.client.invite(kicked, botId);
          await bot.waitForLog(
            new RegExp(`Declined the invite of ${eve.userId.replace(/[.]/g, "\\.")}`),
          );
          await waitFor("the bot to decline", () => membership(kicked) === "leave" || undefined);
          await sleep(1000);
          strictEqual(membership(kicked), "leave");

          // An admin's invite brings it back.
          await alice.client.invite(kicked, botId);
          await alice.waitForJoin(kicked, botId);
          await alice.send(kicked, ".ai back again");
          await alice.waitForMessage(kicked, botId, (t) => t.endsWith("Echo: back again"));
          await sleep(1500);
          deepStrictEqual(
            fromBot(kicked, mark).map(TestClient.text).filter((t) => !t.includes("back again")),
            [],
            "the message sent while it was out is not answered",
          );
          deepStrictEqual(errorLines(bot.log.slice(logMark)), []);
        },
      );

      // Secrets: a provider error quoting the key, an image tool, a restart.
      await alice.send(plain, ".ai leakkey please");
      const failure = await alice.waitForMessage(
        plain,
        botId,
        (t) => t.includes("Something went wrong"),
      );
      ok(!TestClient.text(failure).includes(ENV_KEY), "the reply does not quote the key");
      await alice.send(secret, '.ai tool:openai_image {"prompt":"a tiny square"}');
      await alice.waitForMessage(secret, botId, (_t, s) => s.content.msgtype === "m.image");
      await alice.waitForMessage(secret, botId, (t) => t.includes("Image created and posted"));
      strictEqual((await bot.stop()).code, 0);
      bot = await startBot();
      await alice.send(secret, ".ai after the restart");
      await alice.waitForMessage(secret, botId, (t) => t.endsWith("Echo: after the restart"));
      strictEqual((await bot.stop()).code, 0);

      const session = JSON.parse(await Deno.readTextFile(`${setup.storePath}/session.json`));
      const secrets: Record<string, string> = {
        "the bot's password": setup.password,
        "the access token": session.access_token,
        "the config API key": CONFIG_KEY,
        "the env API key": ENV_KEY,
        "the store key": STORE_KEY,
      };
      ok(session.access_token.length > 10);
      const log = bots.flatMap((b) => b.log).join("\n");
      ok(log.includes("Incorrect API key provided"), "the provider's error was logged");
      ok(/ DEBUG /.test(log), "the log is at debug level");

      await t.step("session.json is 0600 and the store directory 0700", async () => {
        strictEqual((await Deno.stat(`${setup.storePath}/session.json`)).mode! & 0o777, 0o600);
        strictEqual((await Deno.stat(setup.storePath)).mode! & 0o777, 0o700);
      });

      const absent = (what: string) => !log.includes(secrets[what]);
      for (
        const what of [
          "the bot's password",
          "the access token",
          "the config API key",
          "the store key",
        ]
      ) {
        await t.step(`${what} never appears in the bot's log`, () => {
          ok(absent(what), `${what} is in the log`);
        });
      }
      await t.step({
        name: "the env API key never appears in the bot's log",
        fn: () =>
          ok(
            absent("the env API key"),
            bots.flatMap((b) => b.log).filter((l) => l.includes(ENV_KEY)).map((l) =>
              l.slice(0, 300)
            ).join("\n"),
          ),
      });

      await t.step("no secret is in any file of the store but session.json", async () => {
        const found: string[] = [];
        const seen: string[] = [];
        for await (const path of files(setup.storePath)) {
          if (path.endsWith("/session.json")) continue;
          seen.push(path.slice(setup.storePath.length + 1));
          // Text files and binary ones (SQLite) alike: a secret stored as text shows in latin1.
          const text = new TextDecoder("latin1").decode(await Deno.readFile(path));
          for (const [what, value] of Object.entries(secrets)) {
            if (text.includes(value)) found.push(`${what} in ${path}`);
          }
        }
        ok(seen.length >= 2, `the store has files: ${seen.join(", ")}`);
        deepStrictEqual(found, []);
      });

      await t.step("nothing was logged as an error over the whole run", () => {
        deepStrictEqual(errorLines(bots.flatMap((b) => b.log)), []);
      });
    } finally {
      for (const b of bots) await b.stop();
      alice.stop();
      eve.stop();
      await apis.close();
      await setup.remove();
    }
  },
});
