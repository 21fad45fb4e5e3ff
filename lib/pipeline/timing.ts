/**
 * Timing (`INFINIGPT_TIMINGS=1`): logs the bot's own share of an answer's
 * latency, from the event's arrival to the provider request and from the
 * model's answer to the reply's send. The model is timed by wrapping the
 * handlers' `llm` service, so handlers know nothing of it.
 *
 * @module
 */
import { getLogger } from "../log.ts";
import type { Step } from "./compose.ts";
import type { Turn } from "./turn.ts";

const log = getLogger("bot");

/** The timing step. */
export function timingStep(): Step<Turn> {
  return async (turn, next) => {
    const received = turn.msg.receivedAt ?? performance.now();
    let asked: number | undefined;
    let answered: number | undefined;
    const { llm } = turn.services;
    turn.services = {
      ...turn.services,
      llm: {
        answer: async (request) => {
          asked = performance.now();
          const answer = await llm.answer(request);
          answered = performance.now();
          return answer;
        },
      },
    };
    try {
      await next();
    } finally {
      const sent = turn.responder?.firstSendAt;
      if (asked !== undefined && answered !== undefined && sent !== undefined) {
        log.info(
          `Timing ${turn.msg.eventId ?? "-"}: received→provider ${
            (asked - received).toFixed(2)
          } ms, ` +
            `answer→send ${(sent - answered).toFixed(2)} ms`,
        );
      }
    }
  };
}
