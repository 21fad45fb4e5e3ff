import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { FakeOpenAI } from "./fixtures/fake_openai.ts";
import { startTestBot } from "./fixtures/harness.ts";

Deno.test("a .ai message is answered through the fake provider with the sender's header", async () => {
  await using fake = FakeOpenAI.start();
  await using bot = await startTestBot({
    providerUrl: fake.url,
    port: { names: { "@a:test": "Alice" } },
  });
  await bot.say("@a:test", ".ai hello there");
  assertEquals(bot.port.visible(), ["**Alice**:\nEcho: hello there"]);
  assertEquals(fake.chats[0].body.model, "gpt-4.1-nano");
});
