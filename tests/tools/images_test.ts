import { deepStrictEqual, match, ok, rejects, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { builtinTools } from "../../lib/tools/builtins.ts";
import { geminiImage, grokImage, IMAGE_POSTED, openaiImage } from "../../lib/tools/images.ts";
import type { BuiltinImplementation, BuiltinOptions, KeyName } from "../../lib/tools/options.ts";
import { ToolOutput, ToolRegistry } from "../../lib/tools/registry.ts";
import { LocalApi, type LocalHandler } from "../fixtures/local_api.ts";

/** A valid 1x1 PNG. */
const PNG_B64 =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
const PNG = Uint8Array.fromBase64(PNG_B64);
/** A valid 1x1 GIF. */
const GIF_B64 = "R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7";
const GIF = Uint8Array.fromBase64(GIF_B64);
/** Base64 of bytes that are no image. */
const TEXT_B64 = btoa("<html>definitely not an image</html>");

/** The Google key needs URL-encoding, so both of its forms must be kept out of errors. */
const KEYS: Record<KeyName, string> = {
  openai: "sk-openai-SECRET-1111",
  xai: "xai-SECRET-2222",
  google: "AIza+SECRET/3333=",
};

const POSTED = JSON.stringify({ result: IMAGE_POSTED });

interface Env extends AsyncDisposable {
  server: LocalApi;
  dir: string;
  options: BuiltinOptions;
}

/** A local server playing the providers, a temp images dir, and options pointing at both. */
async function setup(handler?: LocalHandler, extra: Partial<BuiltinOptions> = {}): Promise<Env> {
  const server = LocalApi.start(handler);
  const dir = await Deno.makeTempDir({ prefix: "images_test_" });
  const options: BuiltinOptions = {
    endpoints: {
      openai: `${server.origin}/v1`,
      xai: `${server.origin}/v1`,
      gemini: `${server.origin}/v1beta`,
    },
    key: (name) => KEYS[name],
    imagesDir: dir,
    ...extra,
  };
  return {
    server,
    dir,
    options,
    async [Symbol.asyncDispose]() {
      await server.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** The origin of a port nothing listens on any more. */
async function closedOrigin(): Promise<string> {
  const server = LocalApi.start();
  const origin = server.origin;
  await server.close();
  return origin;
}

function call(signal: AbortSignal = new AbortController().signal) {
  return { signal };
}

async function files(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  return names.sort();
}

/** Checks a successful image result and the file behind it; returns the file name. */
async function assertPosted(
  value: unknown,
  dir: string,
  prefix: string,
  bytes: Uint8Array,
  mimetype: string,
): Promise<string> {
  ok(value instanceof ToolOutput, `expected a ToolOutput, got ${JSON.stringify(value)}`);
  strictEqual(value.content, POSTED);
  strictEqual(value.images.length, 1);
  const [image] = value.images;
  deepStrictEqual(image.bytes, bytes);
  strictEqual(image.mimetype, mimetype);
  match(image.name, new RegExp(`^${prefix}_\\d{8}-\\d{6}-[0-9a-f]{8}\\.(png|gif)$`));
  ok(!value.content.includes(image.name), "the file name is not shown to the model");
  deepStrictEqual(await files(dir), [image.name]);
  deepStrictEqual(await Deno.readFile(join(dir, image.name)), bytes);
  return image.name;
}

const json = (value: unknown, status = 200) => Response.json(value, { status });

// --- openai_image -------------------------------------------------------------

Deno.test("openai_image saves the returned image and hands its bytes to the chat", async () => {
  await using env = await setup(() => json({ created: 1, data: [{ b64_json: PNG_B64 }] }));
  const value = await openaiImage.run({ prompt: "a red dot" }, call(), env.options);
  await assertPosted(value, env.dir, "openai_image", PNG, "image/png");
});

Deno.test("openai_image posts gpt-image-1 with the prompt, low moderation and medium quality by default", async () => {
  await using env = await setup(() => json({ data: [{ b64_json: PNG_B64 }] }));
  await openaiImage.run({ prompt: "a red dot" }, call(), env.options);
  strictEqual(env.server.requests.length, 1);
  const [req] = env.server.requests;
  strictEqual(req.method, "POST");
  strictEqual(req.url.pathname, "/v1/images/generations");
  strictEqual(req.url.search, "");
  strictEqual(req.headers.get("authorization"), `Bearer ${KEYS.openai}`);
  match(req.headers.get("content-type") ?? "", /^application\/json/);
  deepStrictEqual(req.json, {
    model: "gpt-image-1",
    prompt: "a red dot",
    n: 1,
    moderation: "low",
    quality: "medium",
  });
});

Deno.test("openai_image passes the quality the model asked for", async () => {
  await using env = await setup(() => json({ data: [{ b64_json: PNG_B64 }] }));
  await openaiImage.run({ prompt: "p", quality: "high" }, call(), env.options);
  strictEqual((env.server.requests[0].json as { quality: string }).quality, "high");
});

Deno.test("openai_image names the file after the injected clock", async () => {
  await using env = await setup(() => json({ data: [{ b64_json: PNG_B64 }] }), {
    now: () => new Date(2024, 0, 2, 3, 4, 5),
  });
  const value = await openaiImage.run({ prompt: "p" }, call(), env.options) as ToolOutput;
  match(value.images[0].name, /^openai_image_20240102-030405-[0-9a-f]{8}\.png$/);
});

for (const status of [400, 401, 500]) {
  Deno.test(`openai_image reports HTTP ${status} with the provider's body`, async () => {
    const body = `{"error":{"message":"failure ${status}"}}`;
    await using env = await setup(() => new Response(body, { status }));
    const value = await openaiImage.run({ prompt: "p" }, call(), env.options);
    deepStrictEqual(value, { error: `HTTP ${status}: ${body}` });
    deepStrictEqual(await files(env.dir), []);
  });
}

Deno.test("openai_image does not leak the key when a 401 body echoes it", async () => {
  await using env = await setup(() =>
    json({
      error: { message: `Incorrect API key provided: ${KEYS.openai}. Again: ${KEYS.openai}` },
    }, 401)
  );
  const value = await openaiImage.run({ prompt: "p" }, call(), env.options) as { error: string };
  ok(!value.error.includes(KEYS.openai), value.error);
  match(value.error, /^HTTP 401: .*Incorrect API key provided: \*\*\*\. Again: \*\*\*/);
});

Deno.test("openai_image cuts a long error body to 500 characters", async () => {
  await using env = await setup(() => new Response("x".repeat(2000), { status: 500 }));
  const value = await openaiImage.run({ prompt: "p" }, call(), env.options);
  deepStrictEqual(value, { error: `HTTP 500: ${"x".repeat(500)}` });
});

Deno.test("openai_image without a key says which settings give one and sends nothing", async () => {
  await using env = await setup(undefined, { key: () => undefined });
  const value = await openaiImage.run({ prompt: "p" }, call(), env.options);
  deepStrictEqual(value, {
    error: "Missing OpenAI API key (OPENAI_API_KEY or llm.api_keys.openai)",
  });
  strictEqual(env.server.requests.length, 0);
});

Deno.test("openai_image without an images directory refuses before calling the provider", async () => {
  await using env = await setup();
  const value = await openaiImage.run({ prompt: "p" }, call(), {
    ...env.options,
    imagesDir: undefined,
  });
  deepStrictEqual(value, { error: "No images directory configured" });
  strictEqual(env.server.requests.length, 0);
});

const emptyReplies: Array<[string, () => Response]> = [
  ["an empty data list", () => json({ data: [] })],
  ["no data at all", () => json({ created: 1 })],
  ["a data item without b64_json", () => json({ data: [{ url: "http://example.invalid/x.png" }] })],
  ["a body that is not JSON", () => new Response("ok")],
];
for (const [what, reply] of emptyReplies) {
  Deno.test(`openai_image answers "No image data returned" for ${what}`, async () => {
    await using env = await setup(reply);
    const value = await openaiImage.run({ prompt: "p" }, call(), env.options);
    deepStrictEqual(value, { error: "No image data returned" });
    deepStrictEqual(await files(env.dir), []);
  });
}

const notImages: Array<[string, string]> = [
  ["text bytes", TEXT_B64],
  ["invalid base64", "@@not base64@@"],
];
for (const [what, data] of notImages) {
  Deno.test(`openai_image refuses ${what} that are not an image and writes nothing`, async () => {
    await using env = await setup(() => json({ data: [{ b64_json: data }] }));
    const value = await openaiImage.run({ prompt: "p" }, call(), env.options);
    deepStrictEqual(value, { error: "The provider returned data that is not an image" });
    deepStrictEqual(await files(env.dir), []);
  });
}

Deno.test("openai_image gives up when the call is cancelled while the provider never answers", async () => {
  await using env = await setup((_req, server) => server.hang());
  await rejects(
    openaiImage.run({ prompt: "p" }, call(AbortSignal.timeout(100)), env.options),
    /cancelled/,
  );
  strictEqual(env.server.requests.length, 1);
});

Deno.test("openai_image through the registry: a hung provider ends in a timeout error", async () => {
  await using env = await setup((_req, server) => server.hang());
  const tools = builtinTools(env.options).map((t) =>
    t.definition.function.name === "openai_image" ? { ...t, timeoutMs: 100 } : t
  );
  const result = await new ToolRegistry(tools).call("openai_image", { prompt: "p" });
  strictEqual(result.ok, false);
  deepStrictEqual(JSON.parse(result.content), {
    error: "Tool execution error for openai_image: timed out after 0.1 s",
  });
  deepStrictEqual(result.images, []);
});

const toolTimeouts: Array<[string, BuiltinImplementation, number]> = [
  ["openai_image", openaiImage, 180_000],
  ["grok_image", grokImage, 120_000],
  ["gemini_image", geminiImage, 120_000],
];
for (const [name, impl, ms] of toolTimeouts) {
  Deno.test(`${name} asks the registry for ${ms / 1000} s instead of the default tool timeout`, () => {
    strictEqual(impl.timeoutMs, ms);
    const tool = builtinTools({}).find((t) => t.definition.function.name === name);
    strictEqual(tool?.timeoutMs, ms);
  });
}

Deno.test("openai_image through the registry: the model sees only that the image was posted", async () => {
  await using env = await setup(() => json({ data: [{ b64_json: PNG_B64 }] }));
  const registry = new ToolRegistry(builtinTools(env.options));
  const result = await registry.call("openai_image", { prompt: "a red dot", quality: "low" });
  strictEqual(result.ok, true);
  strictEqual(result.content, POSTED);
  strictEqual(result.images.length, 1);
  deepStrictEqual(result.images[0].bytes, PNG);
  strictEqual(result.images[0].mimetype, "image/png");
  strictEqual((env.server.requests[0].json as { quality: string }).quality, "low");
  deepStrictEqual(await files(env.dir), [result.images[0].name]);
});

// --- grok_image ---------------------------------------------------------------

/** xAI at /v1/images/generations linking to /files/<name>, served by `file`. */
function grokServer(file: (server: LocalApi) => Response | Promise<Response>) {
  return ((req, server) => {
    if (req.url.pathname === "/v1/images/generations") {
      return json({ data: [{ url: `${server.origin}/files/dot.png`, revised_prompt: "x" }] });
    }
    return file(server);
  }) satisfies LocalHandler;
}

Deno.test("grok_image downloads the linked image, saves it and hands its bytes to the chat", async () => {
  await using env = await setup(grokServer(() => new Response(PNG)));
  const value = await grokImage.run({ prompt: "a red dot" }, call(), env.options);
  await assertPosted(value, env.dir, "grok_image", PNG, "image/png");
  const [generate, download] = env.server.requests;
  strictEqual(generate.method, "POST");
  strictEqual(generate.url.pathname, "/v1/images/generations");
  strictEqual(generate.headers.get("authorization"), `Bearer ${KEYS.xai}`);
  deepStrictEqual(generate.json, { model: "grok-2-image-1212", prompt: "a red dot" });
  strictEqual(download.method, "GET");
  strictEqual(download.url.pathname, "/files/dot.png");
  strictEqual(download.headers.get("authorization"), null, "the key is not sent to the download");
});

Deno.test("grok_image uses b64_json when the provider returns it and downloads nothing", async () => {
  await using env = await setup(() => json({ data: [{ b64_json: GIF_B64, url: "http://x/y" }] }));
  const value = await grokImage.run({ prompt: "p" }, call(), env.options);
  await assertPosted(value, env.dir, "grok_image", GIF, "image/gif");
  strictEqual(env.server.requests.length, 1);
});

for (const status of [400, 401, 500]) {
  Deno.test(`grok_image reports HTTP ${status} with the provider's body`, async () => {
    await using env = await setup(() => new Response(`bad ${status}`, { status }));
    const value = await grokImage.run({ prompt: "p" }, call(), env.options);
    deepStrictEqual(value, { error: `HTTP ${status}: bad ${status}` });
  });
}

Deno.test("grok_image does not leak the key when a 401 body echoes it", async () => {
  await using env = await setup(() => new Response(`invalid key ${KEYS.xai}`, { status: 401 }));
  const value = await grokImage.run({ prompt: "p" }, call(), env.options);
  deepStrictEqual(value, { error: "HTTP 401: invalid key ***" });
});

Deno.test("grok_image without a key says which settings give one", async () => {
  await using env = await setup(undefined, { key: (n) => (n === "xai" ? undefined : "other") });
  const value = await grokImage.run({ prompt: "p" }, call(), env.options);
  deepStrictEqual(value, { error: "Missing xAI API key (XAI_API_KEY or llm.api_keys.xai)" });
  strictEqual(env.server.requests.length, 0);
});

Deno.test("grok_image without an images directory refuses before calling the provider", async () => {
  await using env = await setup();
  const value = await grokImage.run({ prompt: "p" }, call(), { ...env.options, imagesDir: "" });
  deepStrictEqual(value, { error: "No images directory configured" });
  strictEqual(env.server.requests.length, 0);
});

for (
  const [what, reply] of [["an empty data list", { data: [] }], ["an item without url", {
    data: [{}],
  }]] as const
) {
  Deno.test(`grok_image answers "No image url returned" for ${what}`, async () => {
    await using env = await setup(() => json(reply));
    const value = await grokImage.run({ prompt: "p" }, call(), env.options);
    deepStrictEqual(value, { error: "No image url returned" });
  });
}

Deno.test("grok_image reports a download that answers 404", async () => {
  await using env = await setup(grokServer(() => new Response("gone", { status: 404 })));
  const value = await grokImage.run({ prompt: "p" }, call(), env.options);
  deepStrictEqual(value, { error: "Image download failed: HTTP 404" });
  deepStrictEqual(await files(env.dir), []);
});

Deno.test("grok_image reports a download from a server that is not there", async () => {
  const dead = await closedOrigin();
  await using env = await setup(() => json({ data: [{ url: `${dead}/files/dot.png` }] }));
  const value = await grokImage.run({ prompt: "p" }, call(), env.options) as { error: string };
  match(value.error, /^Image download failed: ./);
  deepStrictEqual(await files(env.dir), []);
});

for (
  const url of ["file:///etc/passwd", "data:image/png;base64," + PNG_B64, "ftp://127.0.0.1/x.png"]
) {
  Deno.test(`grok_image refuses to download ${url.slice(0, 20)}… (only http and https)`, async () => {
    await using env = await setup(() => json({ data: [{ url }] }));
    const value = await grokImage.run({ prompt: "p" }, call(), env.options) as { error: string };
    match(value.error, /^Image download failed: unsupported URL scheme/);
    deepStrictEqual(await files(env.dir), []);
  });
}

Deno.test("grok_image refuses a download larger than 20 MB", async () => {
  const chunk = new Uint8Array(1024 * 1024);
  chunk.set(PNG);
  await using env = await setup(grokServer(() => {
    let sent = 0;
    // No content-length: the cap must hold while streaming.
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ >= 25) controller.close();
        else controller.enqueue(chunk);
      },
    });
    return new Response(body);
  }));
  const value = await grokImage.run({ prompt: "p" }, call(), env.options);
  ok(!(value instanceof ToolOutput), "the image was accepted");
  deepStrictEqual(value, { error: "Image download failed: image larger than 20 MB" });
  deepStrictEqual(await files(env.dir), []);
});

Deno.test("grok_image refuses a download that declares more than 20 MB", async () => {
  await using env = await setup(
    grokServer(() =>
      new Response(new Uint8Array(20 * 1024 * 1024 + 1), {
        headers: { "content-length": String(20 * 1024 * 1024 + 1) },
      })
    ),
  );
  const value = await grokImage.run({ prompt: "p" }, call(), env.options);
  ok(!(value instanceof ToolOutput), "the image was accepted");
  deepStrictEqual(value, { error: "Image download failed: image larger than 20 MB" });
});

Deno.test("grok_image refuses a download that is not an image", async () => {
  await using env = await setup(grokServer(() => new Response("<html>login</html>")));
  const value = await grokImage.run({ prompt: "p" }, call(), env.options);
  deepStrictEqual(value, { error: "The provider returned data that is not an image" });
  deepStrictEqual(await files(env.dir), []);
});

Deno.test("grok_image reports a download cut short by the call's cancellation", async () => {
  await using env = await setup(grokServer((server) => server.hang()));
  const value = await grokImage.run({ prompt: "p" }, call(AbortSignal.timeout(150)), env.options);
  deepStrictEqual(value, { error: "Image download failed: cancelled" });
});

Deno.test("grok_image through the registry: the model sees only that the image was posted", async () => {
  await using env = await setup(grokServer(() => new Response(PNG)));
  const result = await new ToolRegistry(builtinTools(env.options)).call("grok_image", {
    prompt: "p",
  });
  strictEqual(result.ok, true);
  strictEqual(result.content, POSTED);
  deepStrictEqual(result.images.map((i) => [i.mimetype, i.bytes]), [["image/png", PNG]]);
  match(result.images[0].name, /^grok_image_/);
});

// --- gemini_image -------------------------------------------------------------

const GEMINI_PATH = "/v1beta/models/gemini-2.5-flash-image-preview:generateContent";

function geminiReply(parts: unknown[]) {
  return () => json({ candidates: [{ content: { role: "model", parts } }] });
}

Deno.test("gemini_image saves the first inline image and hands its bytes to the chat", async () => {
  await using env = await setup(geminiReply([
    { text: "Here you go" },
    { inlineData: { mimeType: "image/png", data: PNG_B64 } },
    { inlineData: { mimeType: "image/gif", data: GIF_B64 } },
  ]));
  const value = await geminiImage.run({ prompt: "a red dot" }, call(), env.options);
  await assertPosted(value, env.dir, "gemini_image", PNG, "image/png");
});

Deno.test("gemini_image posts the prompt with text and image modalities, the key in the query and header", async () => {
  await using env = await setup(geminiReply([{ inlineData: { data: PNG_B64 } }]));
  await geminiImage.run({ prompt: "a red dot" }, call(), env.options);
  const [req] = env.server.requests;
  strictEqual(req.method, "POST");
  strictEqual(req.url.pathname, GEMINI_PATH);
  strictEqual(req.url.searchParams.get("key"), KEYS.google);
  strictEqual(req.headers.get("x-goog-api-key"), KEYS.google);
  match(req.headers.get("content-type") ?? "", /^application\/json/);
  deepStrictEqual(req.json, {
    contents: [{ parts: [{ text: "a red dot" }] }],
    generationConfig: { responseModalities: ["TEXT", "IMAGE"] },
  });
});

Deno.test("gemini_image accepts snake_case inline_data", async () => {
  await using env = await setup(
    geminiReply([{ inline_data: { mime_type: "image/gif", data: GIF_B64 } }]),
  );
  const value = await geminiImage.run({ prompt: "p" }, call(), env.options);
  await assertPosted(value, env.dir, "gemini_image", GIF, "image/gif");
});

const noGeminiImage: Array<[string, () => Response]> = [
  ["text-only parts", geminiReply([{ text: "I cannot draw that." }])],
  ["no candidates", () => json({ candidates: [] })],
  ["a blocked prompt", () => json({ promptFeedback: { blockReason: "SAFETY" } })],
  ["empty inline data", geminiReply([{ inlineData: { data: "" } }])],
];
for (const [what, reply] of noGeminiImage) {
  Deno.test(`gemini_image answers "No image bytes returned" for ${what}`, async () => {
    await using env = await setup(reply);
    const value = await geminiImage.run({ prompt: "p" }, call(), env.options);
    deepStrictEqual(value, { error: "No image bytes returned" });
    deepStrictEqual(await files(env.dir), []);
  });
}

Deno.test("gemini_image refuses inline data that is not an image", async () => {
  await using env = await setup(geminiReply([{ inlineData: { data: TEXT_B64 } }]));
  const value = await geminiImage.run({ prompt: "p" }, call(), env.options);
  deepStrictEqual(value, { error: "The provider returned data that is not an image" });
  deepStrictEqual(await files(env.dir), []);
});

for (const status of [400, 401, 500]) {
  Deno.test(`gemini_image reports HTTP ${status} with the provider's body`, async () => {
    await using env = await setup(() => new Response(`{"error":{"code":${status}}}`, { status }));
    const value = await geminiImage.run({ prompt: "p" }, call(), env.options);
    deepStrictEqual(value, { error: `HTTP ${status}: {"error":{"code":${status}}}` });
  });
}

Deno.test("gemini_image does not leak the key, raw or URL-encoded, from an error body", async () => {
  await using env = await setup((req) =>
    new Response(`API key not valid: ${KEYS.google} (url ${req.url.href})`, { status: 400 })
  );
  const value = await geminiImage.run({ prompt: "p" }, call(), env.options) as { error: string };
  ok(!value.error.includes(KEYS.google), value.error);
  ok(!value.error.includes(encodeURIComponent(KEYS.google)), value.error);
  match(value.error, /^HTTP 400: API key not valid: \*\*\* \(url .*key=\*\*\*\)$/);
});

Deno.test("gemini_image does not leak the key in the URL when the provider cannot be reached", async () => {
  const dead = await closedOrigin();
  await using env = await setup();
  const options = { ...env.options, endpoints: { gemini: `${dead}/v1beta` } };
  const error = await geminiImage.run({ prompt: "p" }, call(), options).then(
    () => undefined,
    (e: Error) => e,
  );
  ok(error instanceof Error, "a transport failure is thrown for the registry to report");
  // Deno's fetch error keeps the URL (with the key) in its cause; none of it may travel on.
  const everything = `${error.message} ${error.stack} ${String(error.cause ?? "")}`;
  ok(!everything.includes(KEYS.google), everything);
  ok(!everything.includes(encodeURIComponent(KEYS.google)), everything);
});

Deno.test("gemini_image removes the key from a transport error message that quotes the URL", async () => {
  await using env = await setup();
  const failing: typeof fetch = (input) =>
    Promise.reject(new TypeError(`error sending request for url (${input}): connection reset`));
  await rejects(
    geminiImage.run({ prompt: "p" }, call(), { ...env.options, fetch: failing }),
    (e: Error) => {
      ok(!e.message.includes(encodeURIComponent(KEYS.google)), e.message);
      ok(!e.message.includes(KEYS.google), e.message);
      match(e.message, /generateContent\?key=\*\*\*\): connection reset/);
      return true;
    },
  );
});

Deno.test("gemini_image through the registry: an unreachable provider's error hides the key", async () => {
  const dead = await closedOrigin();
  await using env = await setup();
  const options = { ...env.options, endpoints: { gemini: `${dead}/v1beta` } };
  const result = await new ToolRegistry(builtinTools(options)).call("gemini_image", {
    prompt: "p",
  });
  strictEqual(result.ok, false);
  match(result.content, /^\{"error":"Tool execution error for gemini_image: /);
  ok(!result.content.includes(encodeURIComponent(KEYS.google)), result.content);
  ok(!result.content.includes(KEYS.google), result.content);
});

Deno.test("gemini_image without a key says which settings give one", async () => {
  await using env = await setup(undefined, { key: (n) => (n === "google" ? undefined : "other") });
  const value = await geminiImage.run({ prompt: "p" }, call(), env.options);
  deepStrictEqual(value, {
    error: "Missing Google API key (GOOGLE_API_KEY or llm.api_keys.google)",
  });
  strictEqual(env.server.requests.length, 0);
});

Deno.test("gemini_image gives up when the call is cancelled while the provider never answers", async () => {
  await using env = await setup((_req, server) => server.hang());
  await rejects(
    geminiImage.run({ prompt: "p" }, call(AbortSignal.timeout(100)), env.options),
    (e: Error) => /cancelled/.test(e.message) && !e.message.includes(KEYS.google),
  );
});

Deno.test("gemini_image through the registry: the model sees only that the image was posted", async () => {
  await using env = await setup(geminiReply([{ inlineData: { data: PNG_B64 } }]));
  const result = await new ToolRegistry(builtinTools(env.options)).call("gemini_image", {
    prompt: "p",
  });
  strictEqual(result.ok, true);
  strictEqual(result.content, POSTED);
  deepStrictEqual(result.images.map((i) => [i.mimetype, i.bytes]), [["image/png", PNG]]);
  match(result.images[0].name, /^gemini_image_/);
});
