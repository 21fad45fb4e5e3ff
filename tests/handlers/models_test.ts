import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { withBot } from "../fixtures/harness.ts";

const ROOM = "!room:test";
const ALICE = "@alice:test";
const ADMIN = "@admin:test";
const names = { [ALICE]: "Alice", [ADMIN]: "Admin" };

/** All model ids in config order (provider order, then list order). */
const CONFIG_ORDER =
  "gpt-4.1-nano, gpt-5-mini, gemini-2.5-flash, qwen3:8b, llama3.2:3b, qwen/qwen3-8b";
/** The same, sorted lexicographically. */
const SORTED = "gemini-2.5-flash, gpt-4.1-nano, gpt-5-mini, llama3.2:3b, qwen/qwen3-8b, qwen3:8b";
const OLLAMA_REFUSAL =
  "You cannot set an Ollama model unless it matches the current global model. Please ask an admin to change the global model first.";
const LMSTUDIO_REFUSAL =
  "You cannot set an LM Studio model unless it matches the current global model. Please ask an admin to change the global model first.";

// --- .mymodel ---

Deno.test(".mymodel without an argument shows the current model and all models in config order", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(ALICE, ".mymodel");
  deepStrictEqual(bot.port.visible(), [
    `**Your current model**: gpt-4.1-nano\n**Available models**: ${CONFIG_ORDER}`,
  ]);
});

Deno.test(".mymodel lists a model that is in two providers' lists twice", async () => {
  await using bot = await withBot({
    port: { names },
    config: { llm: { models: { openai: ["m1", "m2"], google: ["m2"] }, default_model: "m1" } },
  });
  await bot.say(ALICE, ".mymodel");
  deepStrictEqual(bot.port.visible(), [
    "**Your current model**: m1\n**Available models**: m1, m2, m2, qwen3:8b, llama3.2:3b, qwen/qwen3-8b",
  ]);
});

Deno.test(".mymodel <id> sets the sender's model in this room and .mymodel shows it", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(ALICE, ".mymodel gpt-5-mini");
  strictEqual(bot.port.visible().at(-1), "Model for Alice set to gpt-5-mini");
  strictEqual(bot.models.get(ROOM, ALICE), "gpt-5-mini");
  strictEqual(bot.models.get("!other:test", ALICE), undefined);
  strictEqual(bot.models.get(ROOM, "@bob:test"), undefined);
  await bot.say(ALICE, ".mymodel");
  strictEqual(
    bot.port.visible().at(-1),
    `**Your current model**: gpt-5-mini\n**Available models**: ${CONFIG_ORDER}`,
  );
});

Deno.test(".mymodel with an unknown id replies not found and changes nothing", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(ALICE, ".mymodel gpt-5-mini");
  await bot.say(ALICE, ".mymodel nope");
  strictEqual(bot.port.visible().at(-1), `Model 'nope' not found. Available: ${CONFIG_ORDER}`);
  strictEqual(bot.models.get(ROOM, ALICE), "gpt-5-mini");
});

Deno.test(".mymodel looks the id up case-sensitively and as the whole remaining text", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(ALICE, ".mymodel GPT-5-MINI");
  await bot.say(ALICE, ".mymodel gpt-5-mini extra");
  deepStrictEqual(bot.port.visible(), [
    `Model 'GPT-5-MINI' not found. Available: ${CONFIG_ORDER}`,
    `Model 'gpt-5-mini extra' not found. Available: ${CONFIG_ORDER}`,
  ]);
  strictEqual(bot.models.get(ROOM, ALICE), undefined);
});

Deno.test(".mymodel refuses an Ollama model other than the global model", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(ALICE, ".mymodel qwen3:8b");
  deepStrictEqual(bot.port.visible(), [OLLAMA_REFUSAL]);
  strictEqual(bot.models.get(ROOM, ALICE), undefined);
});

Deno.test(".mymodel refuses an LM Studio model other than the global model", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(ALICE, ".mymodel qwen/qwen3-8b");
  deepStrictEqual(bot.port.visible(), [LMSTUDIO_REFUSAL]);
  strictEqual(bot.models.get(ROOM, ALICE), undefined);
});

Deno.test(".mymodel refuses an Ollama model while the global model is another Ollama model", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(ADMIN, ".model llama3.2:3b");
  await bot.say(ALICE, ".mymodel qwen3:8b");
  strictEqual(bot.port.visible().at(-1), OLLAMA_REFUSAL);
});

Deno.test(".mymodel allows a local model that is the global model", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(ADMIN, ".model qwen3:8b");
  await bot.say(ALICE, ".mymodel qwen3:8b");
  strictEqual(bot.port.visible().at(-1), "Model for Alice set to qwen3:8b");
  await bot.say(ADMIN, ".model qwen/qwen3-8b");
  await bot.say(ALICE, ".mymodel qwen/qwen3-8b");
  strictEqual(bot.port.visible().at(-1), "Model for Alice set to qwen/qwen3-8b");
  strictEqual(bot.models.get(ROOM, ALICE), "qwen/qwen3-8b");
});

Deno.test(".mymodel reset clears the personal model (decision 8)", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(ALICE, ".mymodel gpt-5-mini");
  await bot.say(ALICE, ".mymodel reset");
  strictEqual(
    bot.port.visible().at(-1),
    "Model for Alice reset to the global model (gpt-4.1-nano)",
  );
  strictEqual(bot.models.get(ROOM, ALICE), undefined);
  await bot.say(ALICE, ".ai hi");
  strictEqual(bot.fake.chats[0].body.model, "gpt-4.1-nano");
});

Deno.test("a personal model the config no longer lists falls back to the global model", async () => {
  await using bot = await withBot({ port: { names } });
  bot.models.set(ROOM, ALICE, "retired-model");
  await bot.say(ALICE, ".mymodel");
  strictEqual(
    bot.port.visible().at(-1),
    `**Your current model**: gpt-4.1-nano\n**Available models**: ${CONFIG_ORDER}`,
  );
  await bot.say(ALICE, ".ai hi");
  strictEqual(bot.fake.chats[0].body.model, "gpt-4.1-nano");
});

// --- .model ---

Deno.test(".model without an argument shows the global model and the sorted list", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(ADMIN, ".model");
  deepStrictEqual(bot.port.visible(), [
    `**Current model**: gpt-4.1-nano\n**Available models**: ${SORTED}`,
  ]);
});

Deno.test(".model <id> sets the global model used by everyone without a personal model", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(ALICE, ".mymodel gemini-2.5-flash");
  await bot.say(ADMIN, ".model gpt-5-mini");
  strictEqual(bot.port.visible().at(-1), "Model set to **gpt-5-mini**");
  strictEqual(bot.settings.get("model"), "gpt-5-mini");
  await bot.say("@bob:test", ".ai hi");
  await bot.say(ALICE, ".ai hi");
  strictEqual(bot.fake.chats[0].body.model, "gpt-5-mini");
  strictEqual(bot.fake.chats[1].body.model, "gemini-2.5-flash");
  await bot.say(ADMIN, ".model");
  strictEqual(
    bot.port.visible().at(-1),
    `**Current model**: gpt-5-mini\n**Available models**: ${SORTED}`,
  );
});

Deno.test(".model reset goes back to the configured default model", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(ADMIN, ".model gpt-5-mini");
  await bot.say(ADMIN, ".model reset");
  strictEqual(bot.port.visible().at(-1), "Model set to **gpt-4.1-nano**");
  strictEqual(bot.settings.get("model"), "gpt-4.1-nano");
});

Deno.test(".model with an unknown id replies not found and changes nothing (decision 7)", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(ADMIN, ".model gpt-5-mini");
  await bot.say(ADMIN, ".model gpt-9000");
  strictEqual(bot.port.visible().at(-1), `Model 'gpt-9000' not found. Available: ${SORTED}`);
  strictEqual(bot.settings.get("model"), "gpt-5-mini");
});

Deno.test(".model reset is case-sensitive: RESET is an unknown model", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(ADMIN, ".model gpt-5-mini");
  await bot.say(ADMIN, ".model RESET");
  strictEqual(bot.port.visible().at(-1), `Model 'RESET' not found. Available: ${SORTED}`);
  strictEqual(bot.settings.get("model"), "gpt-5-mini");
});

Deno.test(".model from a non-admin gets no reply and changes nothing", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(ALICE, ".model gpt-5-mini");
  await bot.say(ALICE, ".model");
  deepStrictEqual(bot.port.events, []);
  strictEqual(bot.settings.get("model"), "gpt-4.1-nano");
});

Deno.test(".model does not change personal models", async () => {
  await using bot = await withBot({ port: { names } });
  await bot.say(ALICE, ".mymodel gpt-5-mini");
  await bot.say(ADMIN, ".model gemini-2.5-flash");
  await bot.say(ADMIN, ".model reset");
  strictEqual(bot.models.get(ROOM, ALICE), "gpt-5-mini");
});
