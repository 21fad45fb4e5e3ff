/**
 * Providers: which endpoint and key serve a model, which options it gets, and
 * the chat-completion call itself (one `openai` client per provider, bounded
 * retries, a cap on simultaneous calls). Failures are classified in
 * lib/provider_errors.ts.
 *
 * @module
 */
import OpenAI from "openai";
import type { Config } from "./config.ts";
import type { Env } from "./env.ts";
import { parseRetryAfter, retry } from "./async.ts";
import { metrics } from "./bot_metrics.ts";
import { getLogger } from "./log.ts";
import { globMatch } from "./glob.ts";

export { globMatch };
import { classify, isRetryable, ProviderError } from "./provider_errors.ts";
import { Semaphore } from "./queue.ts";

const log = getLogger("providers");

/** A provider the bot knows without configuration. */
export interface ProviderInfo {
  name: string;
  /** Default base URL; local providers build theirs from `llm.<name>_url`. */
  baseURL?: string;
  /** Environment variables holding the key, first found wins. */
  envKeys: string[];
  /** Local servers need no key; the original sent this placeholder. */
  local?: boolean;
}

/** The built-in providers in routing order (reference §4.1). */
export const BUILTIN_PROVIDERS: readonly ProviderInfo[] = [
  { name: "openai", baseURL: "https://api.openai.com/v1", envKeys: ["OPENAI_API_KEY"] },
  { name: "xai", baseURL: "https://api.x.ai/v1", envKeys: ["XAI_API_KEY"] },
  {
    name: "google",
    baseURL: "https://generativelanguage.googleapis.com/v1beta/openai",
    envKeys: ["GOOGLE_API_KEY", "GEMINI_API_KEY"],
  },
  { name: "mistral", baseURL: "https://api.mistral.ai/v1", envKeys: ["MISTRAL_API_KEY"] },
  { name: "anthropic", baseURL: "https://api.anthropic.com/v1", envKeys: ["ANTHROPIC_API_KEY"] },
  { name: "deepseek", baseURL: "https://api.deepseek.com/v1", envKeys: ["DEEPSEEK_API_KEY"] },
  {
    name: "qwen",
    baseURL: "https://dashscope.aliyuncs.com/compatible-mode/v1",
    envKeys: ["QWEN_API_KEY", "DASHSCOPE_API_KEY"],
  },
  { name: "ollama", envKeys: [], local: true },
  { name: "lmstudio", envKeys: [], local: true },
];

const LOCAL_KEY = "hello_friend";

/** Where a model's requests go. */
export interface Route {
  provider: string;
  baseURL: string;
  apiKey: string;
  /** Where the key came from, for the redacted config summary. */
  keySource: string;
  /** True when the provider is unknown and has no base URL: OpenAI is used. */
  fallback: boolean;
}

type RoutingConfig = Pick<Config, "llm">;

function localURL(hostPort: string): string {
  if (/^https?:\/\//i.test(hostPort)) {
    const url = hostPort.replace(/\/+$/, "");
    return url.endsWith("/v1") ? url : `${url}/v1`;
  }
  return `http://${hostPort}/v1`;
}

/** The provider that serves `model`: first built-in list in routing order, then the others. */
export function providerOf(model: string, config: RoutingConfig): string {
  const models = config.llm.models;
  for (const p of BUILTIN_PROVIDERS) if (models[p.name]?.includes(model)) return p.name;
  for (const [name, list] of Object.entries(models)) if (list.includes(model)) return name;
  return "openai";
}

/** The env variables holding a provider's key (custom providers: `<NAME>_API_KEY`). */
export function envKeyNames(provider: string): string[] {
  const info = BUILTIN_PROVIDERS.find((p) => p.name === provider);
  if (info) return info.envKeys;
  const name = `${provider.toUpperCase().replace(/[^A-Z0-9]/g, "_")}_API_KEY`;
  // The prefixed name is what a release binary may read (`INFINIGPT_*`).
  return [name, `INFINIGPT_${name}`];
}

/** Resolves base URL and key for a provider; env keys win over `llm.api_keys`. */
export function routeProvider(provider: string, config: RoutingConfig, env: Env): Route {
  const info = BUILTIN_PROVIDERS.find((p) => p.name === provider);
  const override = config.llm.base_urls[provider];
  let baseURL = override;
  let fallback = false;
  if (!baseURL) {
    if (provider === "ollama") baseURL = localURL(config.llm.ollama_url);
    else if (provider === "lmstudio") baseURL = localURL(config.llm.lmstudio_url);
    else if (info?.baseURL) baseURL = info.baseURL;
    else {
      // The original routed unknown providers to OpenAI with the OpenAI key.
      fallback = true;
      baseURL = BUILTIN_PROVIDERS[0].baseURL!;
    }
  }
  const keyOwner = fallback ? "openai" : provider;
  for (const name of envKeyNames(keyOwner)) {
    const value = env[name];
    if (value) return { provider, baseURL, apiKey: value, keySource: `env ${name}`, fallback };
  }
  const configured = config.llm.api_keys[keyOwner];
  if (configured) {
    return {
      provider,
      baseURL,
      apiKey: configured,
      keySource: `llm.api_keys.${keyOwner}`,
      fallback,
    };
  }
  return {
    provider,
    baseURL,
    apiKey: info?.local || override ? LOCAL_KEY : "",
    keySource: info?.local ? "none needed" : "missing",
    fallback,
  };
}

/** True when `llm.omit_options` says this model gets no sampling options (decision 4). */
export function omitsOptions(
  model: string,
  provider: string,
  patterns: readonly string[],
): boolean {
  return patterns.some((pattern) =>
    pattern.startsWith("provider:")
      ? pattern.slice("provider:".length).toLowerCase() === provider.toLowerCase()
      : globMatch(pattern, model)
  );
}

/** OpenAI reasoning models take `max_completion_tokens` instead of `max_tokens`. */
export function isOpenAIReasoningModel(model: string): boolean {
  return /^(gpt-5|o1|o3|o4)/i.test(model);
}

// Reasoning models still need these: they steer effort and length, not sampling.
const ALWAYS_SENT = new Set(["reasoning_effort", "max_tokens", "max_completion_tokens"]);

/**
 * The `llm.options` to merge into a request for `model` (decisions 4 and 27).
 * Pure: the caller decides whether to send them.
 */
export function requestOptions(
  model: string,
  provider: string,
  config: RoutingConfig,
): Record<string, unknown> {
  const omit = omitsOptions(model, provider, config.llm.omit_options);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config.llm.options)) {
    if (value === undefined) continue;
    if (omit && !ALWAYS_SENT.has(key)) continue;
    out[key] = value;
  }
  if ("max_tokens" in out && provider === "openai" && isOpenAIReasoningModel(model)) {
    out.max_completion_tokens ??= out.max_tokens;
    delete out.max_tokens;
  }
  return out;
}

/** Longest `Retry-After` we wait for; longer ones fail at once (a user is waiting). */
export const MAX_RETRY_WAIT_MS = 20_000;

/** A chat message as sent to providers. */
export type ChatMessage = OpenAI.Chat.Completions.ChatCompletionMessageParam;
/** A function tool definition as sent to providers. */
export type ToolDefinition = OpenAI.Chat.Completions.ChatCompletionFunctionTool;
/** A completion as returned by providers. */
export type ChatCompletion = OpenAI.Chat.Completions.ChatCompletion;

/** One chat-completion request. */
export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  tools?: ToolDefinition[];
  toolChoice?: "auto" | "none";
  signal?: AbortSignal;
}

/** Options for {@link Providers}. */
export interface ProvidersOptions {
  config: RoutingConfig;
  env: Env;
  /** Replaces global fetch (tests, instrumentation). */
  fetch?: typeof fetch;
  /** Retries for 429/502/503/504 and resets (default 2). */
  maxRetries?: number;
  /** Backoff without `Retry-After`, doubled per attempt (default 500 ms). */
  retryBaseMs?: number;
  /** Cap on simultaneous provider calls (default `llm.max_concurrency`). */
  maxConcurrency?: number;
}

/** The model providers, with one lazily created `openai` client each. */
export class Providers {
  readonly #options: ProvidersOptions;
  readonly #clients = new Map<string, OpenAI>();
  readonly #noOptions = new Set<string>();
  readonly #slots: Semaphore;

  constructor(options: ProvidersOptions) {
    this.#options = options;
    const cap = options.maxConcurrency ??
      (options.config.llm as { max_concurrency?: number }).max_concurrency ?? 8;
    this.#slots = new Semaphore(cap);
  }

  /** Provider and endpoint for a model. */
  route(model: string): Route {
    return routeProvider(
      providerOf(model, this.#options.config),
      this.#options.config,
      this.#options.env,
    );
  }

  #client(route: Route): OpenAI {
    const key = `${route.provider}\n${route.baseURL}`;
    let client = this.#clients.get(key);
    if (!client) {
      client = new OpenAI({
        baseURL: route.baseURL,
        apiKey: route.apiKey || "missing-key",
        timeout: (this.#options.config.llm.timeout ?? 180) * 1000,
        maxRetries: 0,
        fetch: this.#options.fetch,
      });
      this.#clients.set(key, client);
    }
    return client;
  }

  /**
   * Sends one chat completion. Retries at most `maxRetries` times on
   * 429/502/503/504 and connection resets; retries once without options when
   * the provider rejects one of them. Throws {@link ProviderError}.
   */
  async chat(request: ChatRequest): Promise<ChatCompletion> {
    const route = this.route(request.model);
    const maxRetries = this.#options.maxRetries ?? 2;
    const base = this.#options.retryBaseMs ?? 500;
    const started = performance.now();
    const measured = { provider: route.provider, model: request.model };
    try {
      const completion = await this.#send(route, request, maxRetries, base);
      metrics.providerRequest({ ...measured, seconds: (performance.now() - started) / 1000 });
      metrics.tokens(
        request.model,
        completion.usage?.prompt_tokens ?? 0,
        completion.usage?.completion_tokens ?? 0,
      );
      return completion;
    } catch (error) {
      metrics.providerRequest({
        ...measured,
        seconds: (performance.now() - started) / 1000,
        errorKind: error instanceof ProviderError ? error.kind : "aborted",
      });
      throw error;
    }
  }

  /** The request with its retries. */
  async #send(
    route: Route,
    request: ChatRequest,
    maxRetries: number,
    base: number,
  ): Promise<ChatCompletion> {
    return await retry(this.#attempt(route, request), {
      maxRetries,
      isRetriable: (error) => isRetryable(error as ProviderError),
      retryAfterMs: (error) =>
        parseRetryAfter(((error as ProviderError).cause as { headers?: Headers })?.headers),
      delays: (retries) => base * 2 ** retries * (0.75 + Math.random() / 2),
      maxDelayMs: MAX_RETRY_WAIT_MS,
      signal: request.signal,
      onRetry: (error, retries, wait) => {
        const e = error as ProviderError;
        log.info(
          `${route.provider} answered ${e.status ?? e.kind}; retry ${retries}/${maxRetries} in ${
            Math.round(wait)
          } ms`,
        );
      },
    });
  }

  /**
   * One attempt of a request: sent, and sent again at once without options
   * when the provider rejects one of them (once, and not counted as a retry).
   */
  #attempt(route: Route, request: ChatRequest): () => Promise<ChatCompletion> {
    const client = this.#client(route);
    let options = this.#noOptions.has(request.model)
      ? {}
      : requestOptions(request.model, route.provider, this.#options.config);
    let strippedOptions = false;
    const send = async () => {
      try {
        const body = {
          ...options,
          model: request.model,
          messages: request.messages,
          ...(request.tools?.length
            ? { tools: request.tools, tool_choice: request.toolChoice ?? "auto" }
            : {}),
        } as OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming;
        const completion = await this.#slots.run(() =>
          client.chat.completions.create(body, { signal: request.signal })
        );
        return validateCompletion(completion);
      } catch (raw) {
        throw classify(raw);
      }
    };
    return async () => {
      try {
        return await send();
      } catch (error) {
        const e = error as ProviderError;
        const rejected = Object.keys(options).find((k) => e.message.includes(k));
        if (request.signal?.aborted || e.status !== 400 || strippedOptions || !rejected) throw e;
        log.warn(
          `${route.provider} rejected option "${rejected}" for ${request.model}; retrying without llm.options (add the model to llm.omit_options to skip this)`,
        );
        this.#noOptions.add(request.model);
        options = {};
        strippedOptions = true;
        return await send();
      }
    };
  }
}

function validateCompletion(completion: unknown): ChatCompletion {
  const c = completion as Partial<ChatCompletion> | null;
  if (!c || typeof c !== "object" || !Array.isArray(c.choices)) {
    throw new ProviderError("invalid_response", "response has no choices array");
  }
  if (
    c.choices.length === 0 || typeof c.choices[0]?.message !== "object" || !c.choices[0].message
  ) {
    throw new ProviderError("invalid_response", "response has no message");
  }
  return c as ChatCompletion;
}
