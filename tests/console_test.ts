import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { FakeOpenAI } from "./fixtures/fake_openai.ts";
import { rawConfig } from "./fixtures/harness.ts";
import { CONSOLE_ROOM, ConsolePort, readLines, runConsoleLoop } from "../lib/console.ts";

const MAIN = fileURLToPath(new URL("../main.ts", import.meta.url));
const DENO_JSON = fileURLToPath(new URL("../deno.json", import.meta.url));
const HELP_TITLE = "# InfiniGPT";

function stream(...chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return ReadableStream.from(chunks.map((c) => encoder.encode(c)));
}

// --- pieces ---

Deno.test("readLines splits on LF and CRLF, across chunks, keeping a last line without newline", async () => {
  const lines: string[] = [];
  for await (const line of readLines(stream("one\r\ntw", "o\n\nthr", "ee"))) lines.push(line);
  deepStrictEqual(lines, ["one", "two", "", "three"]);
});

Deno.test("readLines decodes multi-byte characters split between chunks", async () => {
  const bytes = new TextEncoder().encode("é\n");
  const input = ReadableStream.from([bytes.slice(0, 1), bytes.slice(1)]);
  const lines: string[] = [];
  for await (const line of readLines(input)) lines.push(line);
  deepStrictEqual(lines, ["é"]);
});

Deno.test("the console loop hands each non-blank line to the bot in order, in the console room", async () => {
  const seen: Array<{ room: string; sender: string; body: string }> = [];
  const ids = new Set<string>();
  let out = "";
  const count = await runConsoleLoop({
    input: stream(".ai one\n   \n.ai two\n"),
    output: { write: (t) => void (out += t) },
    userId: "@me:console",
    prompt: false,
    handle: async (m) => {
      await new Promise((r) => setTimeout(r, 5));
      seen.push({ room: m.room, sender: m.sender, body: m.body });
      ids.add(m.eventId);
    },
  });
  strictEqual(count, 2);
  deepStrictEqual(seen, [
    { room: CONSOLE_ROOM, sender: "@me:console", body: ".ai one" },
    { room: CONSOLE_ROOM, sender: "@me:console", body: ".ai two" },
  ]);
  strictEqual(ids.size, 2);
  strictEqual(out, "");
});

Deno.test("the console loop shows a prompt on a terminal", async () => {
  let out = "";
  await runConsoleLoop({
    input: stream("hi\n"),
    output: { write: (t) => void (out += t) },
    userId: "@me:console",
    prompt: true,
    handle: () => Promise.resolve(),
  });
  strictEqual(out, "me> me> \n");
});

Deno.test("the console port prints messages and edits, and names users by localpart", async () => {
  let out = "";
  const port = new ConsolePort({
    userId: "@me:console",
    botName: "Infini GPT",
    output: { write: (t) => void (out += t) },
    imagesDir: "/nonexistent",
  });
  strictEqual(port.userId, "@infinigpt:console");
  strictEqual(port.botName(), "Infini GPT");
  const id = await port.send(CONSOLE_ROOM, { body: "hello" });
  await port.edit(CONSOLE_ROOM, id, { body: "edited" });
  strictEqual(out, "hello\n\nedited\n\n");
  strictEqual(await port.displayName(CONSOLE_ROOM, "@alice:console"), "alice");
  strictEqual(await port.displayName(CONSOLE_ROOM, port.userId), "Infini GPT");
});

Deno.test("the console port saves posted images into the images directory", async () => {
  const dir = await Deno.makeTempDir({ prefix: "infinigpt-console-" });
  try {
    let out = "";
    const port = new ConsolePort({
      userId: "@me:console",
      botName: "InfiniGPT",
      output: { write: (t) => void (out += t) },
      imagesDir: join(dir, "images"),
    });
    const bytes = new Uint8Array([137, 80, 78, 71]);
    await port.sendImage(CONSOLE_ROOM, { bytes, mimetype: "image/png", name: "pic.png" });
    deepStrictEqual(await Deno.readFile(join(dir, "images", "pic.png")), bytes);
    ok(out.includes("pic.png"), out);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// --- the real process ---

/** The environment without provider keys or InfiniGPT settings of the host. */
function childEnv(): Record<string, string> {
  const env = Deno.env.toObject();
  for (const key of Object.keys(env)) {
    if (/_API_KEY$|^INFINIGPT_|^DASHSCOPE_/.test(key)) delete env[key];
  }
  return env;
}

function consoleCommand(dir: string, configPath: string, extra: string[]): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
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
      ...extra,
    ],
    cwd: dir,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    clearEnv: true,
    env: childEnv(),
  });
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `infinigpt console` with `input` on stdin (then end of input). */
async function runConsole(
  dir: string,
  configPath: string,
  input: string,
  extra: string[] = [],
): Promise<Run> {
  const child = consoleCommand(dir, configPath, extra).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(input));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  const decoder = new TextDecoder();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}

/** A temp dir with a config pointing at `fake`; the store is `<dir>/data/store`. */
async function setup(fake: FakeOpenAI) {
  const dir = await Deno.makeTempDir({ prefix: "infinigpt-console-" });
  const store = join(dir, "data", "store");
  const configPath = join(dir, "config.json");
  await Deno.writeTextFile(
    configPath,
    JSON.stringify(rawConfig(fake.url, { matrix: { store_path: store } })),
  );
  return {
    dir,
    store,
    configPath,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

Deno.test("infinigpt console answers .help and .ai from piped input and exits 0", async () => {
  await using fake = FakeOpenAI.start();
  await using env = await setup(fake);
  const run = await runConsole(env.dir, env.configPath, ".help\n.ai hello\n");
  strictEqual(run.code, 0, run.stderr);
  ok(run.stdout.includes(HELP_TITLE), run.stdout);
  ok(run.stdout.includes("**tester**:\nEcho: hello"), run.stdout);
  ok(!run.stdout.includes("# Admin commands"), "a non-admin saw the admin help");
  strictEqual(fake.chats.length, 1);
});

Deno.test("infinigpt console creates the store directory", async () => {
  await using fake = FakeOpenAI.start();
  await using env = await setup(fake);
  const run = await runConsole(env.dir, env.configPath, ".ai hi\n");
  strictEqual(run.code, 0, run.stderr);
  ok((await Deno.stat(env.store)).isDirectory);
  ok((await Deno.stat(join(env.store, "state.db"))).isFile);
});

Deno.test("admin commands are ignored in the console unless --admin is given", async () => {
  await using fake = FakeOpenAI.start();
  await using env = await setup(fake);
  const plain = await runConsole(env.dir, env.configPath, ".model gpt-5-mini\n");
  strictEqual(plain.code, 0, plain.stderr);
  strictEqual(plain.stdout.trim(), "");
  const admin = await runConsole(env.dir, env.configPath, ".model\n.model gpt-5-mini\n.help\n", [
    "--admin",
  ]);
  strictEqual(admin.code, 0, admin.stderr);
  ok(admin.stdout.includes("**Current model**: gpt-4.1-nano"), admin.stdout);
  ok(admin.stdout.includes("Model set to **gpt-5-mini**"), admin.stdout);
  ok(admin.stdout.includes("# Admin commands"), admin.stdout);
});

Deno.test("a second console on a store in use exits 2 and says it is in use", async () => {
  await using fake = FakeOpenAI.start();
  await using env = await setup(fake);
  const first = consoleCommand(env.dir, env.configPath, []).spawn();
  const stderr = new Response(first.stderr).text();
  const writer = first.stdin.getWriter();
  const reader = first.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  try {
    await writer.write(new TextEncoder().encode(".help\n"));
    // Once the help is printed, the first console certainly holds the store.
    while (!out.includes(HELP_TITLE)) {
      const { value, done } = await reader.read();
      if (done) break;
      out += value;
    }
    ok(out.includes(HELP_TITLE), out);
    const second = await runConsole(env.dir, env.configPath, ".ai hi\n");
    strictEqual(second.code, 2);
    ok(second.stderr.includes("is in use by another InfiniGPT process"), second.stderr);
    strictEqual(second.stdout, "");
  } finally {
    await writer.close();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      out += value;
    }
  }
  const status = await first.status;
  strictEqual(status.code, 0, await stderr);
  strictEqual(fake.chats.length, 0);
});

// --- images and files (decision 34) ---

Deno.test("/image and /file attach a file to the next message; a missing one is said", async () => {
  await using env = await Deno.makeTempDir({ prefix: "infinigpt-console-att-" }).then((dir) => ({
    dir,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  }));
  await Deno.writeFile(join(env.dir, "cat.png"), new Uint8Array([137, 80, 78, 71]));
  await Deno.writeTextFile(join(env.dir, "notes.txt"), "hi");
  const seen: Array<{ body: string; attachments?: unknown[] }> = [];
  let out = "";
  await runConsoleLoop({
    input: stream(
      `/image ${join(env.dir, "cat.png")}\n/file ${join(env.dir, "notes.txt")}\n.ai look\n` +
        `/image ${join(env.dir, "nope.png")}\n.ai again\n`,
    ),
    output: { write: (t) => void (out += t) },
    userId: "@me:console",
    prompt: false,
    handle: (m) => Promise.resolve(void seen.push({ body: m.body, attachments: m.attachments })),
  });
  strictEqual(seen.length, 2);
  deepStrictEqual(seen[0].attachments, [
    {
      kind: "image",
      ref: { url: `file://${join(env.dir, "cat.png")}`, name: "cat.png", mimetype: "", size: 4 },
    },
    {
      kind: "file",
      ref: {
        url: `file://${join(env.dir, "notes.txt")}`,
        name: "notes.txt",
        mimetype: "",
        size: 2,
      },
    },
  ]);
  strictEqual(seen[1].attachments, undefined, "attachments go with one message only");
  ok(out.includes("[cat.png goes with your next message]"), out);
  ok(out.includes(`[cannot read ${join(env.dir, "nope.png")}]`), out);
});

Deno.test("infinigpt console sends an /image to the model and reads a /file as text", async () => {
  await using fake = FakeOpenAI.start();
  await using env = await setup(fake);
  const png = Uint8Array.from(
    atob(
      "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
    ),
    (c) => c.charCodeAt(0),
  );
  await Deno.writeFile(join(env.dir, "dot.png"), png);
  await Deno.writeTextFile(join(env.dir, "todo.md"), "- tea");
  const run = await runConsole(
    env.dir,
    env.configPath,
    "/image dot.png\n.ai what is it?\n/file todo.md\n.ai and this?\n",
  );
  strictEqual(run.code, 0, run.stderr);
  const [image, file] = fake.chats;
  deepStrictEqual(image.userParts.map((p) => p.type), ["text", "image"]);
  const part = image.userParts[1];
  ok(part.type === "image");
  deepStrictEqual(part.bytes, png);
  deepStrictEqual(file.userParts.at(-1), { type: "text", text: "File todo.md:\n- tea" });
  ok(run.stdout.includes("Echo: what is it? [image/png 70 bytes]"), run.stdout);
});
