/**
 * Journey: a user of an older client verifies the bot with emoji the classic
 * way (decision 31). matrix-nio sends a to-device `m.key.verification.start`
 * with no request before it (`start_key_verification`), as the Python bot's
 * users' clients did; the real bot process answers it against the real
 * Synapse, under `matrix.verification.accept_from`.
 */
import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import { FakeOpenAI } from "../../fixtures/fake_openai.ts";
import {
  type BotProcess,
  type BotSetup,
  registerUser,
  ROOT,
  setupBot,
  TestClient,
  unique,
} from "../helpers.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const PYTHON = "/usr/bin/python3";
const DRIVER = `${ROOT}/tests/e2e/nio_client.py`;
// INFINIGPT_E2E_BOT_LOG_LEVEL=DEBUG shows the crypto's verification steps in failures.
const botEnv: Record<string, string> = {
  INFINIGPT_LOG_LEVEL: Deno.env.get("INFINIGPT_E2E_BOT_LOG_LEVEL") ?? "INFO",
};

/** What the nio driver reports for a "verify" step. */
interface VerifyStep {
  ok: boolean;
  error?: string;
  transaction_id?: string;
  emoji?: string[];
  verified?: boolean;
  device_verified?: boolean;
  cancel?: { code: string; reason: string } | null;
  received?: string[];
}

/** A nio user, registered, with the plan fields the driver needs to log in. */
async function nioUser(prefix: string): Promise<{ user: string; password: string }> {
  const name = unique(prefix);
  const password = `pw-${name}`;
  const { user_id } = await registerUser(name, password);
  return { user: user_id, password };
}

/** Runs nio_client.py with one "verify" step; returns that step's report. */
async function nioVerifies(bot: BotProcess, plan: {
  user: string;
  password: string;
  rooms: string[];
  bot: string;
  device: string;
  expect: "verified" | "cancel";
}): Promise<VerifyStep> {
  const child = new Deno.Command(PYTHON, {
    args: [DRIVER],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify({
    homeserver: Deno.env.get("SYNAPSE_URL") ?? "http://127.0.0.1:8008",
    user: plan.user,
    password: plan.password,
    rooms: plan.rooms,
    timeout: 90,
    steps: [{ verify: plan.bot, device: plan.device, expect: plan.expect }],
  })));
  await writer.close();
  const output = await child.output();
  const lines = new TextDecoder().decode(output.stdout).split("\n").filter((l) => l.trim());
  const step = lines.map((l) => JSON.parse(l)).find((l) => "verify" in l) as
    | VerifyStep
    | undefined;
  const stderr = new TextDecoder().decode(output.stderr).slice(-2000);
  const botLog = `last bot log lines:\n${bot.log.slice(-30).join("\n")}`;
  ok(step, `nio reported no verify step (exit ${output.code}): ${stderr}\n${botLog}`);
  ok(
    step.ok && output.code === 0,
    `nio: ${step.error ?? `exit ${output.code}`}\n${stderr}\n${botLog}`,
  );
  return step;
}

/** The bot's device id, from the session it keeps in its store. */
async function botDeviceId(setup: BotSetup): Promise<string> {
  return JSON.parse(await Deno.readTextFile(`${setup.storePath}/session.json`)).device_id;
}

/**
 * The emoji symbols the bot logged for `user`. Only the symbols are compared:
 * the names are each client's translation (the bot's Rust crypto says
 * "Spanner" where nio says "Wrench" for 🔧).
 */
async function botEmoji(bot: BotProcess, user: string): Promise<string[]> {
  const line = await bot.waitForLog(
    new RegExp(`Emoji verification requested by ${escape(user)}: `),
  );
  return symbols(line.slice(line.indexOf(`${user}: `) + user.length + 2).split(", "));
}

/** The symbols of "🐶 Dog" strings. */
function symbols(emoji: string[] | undefined): string[] {
  return (emoji ?? []).map((e) => e.split(" ")[0]);
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Starts a bot with `config`, an operator who is its admin, and `rooms` with the given nio users. */
async function startBot(fake: FakeOpenAI, admins: string[], config: Record<string, unknown>) {
  const operator = await TestClient.create("operator");
  const setup = await setupBot({
    providerUrl: fake.url,
    admins: [operator.userId, ...admins],
    config,
  });
  const bot = await setup.start(botEnv);
  await bot.ready();
  return { operator, setup, bot, device: await botDeviceId(setup) };
}

Deno.test({
  name:
    "a user of an older client verifies the bot with emoji the classic way: the bot accepts the matrix-nio start, both sides show the same emojis, nio trusts the bot's device and the bot logs success",
  ...opts,
  async fn() {
    await using fake = FakeOpenAI.start();
    const nio = await nioUser("nio");
    const { operator, setup, bot, device } = await startBot(fake, [], {});
    try {
      const room = await operator.createRoom({ invite: [setup.userId, nio.user] });
      await operator.waitForJoin(room, setup.userId);
      // nio starts right after joining: the bot may not have fetched nio's
      // device keys yet, which it has to handle too.
      const step = await nioVerifies(bot, {
        ...nio,
        rooms: [room],
        bot: setup.userId,
        device,
        expect: "verified",
      });
      strictEqual(step.device_verified, true, "nio's store marks the bot's device verified");
      strictEqual(step.cancel, null);
      deepStrictEqual(
        step.received,
        ["m.key.verification.accept", "m.key.verification.key", "m.key.verification.mac"],
        "the bot accepted, sent its key and its MAC",
      );
      deepStrictEqual(await botEmoji(bot, nio.user), symbols(step.emoji), "the same seven emojis");
      strictEqual(step.emoji?.length, 7);
      const success = await bot.waitForLog(
        new RegExp(`Emoji verification was successful\\. \\(${escape(nio.user)}, device `),
        30_000,
      );
      ok(success.includes(`device ${(await nioDevice(bot, nio.user))})`), success);
      ok(!bot.log.some((l) => l.includes("Verification cancelled")), "nothing was cancelled");
    } finally {
      await bot.stop();
      operator.stop();
      await setup.remove();
    }
  },
});

/** The nio device the bot said it verifies with (from its "accepting" line). */
async function nioDevice(bot: BotProcess, user: string): Promise<string> {
  const line = await bot.waitForLog(
    new RegExp(`Verification from ${escape(user)} \\(device (\\S+), started without a request\\)`),
  );
  return line.match(/\(device (\S+),/)![1];
}

Deno.test({
  name:
    'classic emoji verification with accept_from "admins": a non-admin on an older client is cancelled with a reason and the bot logs why; an admin who shares only a plain room with the bot gets verified',
  ...opts,
  async fn() {
    await using fake = FakeOpenAI.start();
    const [stranger, admin] = await Promise.all([nioUser("nio"), nioUser("nioadmin")]);
    const { operator, setup, bot, device } = await startBot(fake, [admin.user], {
      matrix: { verification: { accept_from: "admins" } },
    });
    try {
      const secret = await operator.createRoom({ invite: [setup.userId, stranger.user] });
      const plain = await operator.createRoom({
        invite: [setup.userId, admin.user],
        encrypted: false,
      });
      await operator.waitForJoin(secret, setup.userId);
      await operator.waitForJoin(plain, setup.userId);
      const [refused, accepted] = await Promise.all([
        nioVerifies(bot, {
          ...stranger,
          rooms: [secret],
          bot: setup.userId,
          device,
          expect: "cancel",
        }),
        nioVerifies(bot, {
          ...admin,
          rooms: [plain],
          bot: setup.userId,
          device,
          expect: "verified",
        }),
      ]);

      deepStrictEqual(refused.cancel, {
        code: "m.user",
        reason: "This bot accepts verification only from its admins",
      });
      deepStrictEqual(refused.received, ["m.key.verification.cancel"], "never accepted");
      strictEqual(refused.device_verified, false);
      strictEqual(refused.emoji, undefined, "no emojis were ever shown to the stranger");
      match(
        await bot.waitForLog(new RegExp(`Verification from ${escape(stranger.user)} `)),
        /started without a request\) declined: matrix\.verification\.accept_from is admins$/,
      );
      ok(!bot.log.some((l) => l.includes(`Emoji verification requested by ${stranger.user}`)));

      // Neither shares an encrypted room, so the bot had to fetch the admin's
      // device keys before it could answer.
      strictEqual(accepted.device_verified, true);
      deepStrictEqual(await botEmoji(bot, admin.user), symbols(accepted.emoji));
      await bot.waitForLog(
        new RegExp(`Emoji verification was successful\\. \\(${escape(admin.user)}, device `),
        30_000,
      );
      ok(
        !bot.log.some((l) => l.includes(`Emoji verification was successful. (${stranger.user}`)),
      );
    } finally {
      await bot.stop();
      operator.stop();
      await setup.remove();
    }
  },
});
