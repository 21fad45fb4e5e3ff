/**
 * `infinigpt doctor`'s provider checks: for every provider with a
 * configured model, its model list asked with the key (every configured
 * model must be offered), or, where there is no list, one completion of
 * one token.
 *
 * @module
 */
import { redactUrl } from "./check_config.ts";
import type { Check, CheckResult, DoctorInputs } from "./doctor.ts";
import { classifyNetworkError } from "./homeserver.ts";
import { envKeyNames, routeProvider } from "./providers.ts";

const ok = (detail: string): CheckResult => ({ ok: true, detail });
const bad = (detail: string, hint?: string): CheckResult => ({ ok: false, detail, hint });

/** One check per provider that has a configured model. */
export function providerChecks(inputs: DoctorInputs): Check[] {
  const { config, env } = inputs;
  return Object.entries(config.llm.models).filter(([, models]) => models.length).map((
    [provider, models],
  ) => ({
    name: `provider ${provider}`,
    run: (signal) => checkProvider({ ...inputs, provider, models, signal, config, env }),
  }));
}

/** The model list with the key; a one-token completion where there is no list. */
async function checkProvider(
  options: DoctorInputs & { provider: string; models: string[]; signal: AbortSignal },
): Promise<CheckResult> {
  const { provider, models, config, env, signal } = options;
  const route = routeProvider(provider, config, env);
  const keyHint = `set ${envKeyNames(provider).join(" or ")} or llm.api_keys.${provider}`;
  if (route.keySource === "missing" && !config.llm.base_urls[provider]) {
    return bad("no API key", keyHint);
  }
  const fetchFn = options.fetch ?? fetch;
  const headers: Record<string, string> = route.apiKey
    ? { authorization: `Bearer ${route.apiKey}` }
    : {};
  const base = route.baseURL.replace(/\/+$/, "");
  const where = redactUrl(base);
  let response: Response;
  try {
    response = await fetchFn(`${base}/models`, { headers, signal });
  } catch (error) {
    if (signal.aborted) throw error;
    // The cause as the homeserver checks name it (refused, DNS, TLS, …); the hint is ours.
    const { reason } = classifyNetworkError(error, `${base}/models`);
    const setting = !config.llm.base_urls[provider] &&
        (provider === "ollama" || provider === "lmstudio")
      ? `llm.${provider}_url`
      : `llm.base_urls.${provider}`;
    return bad(`cannot reach ${where}: ${reason}`, `check ${setting} and that the server runs`);
  }
  const body = await response.text().catch(() => "");
  if (response.status === 401 || response.status === 403) {
    return bad(
      `${where} rejected the API key (HTTP ${response.status}, key from ${route.keySource})`,
      keyHint,
    );
  }
  if (response.ok) {
    const ids = listedIds(body);
    if (ids) {
      const missing = models.filter((m) => !ids.has(m));
      if (missing.length) {
        return bad(
          `key accepted, but ${where} does not offer ${
            missing.join(", ")
          } (${ids.size} models listed)`,
          `check the names in llm.models.${provider}`,
        );
      }
      const access = route.keySource === "none needed" || !route.apiKey
        ? "answers (no key needed)"
        : `key accepted (${route.keySource})`;
      const offered = models.length === 1
        ? `${models[0]} offered`
        : `all ${models.length} configured models offered`;
      return ok(`${access}; ${offered}`);
    }
  }
  return await oneToken({ ...options, base, headers, where, keyHint, fetchFn });
}

/** The ids of a `GET /models` answer (`models/` prefixes dropped, as Gemini lists them). */
function listedIds(body: string): Set<string> | undefined {
  try {
    const data = JSON.parse(body)?.data;
    if (!Array.isArray(data)) return undefined;
    return new Set(
      data.map((m) => String(m?.id ?? "")).flatMap((id) => [id, id.replace(/^models\//, "")]),
    );
  } catch {
    return undefined;
  }
}

/** No model list: one completion of one token with the first model. */
async function oneToken(
  o: DoctorInputs & {
    provider: string;
    models: string[];
    signal: AbortSignal;
    base: string;
    headers: Record<string, string>;
    where: string;
    keyHint: string;
    fetchFn: typeof fetch;
  },
): Promise<CheckResult> {
  const model = o.models[0];
  const response = await o.fetchFn(`${o.base}/chat/completions`, {
    method: "POST",
    headers: { ...o.headers, "content-type": "application/json" },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "ping" }], max_tokens: 1 }),
    signal: o.signal,
  });
  const text = await response.text().catch(() => "");
  if (response.ok) return ok(`no model list; a one-token completion with ${model} works`);
  if (response.status === 401 || response.status === 403) {
    return bad(`${o.where} rejected the API key (HTTP ${response.status})`, o.keyHint);
  }
  let said = "";
  try {
    said = String(JSON.parse(text)?.error?.message ?? "").slice(0, 200);
  } catch {
    // Not JSON: the status says enough.
  }
  return bad(
    `a one-token completion with ${model} failed: HTTP ${response.status}${
      said ? `: ${said}` : ""
    }`,
    response.status === 404
      ? `check the model names in llm.models.${o.provider} and llm.base_urls.${o.provider}`
      : undefined,
  );
}
