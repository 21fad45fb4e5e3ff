import { deepStrictEqual, match, notStrictEqual, ok, strictEqual } from "node:assert/strict";
import type * as sdk from "matrix-js-sdk";
import { MatrixOutbox, txnIdFor } from "../lib/matrix_outbox.ts";

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

/** An outbox on a client that records what it sends. */
function recordingOutbox() {
  const sent: Array<Record<string, unknown>> = [];
  const client = {
    sendEvent: (_room: string, _type: string, content: Record<string, unknown>) => {
      sent.push(content);
      return Promise.resolve({ event_id: `$sent${sent.length}` });
    },
    getRoom: () => null,
  } as unknown as sdk.MatrixClient;
  return { outbox: new MatrixOutbox(client, { markdown: false }), sent };
}

Deno.test("a reply carries m.in_reply_to for the message it answers, and no fallback quote", async () => {
  const { outbox, sent } = recordingOutbox();
  await outbox.send("!r", { body: "**Alice**:\nhi", replyTo: "$q" });
  deepStrictEqual(sent[0], {
    msgtype: "m.text",
    body: "**Alice**:\nhi",
    "m.relates_to": { "m.in_reply_to": { event_id: "$q" } },
  });
});

Deno.test("a reply in a thread falls back to the message it answers", async () => {
  const { outbox, sent } = recordingOutbox();
  await outbox.send("!r", { body: "x", threadId: "$root", replyTo: "$q" });
  deepStrictEqual(sent[0]["m.relates_to"], {
    rel_type: "m.thread",
    event_id: "$root",
    is_falling_back: true,
    "m.in_reply_to": { event_id: "$q" },
  });
});

Deno.test("every part of a split reply is a reply", async () => {
  const { outbox, sent } = recordingOutbox();
  await outbox.send("!r", { body: "word ".repeat(8000), replyTo: "$q" });
  ok(sent.length > 1);
  for (const content of sent) {
    deepStrictEqual(content["m.relates_to"], { "m.in_reply_to": { event_id: "$q" } });
  }
});
