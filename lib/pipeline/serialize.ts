/**
 * Serialization: one user's messages in a room are answered one after
 * another, in order of arrival; different users and rooms in parallel
 * (decision 17). The steps before this one must reach it without awaiting,
 * so the order of arrival is the order of queueing.
 *
 * @module
 */
import type { KeyedQueue } from "../queue.ts";
import type { Step } from "./compose.ts";
import type { Turn } from "./turn.ts";

/** The serialization step; `queue.idle()` tells when every accepted message was answered. */
export function serializeStep(queue: KeyedQueue): Step<Turn> {
  return (turn, next) => queue.push(`${turn.msg.room}\n${turn.msg.sender}`, next);
}
