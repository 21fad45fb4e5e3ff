/**
 * MCP servers (decision 11): persistent connections over stdio, Streamable
 * HTTP or SSE; `tools/list` → OpenAI function tools; `tools/call` → the
 * result string the model sees (images go to the chat as bytes). A server
 * that dies is reconnected on the next call; one that fails at start is
 * retried in the background; startup never waits longer than its timeout.
 *
 * @module
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import {
  type CallToolResult,
  type Tool as McpTool,
  ToolListChangedNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";
import { deadline, retry } from "./async.ts";
import type { McpServerSpec } from "./config.ts";
import type { Env } from "./env.ts";
import { getLogger } from "./log.ts";
import { formatCallResult, safeToolName, toOpenAITool } from "./mcp_convert.ts";
import { errorResult, type Tool, ToolOutput } from "./tools/registry.ts";

const log = getLogger("mcp");

/** A spec problem found before connecting (missing environment variable). */
export class McpSpecError extends Error {}

/** Replaces `${env:NAME}` with the variable's value; a missing one is an error. */
export function substituteEnv(value: string, env: Env): string {
  return value.replace(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
    const found = env[name];
    if (found === undefined) throw new McpSpecError(`environment variable ${name} is not set`);
    return found;
  });
}

function substituteAll(map: Record<string, string> | undefined, env: Env): Record<string, string> {
  return Object.fromEntries(Object.entries(map ?? {}).map(([k, v]) => [k, substituteEnv(v, env)]));
}

/** Options for {@link McpManager}. */
export interface McpOptions {
  env: Env;
  /** Longest wait for servers at start (default 10 s). */
  connectTimeoutMs?: number;
  /** Per-call timeout (`llm.tool_timeout`). */
  callTimeoutMs?: number;
  /** Delays of the background retries of a failed server (ms). */
  retryDelaysMs?: readonly number[];
  /** Called when the set of tools changes after start. */
  onToolsChanged?: () => void;
  /** fetch for HTTP transports (tests). */
  fetch?: typeof fetch;
}

type LiveSpec = Exclude<McpServerSpec, { kind: "disabled" }>;

/** One configured server and its connection. */
class McpServer {
  readonly name: string;
  readonly spec: LiveSpec;
  readonly #options: McpOptions;
  #client?: Client;
  #connecting?: Promise<Client>;
  /** The client of the connection attempt in progress (closed by close()). */
  #pending?: Client;
  #tools: McpTool[] = [];
  #closed = false;
  /** Why the last connection attempt failed. */
  lastError?: string;

  constructor(name: string, spec: LiveSpec, options: McpOptions) {
    this.name = name;
    this.spec = spec;
    this.#options = options;
  }

  get connected(): boolean {
    return this.#client !== undefined;
  }

  /** The server's tools, filtered by `allowed_tools`. */
  get tools(): McpTool[] {
    const allowed = this.spec.allowed_tools;
    return allowed ? this.#tools.filter((t) => allowed.includes(t.name)) : this.#tools;
  }

  async #transports(): Promise<Transport[]> {
    const { env } = this.#options;
    if (this.spec.kind === "stdio") {
      // Loaded only when needed: its process helpers read OSTYPE and PATH on import.
      const { getDefaultEnvironment, StdioClientTransport } = await import(
        "@modelcontextprotocol/sdk/client/stdio.js"
      );
      const transport = new StdioClientTransport({
        command: this.spec.command,
        args: this.spec.args,
        env: { ...getDefaultEnvironment(), ...substituteAll(this.spec.env, env) },
        cwd: this.spec.cwd ?? undefined,
        stderr: "pipe",
      });
      const stderr = transport.stderr as
        | { on?(event: string, fn: (chunk: unknown) => void): void }
        | null;
      stderr?.on?.("data", (chunk) => {
        for (const line of String(chunk).split("\n")) {
          if (line.trim()) log.debug(`[${this.name}] ${line}`);
        }
      });
      return [transport];
    }
    const url = new URL(this.spec.url);
    const requestInit: RequestInit = { headers: substituteAll(this.spec.headers, env) };
    const fetchFn = this.#options.fetch;
    const sse = () => new SSEClientTransport(url, { requestInit, fetch: fetchFn });
    const http = () => new StreamableHTTPClientTransport(url, { requestInit, fetch: fetchFn });
    const transport = this.spec.transport;
    if (transport === "sse") return [sse()];
    if (transport === "streamable-http" || transport === "http") return [http()];
    // "auto": a path ending in /sse means SSE; otherwise Streamable HTTP, then SSE.
    return /\/sse\/?$/.test(url.pathname) ? [sse()] : [http(), sse()];
  }

  /** Connects (once at a time) and lists the tools. */
  connect(timeoutMs: number): Promise<Client> {
    if (this.#client) return Promise.resolve(this.#client);
    this.#connecting ??= this.#connect(timeoutMs).finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  async #connect(timeoutMs: number): Promise<Client> {
    if (this.#closed) throw new Error("closed");
    const errors: string[] = [];
    let transports: Transport[];
    try {
      transports = await this.#transports();
    } catch (error) {
      // A spec error (missing ${env:NAME}) is a failure, not "not ready yet".
      this.lastError = (error as Error).message;
      throw error;
    }
    for (const transport of transports) {
      if (this.#closed) throw new Error("closed");
      const client = new Client({ name: "infinigpt", version: "1" }, { capabilities: {} });
      this.#pending = client;
      try {
        const tools = await this.#open(client, transport, timeoutMs);
        this.#tools = tools;
        this.#client = client;
        this.lastError = undefined;
        return client;
      } catch (error) {
        const label = transports.length > 1
          ? `${transport.constructor.name.replace("ClientTransport", "")}: `
          : "";
        errors.push(label + (error instanceof Error ? error.message : String(error)));
        await client.close().catch(() => {});
        if (error instanceof McpSpecError) throw error;
      } finally {
        if (this.#pending === client) this.#pending = undefined;
      }
    }
    this.lastError = errors.join("; ");
    throw new Error(this.lastError);
  }

  /**
   * Connects `client` over `transport`, lists its tools (all pages) and
   * watches it: a lost connection is noticed, a changed tool list refreshed.
   */
  async #open(client: Client, transport: Transport, timeoutMs: number): Promise<McpTool[]> {
    await client.connect(transport, { timeout: timeoutMs });
    const tools: McpTool[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor ? { cursor } : undefined, {
        timeout: timeoutMs,
      });
      tools.push(...page.tools);
      cursor = page.nextCursor;
    } while (cursor && tools.length < 10_000);
    if (this.#closed) {
      await client.close().catch(() => {});
      throw new Error("closed");
    }
    client.onclose = () => {
      if (this.#client === client) {
        this.#client = undefined;
        if (!this.#closed) {
          log.warn(`MCP server '${this.name}' disconnected; reconnecting on the next call`);
        }
      }
    };
    client.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
      try {
        const page = await client.listTools(undefined, { timeout: timeoutMs });
        this.#tools = page.tools;
        log.info(`MCP server '${this.name}' now offers ${page.tools.length} tool(s)`);
        this.#options.onToolsChanged?.();
      } catch (error) {
        log.warn(
          `MCP server '${this.name}': tool list refresh failed: ${(error as Error).message}`,
        );
      }
    });
    return tools;
  }

  /** Calls a tool, reconnecting first when the connection was lost. */
  async call(
    tool: string,
    args: Record<string, unknown>,
    signal: AbortSignal,
    timeoutMs: number,
  ): Promise<CallToolResult> {
    const client = await this.connect(timeoutMs);
    return await client.callTool({ name: tool, arguments: args }, undefined, {
      signal,
      timeout: timeoutMs,
    }) as CallToolResult;
  }

  async close(): Promise<void> {
    this.#closed = true;
    const client = this.#client;
    this.#client = undefined;
    // A server still connecting (slow, or never answering) is ended now.
    await this.#pending?.close().catch(() => {});
    await this.#connecting?.catch(() => {});
    await client?.close().catch(() => {});
  }
}

function describeSpec(spec: LiveSpec): string {
  return spec.kind === "stdio" ? `${spec.command} ${spec.args.join(" ")}`.trim() : spec.url;
}

/** All configured MCP servers. */
export class McpManager {
  readonly #servers: McpServer[] = [];
  readonly #options: McpOptions;
  /** Aborted by {@link close}: ends the reconnect waits. */
  readonly #stop = new AbortController();
  #closed = false;
  /** start() has returned: a server connecting now is announced by onToolsChanged. */
  #started = false;

  constructor(specs: Record<string, McpServerSpec>, options: McpOptions) {
    this.#options = options;
    for (const [name, spec] of Object.entries(specs)) {
      if (spec.kind === "disabled") continue;
      this.#servers.push(new McpServer(name, spec, options));
    }
  }

  /** Names of the configured (not disabled) servers. */
  get names(): string[] {
    return this.#servers.map((s) => s.name);
  }

  /**
   * Connects every server in parallel and returns after all of them answered
   * or `connectTimeoutMs` passed, whichever is first. Late servers keep
   * connecting (up to the call timeout); failed ones are retried in the
   * background.
   */
  async start(): Promise<void> {
    if (!this.#servers.length) return;
    log.info(`MCP servers configured: [${this.names.join(", ")}]`);
    const timeoutMs = this.#options.connectTimeoutMs ?? 10_000;
    const connectMs = Math.max(timeoutMs, this.#options.callTimeoutMs ?? 60_000);
    const firstTries = this.#servers.map((server) => this.#keepConnecting(server, connectMs));
    await deadline(Promise.allSettled(firstTries), timeoutMs).catch(() => {});
    this.#started = true;
    for (const server of this.#servers) {
      if (!server.connected && !server.lastError) {
        log.warn(
          `MCP server '${server.name}' is not ready after ${timeoutMs} ms; starting without it for now`,
        );
      }
    }
    const total = this.#servers.reduce((n, s) => n + s.tools.length, 0);
    if (total === 0) log.warn("MCP servers are configured but none of them offers tools");
  }

  /**
   * Connects `server`, retrying in the background after a failure (not
   * after a spec error) until it works or the manager closes; resolves once
   * the first attempt has ended.
   */
  #keepConnecting(server: McpServer, timeoutMs: number): Promise<void> {
    return new Promise((firstTried) => {
      let late = false;
      retry(async () => {
        try {
          await this.#attempt(server, timeoutMs, late);
        } finally {
          late = true;
          firstTried();
        }
      }, {
        delays: this.#options.retryDelaysMs ?? [30_000, 60_000, 120_000, 300_000],
        isRetriable: (error) => !(error instanceof McpSpecError),
        signal: this.#stop.signal,
      }).catch(() => {});
    });
  }

  /** One connection attempt; a failure is logged (unless closing) and thrown. */
  async #attempt(server: McpServer, timeoutMs: number, late: boolean): Promise<void> {
    try {
      await server.connect(timeoutMs);
      const n = server.tools.length;
      if (n === 0) {
        log.warn(`MCP server '${server.name}' returned 0 tools (${describeSpec(server.spec)})`);
      } else log.info(`MCP server '${server.name}' returned ${n} tool(s)`);
      if (late || this.#started) this.#options.onToolsChanged?.();
    } catch (error) {
      if (this.#closed) throw error;
      const reason = error instanceof McpSpecError ? error.message : (error as Error).message;
      log.warn(
        `Failed to list tools from MCP server '${server.name}' (${
          describeSpec(server.spec)
        }): ${reason}`,
      );
      throw error;
    }
  }

  /** Each configured server: connected now, its tools, why it last failed (metrics, doctor). */
  status(): { name: string; up: boolean; tools: number; error?: string }[] {
    return this.#servers.map((s) => ({
      name: s.name,
      up: s.connected,
      tools: s.tools.length,
      ...(s.lastError ? { error: s.lastError } : {}),
    }));
  }

  /** The tools of connected servers, in server order, names made provider-safe. */
  tools(): Tool[] {
    const out: Tool[] = [];
    const callTimeoutMs = this.#options.callTimeoutMs ?? 60_000;
    const taken = new Set(this.#servers.flatMap((s) => s.tools.map((t) => t.name)));
    for (const server of this.#servers) {
      // A server's own `timeout` (seconds) overrides `llm.tool_timeout` for its calls.
      const own = server.spec.timeout;
      const timeoutMs = own !== undefined ? own * 1000 : callTimeoutMs;
      for (const tool of server.tools) {
        const exposed = safeToolName(tool.name, taken);
        taken.add(exposed);
        out.push({
          definition: toOpenAITool(tool, exposed),
          source: "mcp",
          server: server.name,
          ...(own !== undefined ? { timeoutMs } : {}),
          call: async (args, { signal }) => {
            try {
              const result = await server.call(tool.name, args, signal, timeoutMs);
              return formatCallResult(tool.name, result);
            } catch (error) {
              return new ToolOutput(
                errorResult(`Tool execution error for ${tool.name}: ${(error as Error).message}`),
              );
            }
          },
        });
      }
    }
    return out;
  }

  /** Closes every connection (stdio children are ended). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#stop.abort();
    await Promise.allSettled(this.#servers.map((s) => s.close()));
  }
}
