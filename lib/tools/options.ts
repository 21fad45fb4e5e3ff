/**
 * What built-in tools get besides their arguments: keys, fetch, where
 * images go, limits, and the remote endpoints (tests point them at local
 * servers).
 *
 * @module
 */
import type { ToolCallOptions } from "./registry.ts";

/** Remote APIs the built-in tools call. */
export interface Endpoints {
  /** Open-Meteo geocoding search. */
  geocoding: string;
  /** Open-Meteo forecast. */
  forecast: string;
  /** Coinbase market products (the product id is appended). */
  coinbase: string;
  /** OpenAI API base (images, search). */
  openai: string;
  /** xAI API base (images). */
  xai: string;
  /** Google Generative Language API base (Gemini images). */
  gemini: string;
}

/** The public endpoints. */
export const DEFAULT_ENDPOINTS: Readonly<Endpoints> = {
  geocoding: "https://geocoding-api.open-meteo.com/v1/search",
  forecast: "https://api.open-meteo.com/v1/forecast",
  coinbase: "https://api.coinbase.com/api/v3/brokerage/market/products",
  openai: "https://api.openai.com/v1",
  xai: "https://api.x.ai/v1",
  gemini: "https://generativelanguage.googleapis.com/v1beta",
};

/** Providers whose keys tools use. */
export type KeyName = "openai" | "xai" | "google";

/** Options shared by every built-in tool. */
export interface BuiltinOptions {
  /** fetch for remote APIs (tests, instrumentation). */
  fetch?: typeof fetch;
  /** API key lookup: environment first, then `llm.api_keys` (decision 10). */
  key?: (name: KeyName) => string | undefined;
  /** Where image tools write (`tools.images_dir`, default `<store>/images`). */
  imagesDir?: string;
  /** Let `fetch_url` reach private addresses (`tools.allow_private_urls`). */
  allowPrivateUrls?: boolean;
  /** Download cap of `fetch_url` (`tools.fetch_max_bytes`). */
  fetchMaxBytes?: number;
  /** Remote endpoints; unset ones are the public APIs. */
  endpoints?: Partial<Endpoints>;
  /** DNS lookup used by `fetch_url`'s address check (tests substitute one). */
  resolve?: (hostname: string) => Promise<string[]>;
  /** The clock (tests). */
  now?: () => Date;
}

/** The endpoint to use for `name`. */
export function endpoint(options: BuiltinOptions, name: keyof Endpoints): string {
  return (options.endpoints?.[name] ?? DEFAULT_ENDPOINTS[name]).replace(/\/+$/, "");
}

/** One built-in tool's implementation. */
export interface BuiltinImplementation {
  /** Returns a value for the registry to normalise, or a `ToolOutput`. */
  run(
    args: Record<string, unknown>,
    call: ToolCallOptions,
    options: BuiltinOptions,
  ): Promise<unknown>;
  /** Overrides `llm.tool_timeout` (slow remote work such as image generation). */
  timeoutMs?: number;
}
