import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import type * as sdk from "matrix-js-sdk";
import { encryptAttachment } from "../lib/attachments.ts";
import { MediaError } from "../lib/chat_port.ts";
import type { MediaRef } from "../lib/content.ts";
import { downloadPath, MatrixMedia } from "../lib/matrix_media.ts";

const client = {
  getHomeserverUrl: () => "http://hs.test/",
  getAccessToken: () => "secret-token",
} as unknown as sdk.MatrixClient;

/** A media store answering authenticated downloads, recording the requests. */
function server(files: Record<string, Uint8Array>, headers: Record<string, string> = {}) {
  const seen: Array<{ url: string; auth: string | null }> = [];
  const fetcher = ((input: string, init?: RequestInit) => {
    const auth = new Headers(init?.headers).get("authorization");
    seen.push({ url: input, auth });
    const bytes = files[input];
    return Promise.resolve(
      bytes ? new Response(bytes as BodyInit, { headers }) : new Response("{}", { status: 404 }),
    );
  }) as typeof fetch;
  return { media: new MatrixMedia(client, fetcher), seen };
}

const URL_OF = "http://hs.test/_matrix/client/v1/media/download/hs.example/abcDEF_123";

const paths: Array<[string, string | undefined]> = [
  ["mxc://hs.example/abcDEF_123", "/_matrix/client/v1/media/download/hs.example/abcDEF_123"],
  ["mxc://hs.example:8448/x-y", "/_matrix/client/v1/media/download/hs.example%3A8448/x-y"],
  ["mxc://hs.example/../etc", undefined],
  ["mxc://hs.example/a/b", undefined],
  ["https://hs.example/a", undefined],
  ["mxc://", undefined],
];

for (const [mxc, expected] of paths) {
  Deno.test(`downloadPath(${mxc})`, () => strictEqual(downloadPath(mxc), expected));
}

const plainRef: MediaRef = { url: "mxc://hs.example/abcDEF_123", name: "a.png", mimetype: "" };

Deno.test("a plain attachment comes through authenticated media with the access token", async () => {
  const bytes = new Uint8Array([1, 2, 3]);
  const { media, seen } = server({ [URL_OF]: bytes });
  deepStrictEqual(await media.download(plainRef, 100), bytes);
  deepStrictEqual(seen, [{ url: URL_OF, auth: "Bearer secret-token" }]);
});

Deno.test("an encrypted attachment is hash-checked and decrypted", async () => {
  const plain = crypto.getRandomValues(new Uint8Array(5000));
  const { data, info } = await encryptAttachment(plain);
  const ref = { ...plainRef, file: info as unknown as MediaRef["file"] };
  deepStrictEqual(await server({ [URL_OF]: data }).media.download(ref, 10_000), plain);
  const tampered = data.slice();
  tampered[10] ^= 1;
  await rejects(
    server({ [URL_OF]: tampered }).media.download(ref, 10_000),
    (e) => e instanceof MediaError && e.reason === "its hash does not match",
  );
});

Deno.test("a download larger than allowed stops, by its header or while reading", async () => {
  const big = new Uint8Array(2000);
  for (const headers of [{ "content-length": "2000" }, {}] as Record<string, string>[]) {
    const { media } = server({ [URL_OF]: big }, headers);
    await rejects(media.download(plainRef, 1000), (e) => e instanceof MediaError && e.tooLarge);
  }
});

Deno.test("a failed download says why, without the token", async () => {
  const { media } = server({});
  const error = await media.download(plainRef, 100).catch((e) => e);
  ok(error instanceof MediaError);
  strictEqual(error.reason, "the homeserver answered HTTP 404");
  ok(!String(error.message).includes("secret-token"));
  await rejects(
    media.download({ ...plainRef, url: "https://elsewhere/x" }, 100),
    (e) => e instanceof MediaError && e.reason === "not a Matrix media URI",
  );
});
