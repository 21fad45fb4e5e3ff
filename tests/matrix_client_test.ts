import { deepStrictEqual, strictEqual } from "node:assert/strict";
import * as sdk from "matrix-js-sdk";
import { EchoAwareScheduler, sendQueueFor } from "../lib/matrix_client.ts";

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
