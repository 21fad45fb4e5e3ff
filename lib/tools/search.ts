/**
 * The `openai_search` built-in (reference §5.1): one chat completion with
 * OpenAI's search model, asked for structured results. The model gets the
 * whole raw completion JSON.
 *
 * @module
 */
import { request } from "./http.ts";
import { errorBody, redact } from "./images.ts";
import { type BuiltinImplementation, endpoint } from "./options.ts";
import { ToolArgumentError } from "./registry.ts";

/** The strict JSON schema the search model answers in. */
export const SEARCH_RESULTS_FORMAT = {
  type: "json_schema",
  json_schema: {
    name: "search_results",
    strict: true,
    schema: {
      type: "object",
      properties: {
        query: { type: "string" },
        total_results: { type: "number" },
        results: {
          type: "array",
          items: {
            type: "object",
            properties: {
              title: { type: "string" },
              url: { type: "string" },
              snippet: { type: "string" },
            },
            required: ["title", "url", "snippet"],
            additionalProperties: false,
          },
        },
        timestamp: { type: "string" },
      },
      required: ["query", "total_results", "results", "timestamp"],
      additionalProperties: false,
    },
  },
} as const;

/** `openai_search`: `gpt-4o-mini-search-preview` with web search. */
export const openaiSearch: BuiltinImplementation = {
  async run(args, call, options) {
    const key = options.key?.("openai");
    if (!key) return { error: "Missing OpenAI API key (OPENAI_API_KEY or llm.api_keys.openai)" };
    const query = args.query;
    if (typeof query !== "string" || query.trim() === "") {
      throw new ToolArgumentError("query: is required");
    }
    try {
      const response = await request(`${endpoint(options, "openai")}/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}` },
        json: {
          model: "gpt-4o-mini-search-preview",
          messages: [{ role: "user", content: query }],
          response_format: SEARCH_RESULTS_FORMAT,
          web_search_options: {
            search_context_size: "medium",
            user_location: {
              type: "approximate",
              approximate: { country: "", timezone: "America/New_York" },
            },
          },
          store: false,
        },
        timeoutMs: 60_000,
        signal: call.signal,
        fetch: options.fetch,
      });
      if (!response.ok) {
        return { error: `HTTP error: ${response.status} - ${errorBody(response.text, key)}` };
      }
      return response.text;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return { error: `Unexpected: ${redact(message, key)}` };
    }
  },
};
