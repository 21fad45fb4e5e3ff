import { deepStrictEqual, match, strictEqual } from "node:assert/strict";
import type { IncomingMessage } from "../lib/chat_port.ts";
import { replyTarget, stripReplyFallback, toIncoming } from "../lib/matrix_event.ts";

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
    { ...base, body: "> quoted-looking line\n\nreal", threadId: "$root", inReplyTo: "$other" },
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
    { ...base, body: "it is 4", inReplyTo: "$q" },
  ],
  [
    "a reply without a fallback keeps its body",
    message({
      msgtype: "m.text",
      body: "just the answer",
      "m.relates_to": { "m.in_reply_to": { event_id: "$q" } },
    }),
    { ...base, body: "just the answer", inReplyTo: "$q" },
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
    "a thread's fallback m.in_reply_to is no reply",
    message({
      msgtype: "m.text",
      body: "more",
      "m.relates_to": {
        rel_type: "m.thread",
        event_id: "$root",
        is_falling_back: true,
        "m.in_reply_to": { event_id: "$latest" },
      },
    }),
    { ...base, body: "more", threadId: "$root" },
  ],
  [
    "the caption of an image, with the image attached",
    message({
      msgtype: "m.image",
      body: ".ai what is this?",
      filename: "cat.png",
      url: "mxc://hs/cat",
      info: { mimetype: "image/png", size: 1234 },
    }),
    {
      ...base,
      body: ".ai what is this?",
      attachments: [{
        kind: "image",
        ref: { url: "mxc://hs/cat", name: "cat.png", mimetype: "image/png", size: 1234 },
      }],
    },
  ],
  [
    "the caption of an encrypted file, with its key",
    message({
      msgtype: "m.file",
      body: ".ai summarise",
      filename: "notes.txt",
      file: {
        url: "mxc://hs/enc",
        key: { k: "KEY", alg: "A256CTR" },
        iv: "IV",
        hashes: { sha256: "H" },
        v: "v2",
      },
      info: { mimetype: "text/plain" },
    }),
    {
      ...base,
      body: ".ai summarise",
      attachments: [{
        kind: "file",
        ref: {
          url: "mxc://hs/enc",
          name: "notes.txt",
          mimetype: "text/plain",
          file: { key: { k: "KEY", alg: "A256CTR" }, iv: "IV", hashes: { sha256: "H" }, v: "v2" },
        },
      }],
    },
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
  [
    "an image whose body is its filename (no caption)",
    message({ msgtype: "m.image", body: "cat.png", filename: "cat.png", url: "mxc://x/y" }),
    /without a caption/,
  ],
  [
    "a captioned image without a usable URL",
    message({ msgtype: "m.image", body: ".ai hi", filename: "cat.png", url: "https://x/y" }),
    /m\.image$/,
  ],
  [
    "a captioned encrypted file without its key",
    message({
      msgtype: "m.file",
      body: ".ai hi",
      filename: "a.txt",
      file: { url: "mxc://x/y", iv: "IV" },
    }),
    /m\.file$/,
  ],
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

const replyCases: Array<[string, unknown, string | undefined]> = [
  ["a plain message replies to nothing", { body: "hi" }, undefined],
  ["a reply names its event", { "m.relates_to": { "m.in_reply_to": { event_id: "$a" } } }, "$a"],
  [
    "a thread's fallback reply is none",
    {
      "m.relates_to": {
        rel_type: "m.thread",
        event_id: "$root",
        is_falling_back: true,
        "m.in_reply_to": { event_id: "$last" },
      },
    },
    undefined,
  ],
  [
    "a real reply inside a thread counts",
    {
      "m.relates_to": {
        rel_type: "m.thread",
        event_id: "$root",
        is_falling_back: false,
        "m.in_reply_to": { event_id: "$b" },
      },
    },
    "$b",
  ],
  [
    "a malformed relation is none",
    { "m.relates_to": { "m.in_reply_to": { event_id: 5 } } },
    undefined,
  ],
  ["no content is none", undefined, undefined],
];
for (const [name, content, want] of replyCases) {
  Deno.test(`replyTarget: ${name}`, () => {
    strictEqual(replyTarget(content), want);
  });
}
