/**
 * The bot against an independent E2EE implementation: a user on matrix-nio
 * with libolm (Debian's python3-matrix-nio + python3-olm, driven by
 * `nio_client.py`) runs every user command in an encrypted and a plain room.
 */
import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import { FakeOpenAI, type RecordedRequest } from "../fixtures/fake_openai.ts";
import { registerUser, ROOT, setupBot, SYNAPSE_URL, TestClient, unique } from "./helpers.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const PYTHON = "/usr/bin/python3";
const DRIVER = `${ROOT}/tests/e2e/nio_client.py`;
const DEFAULT_PROMPT = "you are a helpful test bot. Be brief.";
const ALL_MODELS =
  "gpt-4.1-nano, gpt-5-mini, gemini-2.5-flash, qwen3:8b, llama3.2:3b, qwen/qwen3-8b";

/** A bot message as the nio user saw it. */
interface NioMessage {
  event_id: string;
  sender: string;
  msgtype: string;
  body: string;
  text: string;
  formatted_body?: string;
  encrypted: boolean;
  decrypted: boolean;
  late_decrypt: boolean;
  edits: Array<{ event_id: string; encrypted: boolean; decrypted: boolean }>;
}

/** One step's report from the driver. */
interface NioStep {
  step: number;
  room: string;
  send: string;
  sent_event_id: string;
  sent_encrypted: boolean;
  ok: boolean;
  error?: string;
  messages: NioMessage[];
}

interface NioRun {
  ready?: { user_id: string; device_id: string; rooms: Record<string, { encrypted: boolean }> };
  steps: NioStep[];
  code: number;
  stderr: string;
}

/** What the nio user sends in a room, and how the test checks the answer. */
interface Case {
  send: string;
  expect: string;
  mentions?: string[];
  settleMs?: number;
  check: (step: NioStep) => void;
}

/** Runs the nio driver with a plan; returns its reports. */
async function runNio(plan: Record<string, unknown>): Promise<NioRun> {
  const child = new Deno.Command(PYTHON, {
    args: [DRIVER],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const killer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }, 15 * 60_000);
  try {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(JSON.stringify(plan)));
    await writer.close();
    const output = await child.output();
    const run: NioRun = {
      steps: [],
      code: output.code,
      stderr: new TextDecoder().decode(output.stderr),
    };
    for (const line of new TextDecoder().decode(output.stdout).split("\n")) {
      if (!line.trim()) continue;
      const parsed = JSON.parse(line);
      if (parsed.ready) run.ready = parsed;
      else run.steps.push(parsed);
    }
    return run;
  } finally {
    clearTimeout(killer);
  }
}

/** The request the fake model got whose last user message is `text` (and that passes `also`). */
function requestFor(
  fake: FakeOpenAI,
  text: string,
  also: (r: RecordedRequest) => boolean = () => true,
): RecordedRequest {
  const found = fake.chats.filter((r) => r.messages.at(-1)?.content === text && also(r));
  strictEqual(found.length, 1, `one model request ending with ${JSON.stringify(text)}`);
  return found[0];
}

/** Role and content of each message in a request. */
function thread(r: RecordedRequest): Array<[string, unknown]> {
  return r.messages.map((m) => [m.role, m.content]);
}

/** The single reply to a step: one message from the bot. */
function only(step: NioStep): NioMessage {
  strictEqual(
    step.messages.length,
    1,
    `one reply to ${step.send}: ${JSON.stringify(step.messages.map((m) => m.text))}`,
  );
  return step.messages[0];
}

Deno.test({
  name:
    "a matrix-nio (libolm) user runs every user command in an encrypted and a plain room, and the encrypted replies reach it as decrypted Megolm events",
  ...opts,
  async fn(t) {
    const started = performance.now();
    await using fake = FakeOpenAI.start();
    const alice = await TestClient.create("alice");
    const nioName = unique("nio");
    const nioPassword = `pw-${nioName}`;
    const nio = await registerUser(nioName, nioPassword);
    const nioDisplay = `Nio Peer ${nioName.slice(3)}`;
    const setup = await setupBot({ providerUrl: fake.url, admins: [alice.userId] });
    const bot = await setup.start();
    try {
      await bot.ready();
      const botName = setup.userId.slice(1).split(":")[0];
      const aliceName = alice.userId.slice(1).split(":")[0];
      const secret = await alice.createRoom({ invite: [setup.userId, nio.user_id] });
      const plain = await alice.createRoom({
        invite: [setup.userId, nio.user_id],
        encrypted: false,
      });
      const rooms = [{ id: secret, encrypted: true }, { id: plain, encrypted: false }];
      for (const room of rooms) {
        await alice.waitForJoin(room.id, setup.userId);
        // Alice gets a thread in each room, so `.x` has someone to talk to.
        await alice.send(room.id, `.ai alice first ${room.id}`);
        await alice.waitForMessage(
          room.id,
          setup.userId,
          (text) => text.endsWith(`Echo: alice first ${room.id}`),
        );
      }

      const header = `**${nioDisplay}**:\n`;
      const helpUser = (await Deno.readTextFile(`${ROOT}/help.md`)).split("~~~")[0].trim();
      const cases = (room: string, tag: string): Case[] => {
        const echo = (text: string): Case => ({
          send: `.ai ${text}`,
          expect: `Echo: ${text}`,
          check: (step) => {
            const reply = only(step);
            strictEqual(reply.text, `${header}Echo: ${text}`);
            // A fast answer is one message, no placeholder and no edit (decision 35).
            strictEqual(reply.body, `${header}Echo: ${text}`, "one message");
            strictEqual(reply.edits.length, 0, "never edited");
          },
        });
        const simple = (send: string, text: string): Case => ({
          send,
          expect: text,
          check: (step) => strictEqual(only(step).text, text),
        });
        return [
          {
            ...echo(`hello ${tag}`),
            check: (step) => {
              const reply = only(step);
              strictEqual(reply.text, `${header}Echo: hello ${tag}`);
              match(
                String(reply.formatted_body),
                new RegExp(`^<p><strong>${nioDisplay}</strong>:<br`),
              );
              // A fast answer is one message, no placeholder and no edit (decision 35).
              strictEqual(reply.body, `${header}Echo: hello ${tag}`);
              strictEqual(reply.edits.length, 0);
            },
          },
          {
            send: `${botName}: mention ${tag}`,
            expect: `Echo: mention ${tag}`,
            check: (step) => strictEqual(only(step).text, `${header}Echo: mention ${tag}`),
          },
          {
            send: `${botName} pill ${tag}`,
            mentions: [setup.userId],
            expect: `Echo: pill ${tag}`,
            check: (step) => strictEqual(only(step).text, `${header}Echo: pill ${tag}`),
          },
          {
            send: `.x ${alice.userId} into alice ${tag}`,
            expect: `Echo: into alice ${tag}`,
            check: (step) => {
              strictEqual(only(step).text, `${header}Echo: into alice ${tag}`);
              const r = requestFor(fake, `into alice ${tag}`);
              deepStrictEqual(thread(r), [
                ["system", DEFAULT_PROMPT],
                ["user", `alice first ${room}`],
                ["assistant", `Echo: alice first ${room}`],
                ["user", `into alice ${tag}`],
              ], "the message went into alice's thread");
            },
          },
          {
            send: `.x ${aliceName} by name ${tag}`,
            expect: `Echo: by name ${tag}`,
            check: (step) => {
              strictEqual(only(step).text, `${header}Echo: by name ${tag}`);
              const r = requestFor(fake, `by name ${tag}`);
              strictEqual(r.messages[1].content, `alice first ${room}`, "alice's thread");
              strictEqual(r.messages.length, 6);
            },
          },
          {
            send: `.persona a pirate ${tag}`,
            expect: "Echo: introduce yourself",
            check: (step) => {
              strictEqual(only(step).text, `${header}Echo: introduce yourself`);
              const r = requestFor(
                fake,
                "introduce yourself",
                (r) => r.messages[0].content === `you are a pirate ${tag}. Be brief.`,
              );
              strictEqual(r.messages.length, 2, "the thread started over");
            },
          },
          {
            send: `.custom You answer in haiku ${tag}.`,
            expect: "Echo: introduce yourself",
            check: (step) => {
              strictEqual(only(step).text, `${header}Echo: introduce yourself`);
              const r = requestFor(
                fake,
                "introduce yourself",
                (r) => r.messages[0].content === `You answer in haiku ${tag}.`,
              );
              deepStrictEqual(thread(r), [
                ["system", `You answer in haiku ${tag}.`],
                ["user", "introduce yourself"],
              ]);
            },
          },
          simple(".reset", `${botName} reset to default for ${nioDisplay}`),
          {
            ...echo(`after reset ${tag}`),
            check: (step) => {
              strictEqual(only(step).text, `${header}Echo: after reset ${tag}`);
              deepStrictEqual(thread(requestFor(fake, `after reset ${tag}`)), [
                ["system", DEFAULT_PROMPT],
                ["user", `after reset ${tag}`],
              ]);
            },
          },
          simple(".stock", `Stock settings applied for ${nioDisplay}`),
          {
            ...echo(`after stock ${tag}`),
            check: (step) => {
              strictEqual(only(step).text, `${header}Echo: after stock ${tag}`);
              deepStrictEqual(thread(requestFor(fake, `after stock ${tag}`)), [
                ["user", `after stock ${tag}`],
              ]);
            },
          },
          {
            send: ".help",
            expect: "`.mymodel reset`",
            // Long enough for an admin part to show up if it were (wrongly) sent.
            settleMs: 2000,
            check: (step) => {
              const reply = only(step);
              strictEqual(reply.text, helpUser, "the user part of help.md, no admin part");
              match(String(reply.formatted_body), /<table>/);
            },
          },
          simple(
            ".mymodel",
            `**Your current model**: gpt-4.1-nano\n**Available models**: ${ALL_MODELS}`,
          ),
          simple(".mymodel gpt-5-mini", `Model for ${nioDisplay} set to gpt-5-mini`),
          simple(
            ".mymodel",
            `**Your current model**: gpt-5-mini\n**Available models**: ${ALL_MODELS}`,
          ),
          {
            ...echo(`mine ${tag}`),
            check: (step) => {
              strictEqual(only(step).text, `${header}Echo: mine ${tag}`);
              strictEqual(requestFor(fake, `mine ${tag}`).body.model, "gpt-5-mini");
            },
          },
          simple(
            ".mymodel qwen3:8b",
            "You cannot set an Ollama model unless it matches the current global model. Please ask an admin to change the global model first.",
          ),
          simple(
            ".mymodel no-such-model",
            `Model 'no-such-model' not found. Available: ${ALL_MODELS}`,
          ),
          simple(
            ".mymodel reset",
            `Model for ${nioDisplay} reset to the global model (gpt-4.1-nano)`,
          ),
          {
            ...echo(`global ${tag}`),
            check: (step) => {
              strictEqual(only(step).text, `${header}Echo: global ${tag}`);
              strictEqual(requestFor(fake, `global ${tag}`).body.model, "gpt-4.1-nano");
            },
          },
        ];
      };

      const plans = rooms.map((room) => ({
        room,
        cases: cases(room.id, `${room.encrypted ? "secret" : "plain"}-${unique("")}`),
      }));
      const nioStarted = performance.now();
      const run = await runNio({
        homeserver: SYNAPSE_URL,
        user: nio.user_id,
        password: nioPassword,
        displayname: nioDisplay,
        rooms: rooms.map((r) => r.id),
        peer: setup.userId,
        timeout: 60,
        steps: plans.flatMap((p) =>
          p.cases.map((c) => ({
            room: p.room.id,
            send: c.send,
            expect: c.expect,
            mentions: c.mentions,
            settle_ms: c.settleMs ?? 0,
          }))
        ),
      });
      console.log(
        `nio driver: ${run.steps.length} steps in ${
          Math.round(performance.now() - nioStarted)
        } ms; late decrypts: ${
          run.steps.flatMap((s) => s.messages).filter((m) => m.late_decrypt).length
        }`,
      );
      const failed = run.steps.find((s) => !s.ok);
      strictEqual(
        run.code,
        0,
        `driver failed: ${run.stderr.slice(-3000)}\n${JSON.stringify(failed ?? {}, null, 1)}`,
      );
      deepStrictEqual(run.ready?.rooms, {
        [secret]: { encrypted: true },
        [plain]: { encrypted: false },
      });

      let offset = 0;
      for (const plan of plans) {
        const first = offset;
        offset += plan.cases.length;
        const kind = plan.room.encrypted ? "encrypted" : "plain";
        await t.step(`every user command in the ${kind} room`, () => {
          for (const [i, c] of plan.cases.entries()) {
            const step = run.steps[first + i];
            strictEqual(step.send, c.send);
            strictEqual(step.sent_encrypted, plan.room.encrypted);
            c.check(step);
            for (const m of step.messages) {
              strictEqual(m.sender, setup.userId);
              // Encrypted room: every reply and every edit came as Megolm and
              // nio decrypted it; plain room: nothing was encrypted.
              strictEqual(m.encrypted, plan.room.encrypted, `${c.send}: encrypted`);
              strictEqual(m.decrypted, plan.room.encrypted, `${c.send}: decrypted by nio`);
              for (const e of m.edits) {
                strictEqual(e.encrypted, plan.room.encrypted, `${c.send}: edit encrypted`);
                strictEqual(e.decrypted, plan.room.encrypted, `${c.send}: edit decrypted`);
              }
            }
          }
        });
      }

      await t.step("alice (js-sdk) decrypts the bot's answer to the nio user", async () => {
        const hello = plans[0].cases[0].expect;
        const seen = await alice.waitForMessage(
          secret,
          setup.userId,
          (text) => text === `${header}${hello}`,
        );
        ok(seen.encrypted, "the answer was encrypted");
        strictEqual(seen.eventId, run.steps[0].messages[0].event_id, "the same event nio saw");
      });
    } finally {
      strictEqual((await bot.stop()).code, 0);
      alice.stop();
      await setup.remove();
      console.log(`nio e2e wall time: ${Math.round(performance.now() - started)} ms`);
    }
  },
});
