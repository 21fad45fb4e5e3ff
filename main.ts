/**
 * InfiniGPT command-line entry point. See `infinigpt --help`.
 *
 * @module
 */
import { runCli } from "./lib/cli.ts";
import { getLogger } from "./lib/log.ts";

// An SDK callback that rejects must not take the bot down (Deno exits on
// unhandled rejections by default).
globalThis.addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  const reason = event.reason instanceof Error
    ? event.reason.stack ?? event.reason.message
    : String(event.reason);
  getLogger("process").error(`Unhandled rejection (ignored): ${reason}`);
});

if (import.meta.main) {
  Deno.exit(await runCli(Deno.args));
}
