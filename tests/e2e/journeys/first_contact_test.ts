/**
 * First contact, from the user's side: a room with a conversation in it, a
 * user who is not an admin invites the bot, the operator lists the room by
 * its alias in `matrix.channels` and starts the bot for the first time.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { FakeOpenAI } from "../../fixtures/fake_openai.ts";
import { type BotProcess, setupBot, unique } from "../helpers.ts";
import { type NioLine, NioPeer } from "./nio_peer.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test({
  name:
    "first contact: invited by a non-admin before its first start and listed by alias, the bot joins, stays, answers only what is written after its join — in a plain and an encrypted room, to a matrix-nio user — and a restart keeps it there",
  ...opts,
  async fn() {
    const started = performance.now();
    await using fake = FakeOpenAI.start();
    const tag = unique("fc");
    const kinds = ["plain", "secret"] as const;
    const alias = (kind: string) => `${tag}-${kind}`;
    // No admins: the user who invites the bot is not one.
    const setup = await setupBot({ providerUrl: fake.url });
    const botId = setup.userId;
    const server = botId.split(":")[1];
    await setup.reconfigure({ matrix: { channels: kinds.map((k) => `#${alias(k)}:${server}`) } });
    // Each kind's steps, in the order the user lives them.
    const steps: Array<Record<string, unknown>> = [];
    const at: Record<string, number> = {};
    const add = (key: string, step: Record<string, unknown>) => {
      at[key] = steps.length;
      steps.push(step);
    };
    for (const k of kinds) {
      add(`create ${k}`, { create: k, alias: alias(k), encrypted: k === "secret" });
    }
    for (const k of kinds) {
      add(`chat ${k}`, { room: `$${k}`, send: `is anyone here? (${k})`, count: 0 });
      add(`early ${k}`, { room: `$${k}`, send: `.ai written before the invite ${k}`, count: 0 });
    }
    for (const k of kinds) add(`invite ${k}`, { room: `$${k}`, invite: botId });
    for (const k of kinds) {
      add(`invited ${k}`, { room: `$${k}`, send: `.ai written while invited ${k}`, count: 0 });
    }
    for (const k of kinds) add(`joined ${k}`, { room: `$${k}`, wait_member: botId });
    for (const k of kinds) {
      add(`first ${k}`, {
        room: `$${k}`,
        send: `.ai first after the join ${k}`,
        expect: `Echo: first after the join ${k}`,
      });
    }
    add("restarted", { wait_signal: "restarted" });
    for (const k of kinds) {
      add(`again ${k}`, {
        room: `$${k}`,
        send: `.ai after the restart ${k}`,
        expect: `Echo: after the restart ${k}`,
      });
    }
    // Long enough for a wrongly answered old message to show up too.
    for (const k of kinds) add(`report ${k}`, { room: `$${k}`, report: true, settle_ms: 1500 });

    const nio = await NioPeer.start({ peer: botId, timeout: 60, steps }, "user");
    const runs: BotProcess[] = [];
    try {
      const lastBefore = await nio.step(at["invited secret"]);
      ok(lastBefore.sent_encrypted, "the encrypted room encrypts");
      const history: NioLine[] = [];
      for (const k of kinds) {
        for (const key of [`chat ${k}`, `early ${k}`, `invited ${k}`]) {
          history.push(await nio.step(at[key]));
        }
      }

      // The operator's first start.
      runs.push(await setup.start());
      await runs[0].ready();
      for (const k of kinds) {
        await nio.step(at[`joined ${k}`]);
        const first = await nio.step(at[`first ${k}`]);
        strictEqual(first.ok, true, first.error);
      }

      // The operator restarts it.
      strictEqual((await runs[0].stop("SIGTERM")).code, 0);
      runs.push(await setup.start());
      await runs[1].ready();
      await nio.signal("restarted");
      for (const k of kinds) strictEqual((await nio.step(at[`again ${k}`])).ok, true);

      for (const k of kinds) {
        const report = await nio.step(at[`report ${k}`]);
        const texts = (report.report ?? []).map((m) => m.text);
        strictEqual(texts.length, 2, `two answers in the ${k} room: ${JSON.stringify(texts)}`);
        ok(texts[0].endsWith(`Echo: first after the join ${k}`), texts[0]);
        ok(texts[1].endsWith(`Echo: after the restart ${k}`), texts[1]);
        const memberships = (report.memberships ?? []).map((m) => m.membership);
        ok(!memberships.includes("leave"), `the bot never left the ${k} room: ${memberships}`);
        deepStrictEqual(memberships.at(-1), "join");
        if (k === "secret") {
          ok(report.report!.every((m) => m.decrypted), "the answers were encrypted");
        }
      }
      const log = runs.flatMap((r) => r.log);
      ok(!log.some((l) => /Declined the invite/.test(l)), "no invite was declined");
      for (const line of history) {
        const id = line.sent_event_id!;
        const mentions = log.filter((l) => l.includes(id));
        deepStrictEqual(mentions, [], `the bot never looked at ${line.send} (${id})`);
      }
      const asked = fake.chats.map((r) => JSON.stringify(r.messages));
      ok(
        !asked.some((m) => /before the invite|while invited|anyone here/.test(m)),
        "the model never saw the history",
      );
      console.log(`first contact: ${((performance.now() - started) / 1000).toFixed(1)} s`);
    } catch (error) {
      for (const [i, run] of runs.entries()) {
        console.error(`--- bot run ${i}\n${run.log.slice(-40).join("\n")}`);
      }
      throw error;
    } finally {
      for (const run of runs) await run.stop();
      await nio.close();
      await setup.remove();
    }
  },
});
