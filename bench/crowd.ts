/**
 * Many users in many encrypted rooms with the bot, for the benchmarks.
 *
 * @module
 */
import { TestClient } from "../tests/e2e/helpers.ts";

/** Users of a crowd and the rooms they are in. */
export interface Crowd {
  users: TestClient[];
  rooms: string[];
  /** Room → users in it. */
  members: Map<string, TestClient[]>;
}

/**
 * Registers `users` clients and creates `rooms` encrypted rooms with the bot;
 * each user is in one room, or in all of them with `allInAll`.
 */
export async function crowd(
  owner: TestClient,
  bot: string,
  users: number,
  rooms: number,
  allInAll: boolean,
): Promise<Crowd> {
  const clients = await Promise.all(Array.from({ length: users }, () => TestClient.create("u")));
  const list: string[] = [];
  const members = new Map<string, TestClient[]>();
  for (let r = 0; r < rooms; r++) {
    const inRoom = allInAll ? clients : clients.filter((_, i) => i % rooms === r);
    const room = await owner.createRoom({ invite: [bot, ...inRoom.map((c) => c.userId)] });
    await Promise.all(inRoom.map((c) => c.join(room)));
    await owner.waitForJoin(room, bot);
    for (const c of inRoom) await owner.waitForJoin(room, c.userId);
    list.push(room);
    members.set(room, inRoom);
  }
  // Let every client learn every device before the measured messages.
  await new Promise((r) => setTimeout(r, 2000));
  return { users: clients, rooms: list, members };
}
