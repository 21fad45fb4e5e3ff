/**
 * Serialization: one user's messages in a room are answered one after
 * another, in order of arrival; different users and rooms in parallel
 * (decision 17). A Matrix thread is one shared conversation (decision 38):
 * its messages, whoever sent them, are answered one after another. The steps before this one must reach it without awaiting,
 * so the order of arrival is the order of queueing.
 *
 * @module
 */
import { threadKey } from "../conversation.ts";
import type { KeyedQueue } from "../queue.ts";
import type { Step } from "./compose.ts";
import type { Turn } from "./turn.ts";

/** The serialization step; `queue.idle()` tells when every accepted message was answered. */
export function serializeStep(queue: KeyedQueue): Step<Turn> {
  return (turn, next) => queue.push(serialKey(turn), next);
}

/** The queue a turn waits in: its thread's, or its sender's in the room. */
export function serialKey(turn: Pick<Turn, "msg">): string {
  const { room, sender, threadId } = turn.msg;
  return `${room}\n${threadId !== undefined ? threadKey(threadId) : sender}`;
}
