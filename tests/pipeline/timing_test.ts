import { deepStrictEqual, match, strictEqual } from "node:assert/strict";
import type { Answer, AnswerRequest } from "../../lib/llm.ts";
import { timingStep } from "../../lib/pipeline/timing.ts";
import { FakeOpenAI } from "../fixtures/fake_openai.ts";
import { startTestBot } from "../fixtures/harness.ts";
import { MemoryPort } from "../fixtures/memory_port.ts";
import { captureLogs, testServices, testTurn } from "../fixtures/turns.ts";

const ANSWER: Answer = {
  text: "hi",
  thinking: [],
  usage: { prompt: 1, completion: 1 },
  requests: 1,
  toolCalls: 0,
};

function setup() {
  const asked: AnswerRequest[] = [];
  const services = testServices({
    llm: { answer: (request) => Promise.resolve(void asked.push(request)).then(() => ANSWER) },
  });
  const turn = testTurn({ services, port: new MemoryPort(), msg: { receivedAt: 0 } });
  return { turn, asked, original: services.llm };
}

Deno.test("timing: an answered message logs received→provider and answer→send", async () => {
  using logs = captureLogs("info");
  const { turn, asked } = setup();
  await timingStep()(turn, async () => {
    const answer = await turn.services.llm.answer({ model: "m1", messages: [] });
    strictEqual(answer, ANSWER, "the model's answer comes through unchanged");
    await turn.responder!.reply(answer.text);
  });
  deepStrictEqual(asked, [{ model: "m1", messages: [] }]);
  strictEqual(logs.lines.length, 1);
  match(
    logs.lines[0],
    /^INFO bot: Timing \$e1: received→provider \d+\.\d\d ms, answer→send \d+\.\d\d ms$/,
  );
});

Deno.test("timing: a command that did not ask the model logs nothing", async () => {
  using logs = captureLogs("info");
  const { turn } = setup();
  await timingStep()(turn, () => turn.responder!.reply("no model needed"));
  deepStrictEqual(logs.lines, []);
});

Deno.test("timing: a model that failed logs nothing, and the failure goes on", async () => {
  using logs = captureLogs("info");
  const turn = testTurn({ port: new MemoryPort() });
  const error = await Promise.resolve(
    timingStep()(turn, async () => {
      await turn.services.llm.answer({ model: "m1", messages: [] });
    }),
  ).catch((e) => e as Error);
  match(String(error), /no model in this test/);
  deepStrictEqual(logs.lines, []);
});

Deno.test("timing: only this turn's services are wrapped", async () => {
  const { turn, original } = setup();
  const shared = turn.services;
  await timingStep()(turn, () => Promise.resolve());
  strictEqual(shared.llm, original);
  strictEqual(turn.services.threads, shared.threads);
});

Deno.test("timing: a bot started with timings logs the spans of each answer, and only then", async () => {
  await using fake = FakeOpenAI.start();
  for (const timings of [true, false]) {
    using logs = captureLogs("info");
    await using bot = await startTestBot({ providerUrl: fake.url, timings });
    await bot.say("@alice:test", ".ai hi", "!room:test", "$timed");
    await bot.say("@alice:test", ".help", "!room:test", "$untimed");
    const spans = logs.lines.filter((l) => l.includes("Timing"));
    strictEqual(spans.length, timings ? 1 : 0, spans.join("\n"));
    if (timings) match(spans[0], /Timing \$timed: received→provider/);
  }
});
