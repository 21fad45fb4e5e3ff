/**
 * The HTTP endpoint of `metrics.listen` (decision 45): `GET /healthz` and
 * `GET /metrics`, nothing else. It serves no user data and takes no input
 * beyond the path, so it needs no authentication; bind it to an address
 * only your monitoring reaches.
 *
 * @module
 */
import { type BotMetrics, metrics as processMetrics } from "./bot_metrics.ts";
import { getLogger } from "./log.ts";
import { EXPOSITION_CONTENT_TYPE } from "./metrics.ts";

const log = getLogger("metrics");

/** `host:port` split; `undefined` when it is not one. IPv6 hosts in brackets. */
export function parseListen(listen: string): { hostname: string; port: number } | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s\[\]]*)):(\d{1,5})$/.exec(listen.trim());
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port > 65535) return undefined;
  const hostname = match[1] ?? (match[2] || "0.0.0.0");
  return { hostname, port };
}

/** The answer to one request (pure: the server only sends it). */
export function respond(
  method: string,
  path: string,
  metrics: Pick<BotMetrics, "health" | "registry">,
): { status: number; type: string; body: string } {
  const text = "text/plain; charset=utf-8";
  if (method !== "GET" && method !== "HEAD") {
    return { status: 405, type: text, body: "only GET\n" };
  }
  if (path === "/healthz") {
    const { ok, reason } = metrics.health();
    return { status: ok ? 200 : 503, type: text, body: `${reason}\n` };
  }
  if (path === "/metrics") {
    return { status: 200, type: EXPOSITION_CONTENT_TYPE, body: metrics.registry.render() };
  }
  return { status: 404, type: text, body: "not found: try /metrics or /healthz\n" };
}

/** A running metrics endpoint. */
export interface MetricsServer {
  /** The address it listens on (the port the system chose when 0 was asked). */
  readonly address: { hostname: string; port: number };
  /** Stops listening. */
  close(): Promise<void>;
}

/**
 * Listens on `listen` (`host:port`). Throws when the address cannot be
 * parsed or bound, so a wrong setting stops the start with the reason.
 */
export function serveMetrics(
  listen: string,
  metrics: BotMetrics = processMetrics,
): MetricsServer {
  const where = parseListen(listen);
  if (!where) throw new Error(`metrics.listen must be host:port, got "${listen}"`);
  let server: Deno.HttpServer;
  try {
    server = listenOn(where, metrics);
  } catch (error) {
    throw new Error(`metrics.listen ${listen}: cannot listen: ${(error as Error).message}`);
  }
  const addr = server.addr as Deno.NetAddr;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  log.info(`Metrics on http://${host}:${addr.port}/metrics and /healthz`);
  return {
    address: { hostname: addr.hostname, port: addr.port },
    close: async () => {
      await server.shutdown();
    },
  };
}

function listenOn(where: { hostname: string; port: number }, metrics: BotMetrics): Deno.HttpServer {
  return Deno.serve({
    ...where,
    onListen: () => {},
    onError: (error) => {
      log.warn(`Metrics endpoint: ${(error as Error).message}`);
      return new Response("internal error\n", { status: 500 });
    },
  }, (request) => {
    const { status, type, body } = respond(request.method, new URL(request.url).pathname, metrics);
    return new Response(request.method === "HEAD" ? null : body, {
      status,
      headers: { "content-type": type, "cache-control": "no-store" },
    });
  });
}
