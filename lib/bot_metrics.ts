/**
 * The bot's metrics (decision 45), in one place: their names, help texts
 * and labels, the functions the pipeline, the providers and the tools call
 * to count, and the health verdict `/healthz` gives. One instance per
 * process ({@link metrics}), like the logger: counting is a side channel
 * that every layer may use without having it passed through.
 *
 * @module
 */
import { MetricsRegistry } from "./metrics.ts";
import type { FailureKind } from "./provider_errors.ts";
import { VERSION } from "./version.ts";

/** Why an accepted message got no answer: a provider failure kind, an empty answer, or our bug. */
export type FailureReason = FailureKind | "empty_answer" | "internal";

/** The per-user limits that refuse requests (decision 43). */
export type LimitName = "requests_per_minute" | "daily_tokens" | "monthly_usd";

/** What the sync loop reports for health. */
export interface SyncStatus {
  /** When the last sync succeeded (ms since the epoch); absent before the first. */
  lastSyncAt?: number;
  /** Why the last sync failed, when it did (secret-free). */
  lastError?: string;
}

/** One MCP server's state. */
export interface McpStatus {
  name: string;
  up: boolean;
}

/** `/healthz` answers 503 when the last sync is older than this. */
export const SYNC_STALE_MS = 60_000;

/** The metric names, for docs and tests. */
export const METRIC_NAMES = {
  info: "infinigpt_build_info",
  messages: "infinigpt_messages_received_total",
  answers: "infinigpt_answers_total",
  failures: "infinigpt_failures_total",
  providerSeconds: "infinigpt_provider_request_duration_seconds",
  providerErrors: "infinigpt_provider_errors_total",
  tokens: "infinigpt_tokens_total",
  toolCalls: "infinigpt_tool_calls_total",
  refusals: "infinigpt_limit_refusals_total",
  mcpUp: "infinigpt_mcp_server_up",
  syncAge: "infinigpt_last_sync_age_seconds",
  memory: "infinigpt_process_memory_bytes",
} as const;

/** The bot's metric families and how to count into them. */
export class BotMetrics {
  /** Everything `/metrics` shows. */
  readonly registry: MetricsRegistry = new MetricsRegistry();
  #sync?: () => SyncStatus;
  #mcp?: () => McpStatus[];
  readonly #now: () => number;

  readonly #messages;
  readonly #answers;
  readonly #failures;
  readonly #providerSeconds;
  readonly #providerErrors;
  readonly #tokens;
  readonly #toolCalls;
  readonly #refusals;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
    const r = this.registry;
    const n = METRIC_NAMES;
    r.gauge(n.info, "The running version (always 1).", ["version"]).set({ version: VERSION }, 1);
    this.#messages = r.counter(n.messages, "Messages the bot received and looked at.");
    this.#answers = r.counter(n.answers, "Commands answered without a failure.");
    this.#failures = r.counter(
      n.failures,
      "Commands answered with 'Something went wrong', by reason.",
      ["reason"],
    );
    this.#providerSeconds = r.histogram(
      n.providerSeconds,
      "Time of one chat-completion request to a provider (retries included), by outcome.",
      ["provider", "model", "outcome"],
    );
    this.#providerErrors = r.counter(
      n.providerErrors,
      "Chat-completion requests that failed, by provider, model and kind.",
      ["provider", "model", "kind"],
    );
    this.#tokens = r.counter(
      n.tokens,
      "Tokens the providers counted, by model and direction (in: prompt, out: completion).",
      ["model", "direction"],
    );
    this.#toolCalls = r.counter(n.toolCalls, "Tool calls, by tool and outcome.", [
      "tool",
      "outcome",
    ]);
    this.#refusals = r.counter(
      n.refusals,
      "Requests refused by a per-user limit, by limit.",
      ["limit"],
    );
    r.gauge(n.mcpUp, "1 when the MCP server is connected, 0 otherwise.", ["server"], (g) => {
      g.reset();
      for (const s of this.#mcp?.() ?? []) g.set({ server: s.name }, s.up ? 1 : 0);
    });
    r.gauge(n.syncAge, "Seconds since the last successful Matrix sync.", [], (g) => {
      g.reset();
      const at = this.#sync?.().lastSyncAt;
      if (at !== undefined) g.set({}, Math.max(0, (this.#now() - at) / 1000));
    });
    r.gauge(n.memory, "Memory of the process in bytes, by kind.", ["kind"], (g) => {
      const m = Deno.memoryUsage();
      g.set({ kind: "rss" }, m.rss);
      g.set({ kind: "heap_used" }, m.heapUsed);
      g.set({ kind: "heap_total" }, m.heapTotal);
      g.set({ kind: "external" }, m.external);
    });
  }

  /** A message reached the bot. */
  message(): void {
    this.#messages.inc();
  }

  /** A command was answered. */
  answered(): void {
    this.#answers.inc();
  }

  /** A command failed and the user was told why. */
  failed(reason: FailureReason): void {
    this.#failures.inc({ reason });
  }

  /** One chat-completion request ended: its time, and its failure kind when it failed. */
  providerRequest(
    request: { provider: string; model: string; seconds: number; errorKind?: string },
  ): void {
    const { provider, model, seconds, errorKind } = request;
    this.#providerSeconds.observe(
      { provider, model, outcome: errorKind ? "error" : "ok" },
      seconds,
    );
    if (errorKind) this.#providerErrors.inc({ provider, model, kind: errorKind });
  }

  /** Tokens of one completion. */
  tokens(model: string, input: number, output: number): void {
    if (input > 0) this.#tokens.inc({ model, direction: "in" }, input);
    if (output > 0) this.#tokens.inc({ model, direction: "out" }, output);
  }

  /** One tool call and whether it worked. */
  toolCall(tool: string, outcome: "ok" | "error"): void {
    this.#toolCalls.inc({ tool, outcome });
  }

  /** A request refused by a per-user limit. */
  refused(limit: LimitName): void {
    this.#refusals.inc({ limit });
  }

  /** Where the sync state comes from (the Matrix transport). */
  watchSync(source: (() => SyncStatus) | undefined): void {
    this.#sync = source;
  }

  /** Where the MCP servers' state comes from. */
  watchMcp(source: (() => McpStatus[]) | undefined): void {
    this.#mcp = source;
  }

  /** The `/healthz` verdict: healthy while the last sync is recent. */
  health(): { ok: boolean; reason: string } {
    return healthOf(this.#sync?.(), this.#now());
  }
}

/** Healthy when a sync succeeded within {@link SYNC_STALE_MS}; otherwise why not. */
export function healthOf(status: SyncStatus | undefined, now: number): {
  ok: boolean;
  reason: string;
} {
  if (!status) return { ok: false, reason: "not syncing: the Matrix client has not started" };
  const { lastSyncAt, lastError } = status;
  const why = lastError ? `: ${lastError}` : "";
  if (lastSyncAt === undefined) return { ok: false, reason: `no sync has succeeded yet${why}` };
  const age = now - lastSyncAt;
  if (age > SYNC_STALE_MS) {
    return { ok: false, reason: `last successful sync ${Math.round(age / 1000)} s ago${why}` };
  }
  return { ok: true, reason: "ok" };
}

/** The process's metrics. */
export const metrics: BotMetrics = new BotMetrics();
