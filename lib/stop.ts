/**
 * Stopping at any moment (decision 33): the process's stop signals, and a
 * way to stop waiting for a phase of the start (login retries, the first
 * sync, MCP servers, joins) the moment the bot is told to stop.
 *
 * @module
 */

/** The wait was given up because the bot is stopping. */
export class StoppedError extends Error {
  constructor() {
    super("stopped");
    this.name = "StoppedError";
  }
}

/**
 * Settles like `promise`, or rejects with {@link StoppedError} as soon as
 * `signal` aborts (at once when it already has). The work behind `promise`
 * is not cancelled: its owner stops it (the Matrix client, the MCP
 * servers); a late rejection of it is swallowed, not left unhandled.
 */
export function untilStopped<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return promise;
  promise.catch(() => {});
  if (signal.aborted) return Promise.reject(new StoppedError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new StoppedError());
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** Calls `handler` on SIGINT and SIGTERM (SIGBREAK on Windows); returns the remover. */
export function onStopSignals(handler: () => void): () => void {
  const signals: Deno.Signal[] = Deno.build.os === "windows"
    ? ["SIGINT", "SIGBREAK"]
    : ["SIGINT", "SIGTERM"];
  const added: Deno.Signal[] = [];
  for (const signal of signals) {
    try {
      Deno.addSignalListener(signal, handler);
      added.push(signal);
    } catch {
      // Not supported on this platform.
    }
  }
  return () => added.forEach((s) => Deno.removeSignalListener(s, handler));
}
