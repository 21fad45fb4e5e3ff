/**
 * The floor for the reply-overhead benchmark: a minimal matrix-js-sdk client
 * with Rust crypto that answers every `.ai <text>` with `Echo: <text>`, the
 * same encrypted room, the same Synapse, nothing else. Run as its own process:
 * `deno run -A --conditions=matrix-org:wasm-esm bench/echo_client.ts <json>`
 * with `{"baseUrl","userId","deviceId","accessToken"}`; prints `READY`.
 *
 * @module
 */
import "fake-indexeddb/auto";
import * as sdk from "matrix-js-sdk";
import { routeSdkLogs } from "../lib/matrix_client.ts";

routeSdkLogs(false);
const login = JSON.parse(Deno.args[0]) as {
  baseUrl: string;
  userId: string;
  deviceId: string;
  accessToken: string;
};
const client = sdk.createClient({ ...login, store: new sdk.MemoryStore() });
await client.initRustCrypto({ useIndexedDB: false });
let prepared = false;
client.on(sdk.RoomMemberEvent.Membership, (_event, member) => {
  if (member.userId === login.userId && member.membership === "invite") {
    void client.joinRoom(member.roomId);
  }
});
client.on(sdk.RoomEvent.Timeline, async (event, room, toStart, _removed, data) => {
  if (!prepared || toStart || !data?.liveEvent || !room || event.getSender() === login.userId) {
    return;
  }
  await client.decryptEventIfNeeded(event);
  const body = event.getContent().body;
  if (
    event.getType() !== "m.room.message" || typeof body !== "string" || !body.startsWith(".ai ")
  ) return;
  const send = client.sendEvent.bind(client) as unknown as (
    r: string,
    t: string,
    c: Record<string, unknown>,
  ) => Promise<unknown>;
  await send(room.roomId, "m.room.message", { msgtype: "m.text", body: `Echo: ${body.slice(4)}` });
});
client.on(sdk.ClientEvent.Sync, (state) => {
  if (state === "PREPARED" && !prepared) {
    prepared = true;
    console.log("READY");
  }
});
await client.startClient({ initialSyncLimit: 1 });
