/**
 * The image-generation built-ins (reference §5.1, decision 13): OpenAI
 * `gpt-image-1`, xAI Grok and Google Gemini. Each asks its provider for one
 * image, checks that the bytes really are an image, saves them in the bot's
 * images directory and hands them to the chat port as a {@link ToolOutput}.
 * The model only learns that the image was posted, never a file name.
 *
 * Provider keys never appear in results or errors: error bodies can echo
 * them and Gemini's URL carries one.
 *
 * @module
 */
import { decodeBase64 as fromBase64 } from "../base64.ts";
import { readCapped, request } from "./http.ts";
import { sniffImageType } from "../image_type.ts";
import { saveImage } from "./image_files.ts";
import {
  type BuiltinImplementation,
  type BuiltinOptions,
  endpoint,
  type KeyName,
} from "./options.ts";
import { ToolArgumentError, type ToolCallOptions, ToolOutput } from "./registry.ts";

/** What the model is told after a successful image tool call. */
export const IMAGE_POSTED = "Image created and posted to the chat.";

/** Longest provider error body quoted in an error result. */
const MAX_ERROR_BODY = 500;

/** Largest image the Grok download step accepts. */
export const MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024;

const KEY_HELP: Record<KeyName, string> = {
  openai: "Missing OpenAI API key (OPENAI_API_KEY or llm.api_keys.openai)",
  xai: "Missing xAI API key (XAI_API_KEY or llm.api_keys.xai)",
  google: "Missing Google API key (GOOGLE_API_KEY or llm.api_keys.google)",
};

type Result = { error: string } | ToolOutput;

/** `text` with every occurrence of `key` (raw and URL-encoded) replaced by `***`. */
export function redact(text: string, key: string | undefined): string {
  if (!key) return text;
  let out = text.split(key).join("***");
  const encoded = encodeURIComponent(key);
  if (encoded !== key) out = out.split(encoded).join("***");
  return out;
}

/** The provider's error body, without the key and cut to {@link MAX_ERROR_BODY} characters. */
export function errorBody(text: string, key: string | undefined): string {
  return redact(text, key).slice(0, MAX_ERROR_BODY);
}

/** The message of a thrown value with the key removed. */
function messageOf(error: unknown, key: string | undefined): string {
  return redact(error instanceof Error ? error.message : String(error), key);
}

function promptOf(args: Record<string, unknown>): string {
  const prompt = args.prompt;
  if (typeof prompt !== "string" || prompt.trim() === "") {
    throw new ToolArgumentError("prompt: is required");
  }
  return prompt;
}

function decodeBase64(data: string): Uint8Array | undefined {
  try {
    return fromBase64(data);
  } catch {
    return undefined;
  }
}

/** Checks and saves the bytes, answering the model-facing output. */
async function deliver(
  bytes: Uint8Array | undefined,
  prefix: string,
  options: BuiltinOptions,
): Promise<Result> {
  if (!bytes || !sniffImageType(bytes)) {
    return { error: "The provider returned data that is not an image" };
  }
  const { path: _path, ...image } = await saveImage(
    options.imagesDir!,
    prefix,
    bytes,
    options.now?.(),
  );
  return new ToolOutput(JSON.stringify({ result: IMAGE_POSTED }), [image]);
}

/**
 * Runs `body` with the key of `name` once the key and the images directory
 * are known; transport failures are rethrown without the key.
 */
async function withKey(
  name: KeyName,
  options: BuiltinOptions,
  body: (key: string) => Promise<Result>,
): Promise<Result> {
  const key = options.key?.(name);
  if (!key) return { error: KEY_HELP[name] };
  if (!options.imagesDir) return { error: "No images directory configured" };
  try {
    return await body(key);
  } catch (error) {
    if (error instanceof ToolArgumentError) throw error;
    throw new Error(messageOf(error, key));
  }
}

function first(value: unknown): Record<string, unknown> | undefined {
  const data = (value as { data?: unknown } | undefined)?.data;
  const item = Array.isArray(data) ? data[0] : undefined;
  return item && typeof item === "object" ? item as Record<string, unknown> : undefined;
}

/** One image provider: how to ask it for an image, and where the image is in its answer. */
interface ImageApi {
  /** Whose API key it needs. */
  key: KeyName;
  /** The whole tool call's timeout. */
  timeoutMs: number;
  /** The POST request for `prompt`. */
  request(prompt: string, key: string, args: Record<string, unknown>, options: BuiltinOptions): {
    url: string;
    headers: Record<string, string>;
    json: unknown;
    timeoutMs: number;
  };
  /** The image in the provider's answer, delivered; or an error result. */
  image(
    json: unknown,
    key: string,
    call: ToolCallOptions,
    options: BuiltinOptions,
  ): Result | Promise<Result>;
}

/** The tool of an image provider: key and prompt checked, one request, its image delivered. */
function imageTool(api: ImageApi): BuiltinImplementation {
  return {
    timeoutMs: api.timeoutMs,
    run(args, call, options) {
      return withKey(api.key, options, async (key) => {
        const { url, ...body } = api.request(promptOf(args), key, args, options);
        const response = await request(url, {
          method: "POST",
          ...body,
          signal: call.signal,
          fetch: options.fetch,
        });
        if (!response.ok) {
          return { error: `HTTP ${response.status}: ${errorBody(response.text, key)}` };
        }
        return await api.image(response.json, key, call, options);
      });
    },
  };
}

/** `openai_image`: `gpt-image-1` through `/images/generations`. */
export const openaiImage: BuiltinImplementation = imageTool({
  key: "openai",
  timeoutMs: 180_000,
  request: (prompt, key, args, options) => ({
    url: `${endpoint(options, "openai")}/images/generations`,
    headers: { authorization: `Bearer ${key}` },
    json: {
      model: "gpt-image-1",
      prompt,
      n: 1,
      moderation: "low",
      quality: ["low", "medium", "high"].includes(args.quality as string)
        ? args.quality as string
        : "medium",
    },
    timeoutMs: 180_000,
  }),
  image(json, _key, _call, options) {
    const b64 = first(json)?.b64_json;
    if (typeof b64 !== "string" || !b64) {
      return { error: "No image data returned" };
    }
    return deliver(decodeBase64(b64), "openai_image", options);
  },
});

/** Downloads the image Grok links to: http(s) only, 60 s, at most {@link MAX_DOWNLOAD_BYTES}. */
async function download(
  url: string,
  call: ToolCallOptions,
  options: BuiltinOptions,
): Promise<Uint8Array> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error("not a valid URL");
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new Error(`unsupported URL scheme ${parsed.protocol}`);
  }
  const timeout = AbortSignal.timeout(60_000);
  const signal = AbortSignal.any([call.signal, timeout]);
  try {
    const response = await (options.fetch ?? fetch)(parsed, { signal });
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(`HTTP ${response.status}`);
    }
    const declared = Number(response.headers.get("content-length"));
    if (declared > MAX_DOWNLOAD_BYTES) {
      await response.body?.cancel();
      throw new Error("image larger than 20 MB");
    }
    const { bytes, capped } = await readCapped(response.body, MAX_DOWNLOAD_BYTES);
    if (capped) throw new Error("image larger than 20 MB");
    return bytes;
  } catch (error) {
    if (timeout.aborted) throw new Error("timed out after 60 s");
    if (call.signal.aborted) throw new Error("cancelled");
    throw error;
  }
}

/** `grok_image`: `grok-2-image-1212`, then the linked image is downloaded. */
export const grokImage: BuiltinImplementation = imageTool({
  key: "xai",
  timeoutMs: 120_000,
  request: (prompt, key, _args, options) => ({
    url: `${endpoint(options, "xai")}/images/generations`,
    headers: { authorization: `Bearer ${key}` },
    json: { model: "grok-2-image-1212", prompt },
    timeoutMs: 60_000,
  }),
  async image(json, key, call, options) {
    const item = first(json);
    if (typeof item?.b64_json === "string" && item.b64_json) {
      return deliver(decodeBase64(item.b64_json), "grok_image", options);
    }
    if (typeof item?.url !== "string" || !item.url) return { error: "No image url returned" };
    let bytes: Uint8Array;
    try {
      bytes = await download(item.url, call, options);
    } catch (error) {
      return { error: `Image download failed: ${messageOf(error, key)}` };
    }
    return deliver(bytes, "grok_image", options);
  },
});

/** The first inline image data among Gemini's response parts. */
function geminiData(value: unknown): string | undefined {
  const candidates = (value as { candidates?: unknown } | undefined)?.candidates;
  const candidate = Array.isArray(candidates) ? candidates[0] : undefined;
  const parts = (candidate as { content?: { parts?: unknown } } | undefined)?.content?.parts;
  if (!Array.isArray(parts)) return undefined;
  for (const part of parts) {
    if (!part || typeof part !== "object") continue;
    const inline = (part.inlineData ?? part.inline_data) as { data?: unknown } | undefined;
    if (typeof inline?.data === "string" && inline.data) return inline.data;
  }
  return undefined;
}

/** `gemini_image`: `gemini-2.5-flash-image-preview` through `generateContent`. */
export const geminiImage: BuiltinImplementation = imageTool({
  key: "google",
  timeoutMs: 120_000,
  request: (prompt, key, _args, options) => ({
    url: `${endpoint(options, "gemini")}/models/gemini-2.5-flash-image-preview` +
      `:generateContent?key=${encodeURIComponent(key)}`,
    headers: { "x-goog-api-key": key },
    json: {
      contents: [{ parts: [{ text: prompt }] }],
      generationConfig: { responseModalities: ["TEXT", "IMAGE"] },
    },
    timeoutMs: 120_000,
  }),
  image(json, _key, _call, options) {
    const data = geminiData(json);
    if (!data) return { error: "No image bytes returned" };
    return deliver(decodeBase64(data), "gemini_image", options);
  },
});
