/**
 * `deno task start` / `deno task console`: starts `main.ts` under the least
 * permissions its config needs (lib/permissions.ts) and passes every
 * argument through.
 *
 * The launcher reads the config, computes the flags and then *becomes* the
 * bot: it replaces itself with `deno run <flags> main.ts …` (execve, see
 * scripts/exec.ts), so one Deno process runs besides the task runner, the
 * runner's SIGINT/SIGTERM reach the bot, and the exit code is the bot's.
 * Where exec is not available (Windows, no `--allow-ffi`) it starts the bot
 * as a child, forwards SIGINT/SIGTERM and exits with the bot's exit code.
 * The bot gets only what `permissionFlags()` grants, never the launcher's
 * `--allow-run`/`--allow-ffi`. `INFINIGPT_LAUNCH_DRY=1` prints the command
 * instead of running it.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { dirname } from "node:path";
import { configPath as resolveConfigPath, loadConfig } from "../lib/config.ts";
import { processEnv } from "../lib/env.ts";
import { BOT_ENV, botRunArgs } from "../lib/permissions.ts";
import { exec } from "./exec.ts";

const appDir = dirname(dirname(fileURLToPath(import.meta.url)));
const args = [...Deno.args];
const { values, positionals } = parseArgs({
  args,
  strict: false,
  allowPositionals: true,
  options: {
    config: { type: "string", short: "c" },
    "store-path": { type: "string", short: "s" },
    model: { type: "string", short: "m" },
  },
});
const configPath = resolveConfigPath({
  path: typeof values.config === "string" ? values.config : undefined,
  env: processEnv,
});
let config;
if (positionals[0] !== "init") {
  try {
    config = (await loadConfig({
      path: configPath,
      env: processEnv,
      overrides: {
        storePath: typeof values["store-path"] === "string" ? values["store-path"] : undefined,
        model: typeof values.model === "string" ? values.model : undefined,
      },
    })).config;
  } catch {
    // The bot itself reports what is wrong (exit code 2); it only needs to read the file.
  }
}
const runArgs = botRunArgs({
  config,
  configPath,
  appDir,
  cwd: Deno.cwd(),
  console: positionals[0] === "console",
}, args);
if (positionals[0] === "init") {
  // init writes the config and the store key and creates the store directory.
  runArgs.splice(1, 0, `--allow-write=${configPath},store,store.key`);
}
if (Deno.env.get("INFINIGPT_LAUNCH_DRY") === "1") {
  console.log(["deno", ...runArgs].join(" "));
  Deno.exit(0);
}
const env: Record<string, string> = {};
for (const [name, value] of Object.entries(BOT_ENV)) {
  if (Deno.env.get(name) === undefined) env[name] = value;
}
exec(Deno.execPath(), runArgs, { ...Deno.env.toObject(), ...env });
// Still here: no exec on this system; the bot runs as a child.
const child = new Deno.Command(Deno.execPath(), {
  args: runArgs,
  env,
  stdin: "inherit",
  stdout: "inherit",
  stderr: "inherit",
}).spawn();
const forward = (signal: Deno.Signal) => () => {
  try {
    child.kill(signal);
  } catch {
    // Already gone.
  }
};
for (const signal of ["SIGINT", "SIGTERM"] as Deno.Signal[]) {
  try {
    Deno.addSignalListener(signal, forward(signal));
  } catch {
    // Not on this platform (Windows has no SIGTERM).
  }
}
const status = await child.status;
Deno.exit(status.signal ? 128 + (status.signal === "SIGINT" ? 2 : 15) : status.code);
