import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { FakeOpenAI } from "./fixtures/fake_openai.ts";
import { rawConfig, startTestBot } from "./fixtures/harness.ts";

const MAIN = fileURLToPath(new URL("../main.ts", import.meta.url));
const DENO_JSON = fileURLToPath(new URL("../deno.json", import.meta.url));
const ROOM = "!room:test";
const ALICE = "@alice:test";
const ADMIN = "@admin:test";
const names = { [ALICE]: "Alice", [ADMIN]: "Admin" };

function childEnv(): Record<string, string> {
  const env = Deno.env.toObject();
  for (const key of Object.keys(env)) {
    if (/_API_KEY$|^INFINIGPT_|^DASHSCOPE_/.test(key)) delete env[key];
  }
  return env;
}

/** Runs `infinigpt console --admin` with `input` on stdin; returns stdout. */
async function consoleRun(dir: string, configPath: string, input: string): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--config",
      DENO_JSON,
      "--conditions=matrix-org:wasm-esm",
      MAIN,
      "console",
      "--config",
      configPath,
      "--user",
      "@tester:console",
      "--admin",
    ],
    cwd: dir,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    clearEnv: true,
    env: childEnv(),
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(input));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  strictEqual(code, 0, new TextDecoder().decode(stderr));
  return new TextDecoder().decode(stdout);
}

Deno.test("a second console process on the same store continues the thread and keeps every setting", async () => {
  await using fake = FakeOpenAI.start();
  const dir = await Deno.makeTempDir({ prefix: "infinigpt-restart-" });
  try {
    const configPath = join(dir, "config.json");
    await Deno.writeTextFile(
      configPath,
      JSON.stringify(rawConfig(fake.url, { matrix: { store_path: join(dir, "store") } })),
    );
    const first = await consoleRun(
      dir,
      configPath,
      [
        ".ai remember the word kiwi",
        ".mymodel gpt-5-mini",
        ".model gemini-2.5-flash",
        ".verbose on",
        ".tools off",
        ".thinking off",
        "",
      ].join("\n"),
    );
    ok(first.includes("**tester**:\nEcho: remember the word kiwi"), first);
    ok(first.includes("Tools are now disabled"), first);
    strictEqual(fake.chats.length, 1);

    const second = await consoleRun(
      dir,
      configPath,
      [".mymodel", ".model", ".verbose", ".tools", ".thinking", ".ai and again", ""].join("\n"),
    );
    ok(second.includes("**Your current model**: gpt-5-mini\n"), second);
    ok(second.includes("**Current model**: gemini-2.5-flash\n"), second);
    ok(second.includes("Verbose mode is **ON**"), second);
    ok(second.includes("Tools are currently disabled"), second);
    ok(second.includes("Thinking placeholder is **OFF**"), second);
    ok(second.includes("**tester**:\nEcho: and again"), second);
    strictEqual(fake.chats.length, 2);
    const last = fake.chats[1];
    strictEqual(last.body.model, "gpt-5-mini");
    strictEqual("tools" in last.body, false);
    // The thread was created before verbose mode, so it keeps the brevity clause.
    deepStrictEqual(last.messages, [
      { role: "system", content: "you are a helpful test bot. Be brief." },
      { role: "user", content: "remember the word kiwi" },
      { role: "assistant", content: "Echo: remember the word kiwi" },
      { role: "user", content: "and again" },
    ]);

    // Verbose mode, restored from the store, shapes a new prompt.
    await consoleRun(dir, configPath, ".reset\n.ai fresh\n");
    deepStrictEqual(fake.chats[2].messages, [
      { role: "system", content: "you are a helpful test bot." },
      { role: "user", content: "fresh" },
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Runs `steps` on a bot over `dir`, then closes it (the store stays). */
async function withBot(
  fake: FakeOpenAI,
  dir: string,
  steps: (bot: Awaited<ReturnType<typeof startTestBot>>) => Promise<void>,
  config?: Record<string, unknown>,
): Promise<void> {
  await using bot = await startTestBot({ providerUrl: fake.url, dir, port: { names }, config });
  await steps(bot);
}

async function withDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "infinigpt-restart-" });
  try {
    await run(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a stock (empty) thread stays empty after a restart", async () => {
  await using fake = FakeOpenAI.start();
  await withDir(async (dir) => {
    await withBot(fake, dir, (bot) => bot.say(ALICE, ".stock"));
    await withBot(fake, dir, (bot) => bot.say(ALICE, ".ai hi"));
    deepStrictEqual(fake.chats[0].messages, [{ role: "user", content: "hi" }]);
  });
});

Deno.test("an event answered before a restart is not answered by the model again", async () => {
  await using fake = FakeOpenAI.start();
  await withDir(async (dir) => {
    await withBot(fake, dir, (bot) => bot.say(ALICE, ".ai once", ROOM, "$ev-1"));
    await withBot(fake, dir, async (bot) => {
      await bot.say(ALICE, ".ai once", ROOM, "$ev-1");
      deepStrictEqual(bot.port.visible(), ["**Alice**:\nEcho: once"]);
      strictEqual(bot.history.get(ROOM, ALICE).length, 3);
    });
    strictEqual(fake.chats.length, 1);
  });
});

Deno.test(".clear before a restart stays cleared after it", async () => {
  await using fake = FakeOpenAI.start();
  await withDir(async (dir) => {
    await withBot(fake, dir, async (bot) => {
      await bot.say(ALICE, ".ai hi");
      await bot.say(ALICE, ".mymodel gpt-5-mini");
      await bot.say(ADMIN, ".model gemini-2.5-flash");
      await bot.say(ADMIN, ".clear");
    });
    await withBot(fake, dir, (bot) => {
      deepStrictEqual(bot.history.users(ROOM), []);
      strictEqual(bot.models.get(ROOM, ALICE), undefined);
      strictEqual(bot.settings.get("model"), "gpt-4.1-nano");
      return Promise.resolve();
    });
  });
});

Deno.test("models the config no longer lists fall back after a restart", async () => {
  await using fake = FakeOpenAI.start();
  await withDir(async (dir) => {
    await withBot(fake, dir, async (bot) => {
      await bot.say(ALICE, ".mymodel gpt-5-mini");
      await bot.say(ADMIN, ".model gemini-2.5-flash");
    });
    await withBot(fake, dir, async (bot) => {
      strictEqual(bot.settings.get("model"), "gpt-4.1-nano");
      await bot.say(ALICE, ".ai hi");
    }, { llm: { models: { openai: ["gpt-4.1-nano"], google: [] } } });
    strictEqual(fake.chats[0].body.model, "gpt-4.1-nano");
  });
});

Deno.test("an answer interrupted by shutdown is not stored; after the restart it is asked once, with the thread", async () => {
  await using fake = FakeOpenAI.start();
  await withDir(async (dir) => {
    await withBot(fake, dir, async (bot) => {
      await bot.say(ALICE, ".ai before", ROOM, "$ev-0");
      fake.enqueue({ kind: "hang" });
      const pending = bot.bot.handle({
        room: ROOM,
        sender: ALICE,
        body: ".ai interrupted",
        eventId: "$ev-1",
      });
      while (fake.inFlight === 0) await new Promise((r) => setTimeout(r, 5));
      await bot.bot.stop(50);
      strictEqual(await pending, false, "not handled: the transport keeps it for the restart");
      deepStrictEqual(bot.history.get(ROOM, ALICE).map((m) => m.content).slice(1), [
        "before",
        "Echo: before",
      ]);
    });
    // The inbox hands the event over again after the restart.
    await withBot(fake, dir, async (bot) => {
      await bot.say(ALICE, ".ai interrupted", ROOM, "$ev-1");
      deepStrictEqual(bot.port.visible(), ["**Alice**:\nEcho: interrupted"]);
      deepStrictEqual(fake.chats.at(-1)!.messages.map((m) => m.content).slice(1), [
        "before",
        "Echo: before",
        "interrupted",
      ]);
      deepStrictEqual(bot.history.get(ROOM, ALICE).map((m) => m.content).slice(1), [
        "before",
        "Echo: before",
        "interrupted",
        "Echo: interrupted",
      ]);
    });
  });
});
