/**
 * Moving from another bot (the Python infinigpt-matrix writes its device id
 * into config.json): a configured device id whose device already has
 * encryption keys from another client is not reused, or the bot could read
 * nothing in encrypted rooms.
 */
import { match, ok, strictEqual } from "node:assert/strict";
import "fake-indexeddb/auto";
import * as sdk from "matrix-js-sdk";
import { FakeOpenAI } from "../fixtures/fake_openai.ts";
import { setupBot, SYNAPSE_URL, TestClient, waitFor } from "./helpers.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test({
  name:
    "a configured device_id that another client's keys occupy is replaced by a new device, and encrypted rooms work",
  ...opts,
  async fn() {
    await using fake = FakeOpenAI.start();
    const alice = await TestClient.create("alice");
    const setup = await setupBot({ providerUrl: fake.url, admins: [alice.userId] });
    // The old bot: the same account logged in as device OLDBOT, keys uploaded.
    const login = await (await fetch(`${SYNAPSE_URL}/_matrix/client/v3/login`, {
      method: "POST",
      body: JSON.stringify({
        type: "m.login.password",
        identifier: { type: "m.id.user", user: setup.userId },
        password: setup.password,
        device_id: "OLDBOT",
      }),
    })).json();
    const old = sdk.createClient({
      baseUrl: SYNAPSE_URL,
      userId: login.user_id,
      deviceId: login.device_id,
      accessToken: login.access_token,
    });
    await old.initRustCrypto({ useIndexedDB: false });
    await old.startClient({ initialSyncLimit: 0 });
    await waitFor("the old device's keys on the homeserver", async () => {
      const keys = await (await fetch(`${SYNAPSE_URL}/_matrix/client/v3/keys/query`, {
        method: "POST",
        headers: { authorization: `Bearer ${login.access_token}` },
        body: JSON.stringify({ device_keys: { [setup.userId]: ["OLDBOT"] } }),
      })).json();
      return keys.device_keys?.[setup.userId]?.OLDBOT;
    });
    old.stopClient();
    await setup.reconfigure({ matrix: { device_id: "OLDBOT" } });
    const bot = await setup.start();
    try {
      await bot.ready();
      const warning = await bot.waitForLog(/Device OLDBOT \(matrix\.device_id\) already has/);
      match(warning, /using a new device instead/);
      const device = JSON.parse(await Deno.readTextFile(`${setup.storePath}/session.json`))
        .device_id;
      ok(device !== "OLDBOT", "a new device");
      const room = await alice.createRoom({ invite: [setup.userId] });
      await alice.waitForJoin(room, setup.userId);
      await alice.send(room, ".ai after the move");
      const reply = await alice.waitForMessage(
        room,
        setup.userId,
        (t) => t.endsWith("Echo: after the move"),
        60_000,
      );
      ok(reply.encrypted);
    } finally {
      strictEqual((await bot.stop()).code, 0);
      alice.stop();
      await setup.remove();
    }
  },
});
