/**
 * The image row of `deno task bench` (decision 34): the latency a 1 MB
 * encrypted image adds to an answer, as server timestamps (reply − message)
 * of `.ai` captions on a 1 MB image against plain `.ai` messages, in an
 * encrypted room with a zero-latency model. Upload time is the sender's, so
 * it is not counted; the bot's part is the download, the hash check, the
 * decryption and the larger request.
 *
 * @module
 */
import { FakeOpenAI } from "../tests/fixtures/fake_openai.ts";
import { setupBot, TestClient } from "../tests/e2e/helpers.ts";
import { fmt, type Stats, stats } from "./lib.ts";

/** Medians of both kinds of message, and their difference. */
export interface ImageLatency {
  text: Stats;
  image: Stats;
  /** Median image − median text, ms. */
  added: number;
}

/** A PNG header followed by random bytes: `size` bytes that sniff as PNG. */
function pngOf(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let at = 0; at < size; at += 65_536) {
    crypto.getRandomValues(bytes.subarray(at, Math.min(size, at + 65_536)));
  }
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return bytes;
}

/** Measures `n` images and `n` texts (after one warm-up each). */
export async function imageLatency(n: number): Promise<ImageLatency> {
  await using fake = FakeOpenAI.start();
  const alice = await TestClient.create("alice");
  const setup = await setupBot({
    providerUrl: fake.url,
    admins: [alice.userId],
    config: { llm: { thinking: false } },
  });
  const bot = await setup.start();
  try {
    await bot.ready();
    const room = await alice.createRoom({ encrypted: true, invite: [setup.userId] });
    await alice.waitForJoin(room, setup.userId);
    const serverMs = async (id: string, text: string) => {
      const seen = await alice.waitForMessage(
        room,
        setup.userId,
        (t) => t.includes(`Echo: ${text}`),
        120_000,
      );
      const sent = alice.client.getRoom(room)?.findEventById(id)?.getTs() ??
        (await alice.client.fetchRoomEvent(room, id)).origin_server_ts!;
      return seen.ts - sent;
    };
    const texts: number[] = [], images: number[] = [];
    for (let i = -1; i < n; i++) {
      const plain = `plain ${i}`;
      const t = await serverMs(await alice.send(room, `.ai ${plain}`), plain);
      const caption = `photo ${i}`;
      const id = await alice.sendMedia(room, {
        kind: "image",
        bytes: pngOf(1_000_000),
        name: `photo${i}.png`,
        mimetype: "image/png",
        caption: `.ai ${caption}`,
      });
      const m = await serverMs(id, caption);
      if (i >= 0) {
        texts.push(t);
        images.push(m);
      }
      // A fresh thread each round: every request carries one image, as the first one did.
      await alice.send(room, ".reset");
      await alice.waitForMessage(room, setup.userId, (x) => x.includes("reset to default"));
      alice.seen.length = 0;
    }
    const text = stats(texts), image = stats(images);
    return { text, image, added: image.median - text.median };
  } finally {
    await bot.stop();
    alice.stop();
    await setup.remove();
  }
}

/** The bench rows. */
export function imageRows(result: ImageLatency): Array<[string, string, string]> {
  return [
    ["6. reply − message (server ts), .ai text, encrypted", fmt(result.text, "ms"), ""],
    ["6. reply − message (server ts), .ai on a 1 MB encrypted image", fmt(result.image, "ms"), ""],
    ["6. added latency of a 1 MB encrypted image (medians)", `${Math.round(result.added)} ms`, ""],
  ];
}
