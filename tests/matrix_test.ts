import { deepStrictEqual, match, notStrictEqual, strictEqual } from "node:assert/strict";
import type { IncomingMessage } from "../lib/chat_port.ts";
import * as sdk from "matrix-js-sdk";
import {
  EchoAwareScheduler,
  resolveRoomRefs,
  sendQueueFor,
  stripReplyFallback,
  toIncoming,
  txnIdFor,
} from "../lib/matrix.ts";

const ROOM = "!room:test";

function message(content: unknown, extra: Record<string, unknown> = {}) {
  return {
    event_id: "$ev",
    sender: "@alice:test",
    type: "m.room.message",
    origin_server_ts: 1_700_000_000_000,
    content,
    ...extra,
  };
}

const base: IncomingMessage = {
  room: ROOM,
  sender: "@alice:test",
  body: "hello",
  eventId: "$ev",
  threadId: undefined,
  mentions: undefined,
  ts: 1_700_000_000_000,
};

const accepted: Array<[string, Parameters<typeof toIncoming>[1], IncomingMessage]> = [
  ["a plain m.text", message({ msgtype: "m.text", body: "hello" }), base],
  [
    "a message in a thread",
    message({
      msgtype: "m.text",
      body: "in thread",
      "m.relates_to": { rel_type: "m.thread", event_id: "$root", is_falling_back: true },
    }),
    { ...base, body: "in thread", threadId: "$root" },
  ],
  [
    "a thread reply with m.in_reply_to keeps its body (no fallback in threads)",
    message({
      msgtype: "m.text",
      body: "> quoted-looking line\n\nreal",
      "m.relates_to": {
        rel_type: "m.thread",
        event_id: "$root",
        "m.in_reply_to": { event_id: "$other" },
      },
    }),
    { ...base, body: "> quoted-looking line\n\nreal", threadId: "$root" },
  ],
  [
    "mentions from m.mentions.user_ids (non-strings dropped)",
    message({
      msgtype: "m.text",
      body: "hey bot",
      "m.mentions": { user_ids: ["@bot:test", 42, "@carol:test", null] },
    }),
    { ...base, body: "hey bot", mentions: ["@bot:test", "@carol:test"] },
  ],
  [
    "empty m.mentions",
    message({ msgtype: "m.text", body: "x", "m.mentions": {} }),
    { ...base, body: "x" },
  ],
  [
    "a reply with a fallback gets the fallback stripped",
    message({
      msgtype: "m.text",
      body: "> <@bob:test> what is 2+2?\n> second quoted line\n\nit is 4",
      "m.relates_to": { "m.in_reply_to": { event_id: "$q" } },
    }),
    { ...base, body: "it is 4" },
  ],
  [
    "a reply without a fallback keeps its body",
    message({
      msgtype: "m.text",
      body: "just the answer",
      "m.relates_to": { "m.in_reply_to": { event_id: "$q" } },
    }),
    { ...base, body: "just the answer" },
  ],
  [
    "a quote that is not a reply is kept",
    message({ msgtype: "m.text", body: "> a quote\n\nmy comment" }),
    { ...base, body: "> a quote\n\nmy comment" },
  ],
  [
    "an empty body",
    message({ msgtype: "m.text", body: "" }),
    { ...base, body: "" },
  ],
  [
    "no timestamp",
    message({ msgtype: "m.text", body: "hello" }, { origin_server_ts: "yesterday" }),
    { ...base, ts: undefined },
  ],
  [
    "a thread relation without an event id gives no thread",
    message({ msgtype: "m.text", body: "hello", "m.relates_to": { rel_type: "m.thread" } }),
    base,
  ],
];

for (const [name, event, expected] of accepted) {
  Deno.test(`toIncoming accepts ${name}`, () => {
    deepStrictEqual(toIncoming(ROOM, event), expected);
  });
}

const skipped: Array<[string, Parameters<typeof toIncoming>[1], RegExp]> = [
  ["a notice", message({ msgtype: "m.notice", body: "bot talk" }), /m\.notice/],
  ["an emote", message({ msgtype: "m.emote", body: "waves" }), /m\.emote/],
  ["an image", message({ msgtype: "m.image", body: "cat.png", url: "mxc://x/y" }), /m\.image/],
  ["a message without msgtype", message({ body: "x" }), /msgtype/],
  [
    "an edit (m.replace)",
    message({
      msgtype: "m.text",
      body: "* fixed",
      "m.relates_to": { rel_type: "m.replace", event_id: "$orig" },
    }),
    /edit/,
  ],
  [
    "an edit with only m.new_content",
    message({
      msgtype: "m.text",
      body: "* fixed",
      "m.new_content": { msgtype: "m.text", body: "fixed" },
    }),
    /edit/,
  ],
  ["a missing body", message({ msgtype: "m.text" }), /body/],
  ["a numeric body", message({ msgtype: "m.text", body: 42 }), /body/],
  ["an object body", message({ msgtype: "m.text", body: { text: "x" } }), /body/],
  ["null content", message(null), /content/],
  ["string content", message("hello"), /content/],
  ["numeric content", message(7), /content/],
  ["missing content", message(undefined), /content/],
  ["a missing sender", message({ msgtype: "m.text", body: "x" }, { sender: undefined }), /sender/],
  ["a numeric sender", message({ msgtype: "m.text", body: "x" }, { sender: 5 }), /sender/],
  ["a missing event id", message({ msgtype: "m.text", body: "x" }, { event_id: undefined }), /id/],
  ["a state event", message({ msgtype: "m.text", body: "x" }, { type: "m.room.topic" }), /type/],
  ["an encrypted event", message({ ciphertext: "x" }, { type: "m.room.encrypted" }), /type/],
];

for (const [name, event, reason] of skipped) {
  Deno.test(`toIncoming skips ${name} with a reason`, () => {
    const result = toIncoming(ROOM, event);
    strictEqual(typeof result, "string", `expected a reason, got ${JSON.stringify(result)}`);
    match(result as string, reason);
  });
}

Deno.test("toIncoming never throws on odd relation and mention shapes", async (t) => {
  const odd: unknown[] = [
    { msgtype: "m.text", body: "x", "m.relates_to": "not an object" },
    { msgtype: "m.text", body: "x", "m.relates_to": null },
    { msgtype: "m.text", body: "x", "m.relates_to": { "m.in_reply_to": "weird" } },
    { msgtype: "m.text", body: "x", "m.mentions": null },
    { msgtype: "m.text", body: "x", "m.mentions": "@bot:test" },
    { msgtype: "m.text", body: "x", "m.mentions": { user_ids: "@bot:test" } },
    { msgtype: "m.text", body: "x", "m.relates_to": { rel_type: "m.thread", event_id: 5 } },
  ];
  for (const [i, content] of odd.entries()) {
    await t.step(`case ${i}`, () => {
      const result = toIncoming(ROOM, message(content));
      strictEqual(typeof result, "object");
      strictEqual((result as IncomingMessage).body, "x");
      strictEqual((result as IncomingMessage).threadId, undefined);
    });
  }
});

const fallbacks: Array<[string, string, string]> = [
  ["one quoted line", "> <@a:test> hi\n\nanswer", "answer"],
  ["several quoted lines", "> <@a:test> line 1\n> line 2\n>\n> line 4\n\nanswer", "answer"],
  ["a multi-line answer", "> <@a:test> hi\n\nline 1\n\nline 2", "line 1\n\nline 2"],
  ["no blank line after the quote", "> <@a:test> hi\nanswer", "answer"],
  ["only a quote", "> <@a:test> hi", ""],
  ["no quote", "plain text", "plain text"],
  ["a quote later in the body", "text\n> not a fallback", "text\n> not a fallback"],
  ["an empty body", "", ""],
  ["only the first blank line is removed", "> <@a:test> q\n\n\nanswer", "\nanswer"],
  [
    "a user's own leading quote is not a fallback",
    "> a quote\n\nmy words",
    "> a quote\n\nmy words",
  ],
];

for (const [name, body, expected] of fallbacks) {
  Deno.test(`stripReplyFallback: ${name}`, () => {
    strictEqual(stripReplyFallback(body), expected);
  });
}

Deno.test("txnIdFor is deterministic, per key, and safe in a URL path", async () => {
  const a1 = await txnIdFor("$event:test");
  const a2 = await txnIdFor("$event:test");
  const b = await txnIdFor("$event:test#1");
  const c = await txnIdFor("$other:test");
  strictEqual(a1, a2);
  notStrictEqual(a1, b);
  notStrictEqual(a1, c);
  notStrictEqual(b, c);
  for (const id of [a1, b, c]) match(id, /^[A-Za-z0-9]+$/);
});

Deno.test("txnIdFor gives distinct ids for many related keys", async () => {
  const keys = Array.from({ length: 500 }, (_, i) => `$ev${i % 50}:test#${Math.floor(i / 50)}`);
  const ids = await Promise.all(keys.map(txnIdFor));
  strictEqual(new Set(ids).size, keys.length);
  // Known value: a regression guard, so ids stay the same across versions
  // (a resend after an upgrade must still be deduplicated).
  strictEqual(await txnIdFor(""), "ige3b0c44298fc1c149afbf4c8");
});

Deno.test("sends queue per room: messages, edits and redactions in order, other rooms apart", () => {
  const event = (room: string, type: string, content: Record<string, unknown> = {}, extra = {}) =>
    new sdk.MatrixEvent({ room_id: room, type, content, ...extra });
  const table: Array<[string, sdk.MatrixEvent, string | null]> = [
    ["a message", event("!a:hs", "m.room.message", { body: "hi" }), "message:!a:hs"],
    ["a message elsewhere", event("!b:hs", "m.room.message", { body: "hi" }), "message:!b:hs"],
    [
      "an edit",
      event("!a:hs", "m.room.message", {
        body: "* x",
        "m.relates_to": { rel_type: "m.replace", event_id: "$p" },
      }),
      "message:!a:hs",
    ],
    ["a redaction", event("!a:hs", "m.room.redaction", {}, { redacts: "$p" }), "message:!a:hs"],
    [
      "a state event goes at once",
      event("!a:hs", "m.room.topic", { topic: "t" }),
      null,
    ],
  ];
  for (const [what, e, queue] of table) strictEqual(sendQueueFor(e), queue, what);
});

Deno.test("the scheduler counts an event whose remote echo came first as sent, and sends the rest", async () => {
  const scheduler = new EchoAwareScheduler();
  const sent: string[] = [];
  scheduler.setProcessFunction((event) => {
    sent.push(event.getId()!);
    return Promise.resolve({ event_id: `$sent-${sent.length}` });
  });
  const local = (id: string, status: sdk.EventStatus | null) => {
    const e = new sdk.MatrixEvent({
      room_id: "!a:hs",
      type: "m.room.message",
      event_id: id,
      content: { body: id },
    });
    e.setStatus(status);
    return e;
  };
  // Echoed: the SDK made the local echo the remote event (real id, no status).
  const echoed = await scheduler.queueEvent(local("$real", null));
  const pending = await scheduler.queueEvent(local("~local", sdk.EventStatus.SENDING));
  deepStrictEqual([echoed, pending], [{ event_id: "$real" }, { event_id: "$sent-1" }]);
  deepStrictEqual(sent, ["~local"], "only the event without an echo went out");
});

Deno.test("allowed_rooms: room IDs of every version are taken as they are, aliases resolved", async () => {
  const v12 = "!pbPNIxnaXPE-mgjkvK2X0Pytc1LxC48ysmWwZJkVZ-w";
  const asked: string[] = [];
  const ids = await resolveRoomRefs(
    [v12, "!old:matrix.test", "#ai:matrix.test", "#gone:matrix.test"],
    (alias) => {
      asked.push(alias);
      return alias === "#ai:matrix.test"
        ? Promise.resolve("!resolved:matrix.test")
        : Promise.reject(new Error("M_NOT_FOUND"));
    },
  );
  deepStrictEqual([...ids], [v12, "!old:matrix.test", "!resolved:matrix.test"]);
  deepStrictEqual(asked, ["#ai:matrix.test", "#gone:matrix.test"], "IDs are never looked up");
});
