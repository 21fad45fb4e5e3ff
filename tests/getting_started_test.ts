/**
 * A new user follows docs/getting-started.md in an empty data directory,
 * through the real program: `init`, `check-config` on the starter config and
 * on the guide's small config, then `console` answering `.ai hello` from a
 * local OpenAI-compatible server. Two of the guide's ways run here: the
 * release binary (main.ts under the permissions baked into binaries; the
 * binary itself cannot be built offline) and the `deno task start` launcher.
 * The texts the guide quotes are checked against what the program prints.
 */
import { windowsSystemEnv } from "./fixtures/platform.ts";
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { binaryProfileRunArgs } from "../lib/permissions.ts";
import { FakeOpenAI } from "./fixtures/fake_openai.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const GUIDE = Deno.readTextFileSync(join(ROOT, "docs/getting-started.md"));
const EXAMPLE = Deno.readTextFileSync(join(ROOT, "config.example.json"));
const TASKS = (JSON.parse(Deno.readTextFileSync(join(ROOT, "deno.json"))) as {
  tasks: Record<string, string>;
}).tasks;

const CLOUD_PROVIDERS = ["openai", "xai", "google", "mistral", "anthropic", "deepseek", "qwen"];

/** `deno task start <args>`, run from another directory: the task's command, script path made absolute. */
function launcherArgs(args: string[]): string[] {
  const words = TASKS.start.split(" ");
  strictEqual(words[0], "deno");
  return words.slice(1).map((w) => w === "scripts/launch.ts" ? join(ROOT, w) : w).concat(args);
}

interface Way {
  name: string;
  args(cli: string[]): string[];
  /** Whether a config outside the data directory can be read. */
  readsOutside: boolean;
}

const WAYS: Way[] = [
  {
    name: "the release binary",
    args: (cli) => binaryProfileRunArgs(ROOT, cli),
    readsOutside: false,
  },
  { name: "deno task start", args: launcherArgs, readsOutside: true },
];

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the program in `cwd` with only the given variables (and PATH, HOME, DENO_DIR). */
async function run(
  way: Way,
  cwd: string,
  cli: string[],
  env: Record<string, string> = {},
  stdin = "",
): Promise<Result> {
  const base: Record<string, string> = { NO_COLOR: "1", ...windowsSystemEnv() };
  for (const name of ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) base[name] = value;
  }
  const child = new Deno.Command(Deno.execPath(), {
    args: way.args(cli),
    cwd,
    clearEnv: true,
    env: { ...base, ...env },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(stdin));
  await writer.close();
  const output = await child.output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** The first ```json block after `marker` in the guide. */
function guideJson(marker: string): Record<string, Record<string, unknown>> {
  const at = GUIDE.indexOf(marker);
  ok(at !== -1, `the guide lacks "${marker}"`);
  const start = GUIDE.indexOf("```json\n", at) + "```json\n".length;
  return JSON.parse(GUIDE.slice(start, GUIDE.indexOf("\n```", start)));
}

function warnings(stdout: string): string[] {
  const at = stdout.indexOf("Warnings:\n");
  return at === -1 ? [] : stdout.slice(at).split("\n").filter((l) => l.startsWith("- "));
}

const INIT_OUTPUT = "Wrote config.json and created the store directory store/.\n" +
  "Wrote a new store key to store.key: back it up apart from the store.\n" +
  "Next: edit config.json (homeserver, bot account, models, API keys), then run:\n" +
  "  infinigpt check-config --config config.json\n" +
  "  infinigpt doctor --config config.json\n" +
  "  infinigpt console --config config.json\n" +
  "  infinigpt --config config.json\n";

/** What init writes: the example pointing at the new store key. */
const STARTER = EXAMPLE.replace('"store_key_file": null', '"store_key_file": "store.key"');

Deno.test("deno task console is deno task start console", () => {
  strictEqual(TASKS.console, `${TASKS.start} console`);
});

for (const way of WAYS) {
  Deno.test(`getting started with ${way.name}: init, check-config, console`, async (t) => {
    const parent = await Deno.makeTempDir({ prefix: "infinigpt-getting-started-" });
    const dir = join(parent, "infinigpt");
    await Deno.mkdir(dir);
    const config = join(dir, "config.json");
    try {
      await t.step("init writes the starter config.json (0600) and store/ (0700)", async () => {
        const result = await run(way, dir, ["init"]);
        strictEqual(result.code, 0, result.stderr);
        strictEqual(result.stdout, INIT_OUTPUT);
        ok(GUIDE.includes(INIT_OUTPUT), "the guide quotes init's output");
        strictEqual(await Deno.readTextFile(config), STARTER);
        ok((await Deno.stat(join(dir, "store"))).isDirectory);
        ok(/^[0-9a-f]{64}\n$/.test(await Deno.readTextFile(join(dir, "store.key"))));
        if (Deno.build.os !== "windows") {
          strictEqual((await Deno.stat(config)).mode! & 0o777, 0o600);
          strictEqual((await Deno.stat(join(dir, "store"))).mode! & 0o777, 0o700);
          strictEqual((await Deno.stat(join(dir, "store.key"))).mode! & 0o777, 0o600);
        }
        deepStrictEqual((await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort(), [
          "config.json",
          "store",
          "store.key",
        ]);
      });

      await t.step("init refuses to replace the config, init --force replaces it", async () => {
        await Deno.writeTextFile(config, STARTER.replace("change-me", "edited-by-me"));
        const again = await run(way, dir, ["init"]);
        strictEqual(again.code, 2);
        strictEqual(
          again.stderr.split("\n").filter((l) => l.startsWith("config.json")).join("\n"),
          "config.json already exists; not overwriting it (use --force to replace it).",
        );
        ok((await Deno.readTextFile(config)).includes("edited-by-me"), "the file was changed");
        ok(
          GUIDE.includes(
            "`config.json already exists; not overwriting it (use --force\nto replace it).`",
          ),
        );
        const forced = await run(way, dir, ["init", "--force"]);
        strictEqual(forced.code, 0, forced.stderr);
        strictEqual(await Deno.readTextFile(config), STARTER);
        ok(forced.stdout.includes("Kept the existing store key store.key."), forced.stdout);
      });

      await t.step(
        "the untouched starter config fails check-config on its placeholders; edited, it passes with one warning per cloud provider",
        async () => {
          const untouched = await run(way, dir, ["check-config"]);
          strictEqual(untouched.code, 2);
          const placeholder =
            "- matrix.server: \"https://matrix.example.org\" is the starter config's placeholder; replace it with your homeserver's URL or server name";
          ok(untouched.stderr.includes(placeholder), untouched.stderr);
          ok(GUIDE.includes(placeholder), "the guide quotes the placeholder error");
          await Deno.writeTextFile(
            config,
            STARTER.replaceAll("example.org", "matrix.test").replace("change-me", "edited-pw"),
          );
          const plain = await run(way, dir, ["check-config"]);
          strictEqual(plain.code, 0, plain.stderr);
          ok(plain.stdout.startsWith("Config OK: config.json\n"), plain.stdout);
          deepStrictEqual(
            warnings(plain.stdout).map((w) => /^- No API key for provider "([a-z]+)"/.exec(w)?.[1]),
            CLOUD_PROVIDERS,
          );
          ok(
            GUIDE.includes('- No API key for provider "xai" (set XAI_API_KEY or llm.api_keys.xai)'),
          );
          ok(
            warnings(plain.stdout).includes(
              '- No API key for provider "xai" (set XAI_API_KEY or llm.api_keys.xai)',
            ),
          );
          const withKey = await run(way, dir, ["check-config"], { OPENAI_API_KEY: "sk-from-env" });
          strictEqual(withKey.code, 0, withKey.stderr);
          ok(withKey.stdout.includes("key: env OPENAI_API_KEY"), withKey.stdout);
          strictEqual(warnings(withKey.stdout).length, CLOUD_PROVIDERS.length - 1);
          ok(!withKey.stdout.includes("sk-from-env"), "the key is not printed");
        },
      );

      const small = guideJson("A small config is enough");
      await t.step(
        "the guide's small config needs the password from INFINIGPT_MATRIX_PASSWORD",
        async () => {
          // With the user's own names in place of the guide's example.org.
          const own = JSON.stringify(small, null, 2).replaceAll("example.org", "matrix.test");
          await Deno.writeTextFile(config, own);
          const without = await run(way, dir, ["check-config"]);
          strictEqual(without.code, 2);
          strictEqual(without.stdout, "");
          const expected = "Configuration errors:\n" +
            "- matrix.password: is required (or set matrix.access_token)\n";
          ok(without.stderr.endsWith(expected), without.stderr);
          ok(GUIDE.includes(expected), "the guide quotes the error");
          const env = { INFINIGPT_MATRIX_PASSWORD: "bot-password-123", OPENAI_API_KEY: "sk-x-123" };
          const withEnv = await run(way, dir, ["check-config"], env);
          strictEqual(withEnv.code, 0, withEnv.stderr);
          ok(withEnv.stdout.startsWith("Config OK: config.json\n"), withEnv.stdout);
          ok(withEnv.stdout.includes("(password set)"), withEnv.stdout);
          ok(!withEnv.stdout.includes("bot-password-123"), "the password is not printed");
          deepStrictEqual(warnings(withEnv.stdout), []);
        },
      );

      await t.step(
        "a config outside the data directory is refused only by the binary",
        async () => {
          const outside = join(parent, "outside.json");
          await Deno.writeTextFile(
            outside,
            EXAMPLE.replaceAll("example.org", "matrix.test").replace("change-me", "edited-pw"),
          );
          const result = await run(way, dir, ["check-config", "--config", "../outside.json"]);
          if (way.readsOutside) {
            strictEqual(result.code, 0, result.stderr);
            ok(result.stdout.startsWith("Config OK: ../outside.json\n"), result.stdout);
          } else {
            strictEqual(result.code, 2);
            ok(
              result.stderr.includes(
                "a release binary reads and writes only inside its working directory",
              ),
              result.stderr,
            );
            ok(
              GUIDE.includes(
                "`a release binary reads and writes only inside its working directory`",
              ),
            );
          }
        },
      );

      await t.step(
        "console answers .ai hello through a local OpenAI-compatible server",
        async () => {
          await using fake = FakeOpenAI.start();
          const llm = small.llm as Record<string, unknown>;
          await Deno.writeTextFile(
            config,
            JSON.stringify({ ...small, llm: { ...llm, base_urls: { openai: fake.url } } }),
          );
          const result = await run(
            way,
            dir,
            ["console"],
            { INFINIGPT_MATRIX_PASSWORD: "bot-password-123", OPENAI_API_KEY: "sk-getting-started" },
            ".ai hello\n",
          );
          strictEqual(result.code, 0, result.stderr);
          strictEqual(result.stdout, "**you**:\nEcho: hello\n\n");
          strictEqual(fake.chats.length, 1);
          strictEqual(fake.chats[0].body.model, llm.default_model);
          strictEqual(fake.chats[0].headers.get("authorization"), "Bearer sk-getting-started");
          deepStrictEqual(fake.chats[0].messages.at(-1), { role: "user", content: "hello" });
          ok(
            (await Deno.stat(join(dir, "store", "state.db"))).isFile,
            "the store is in the data dir",
          );
        },
      );
    } finally {
      await Deno.remove(parent, { recursive: true });
    }
  });
}
