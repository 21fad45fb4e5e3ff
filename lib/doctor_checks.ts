/**
 * The checks of `infinigpt doctor` (decision 46): the homeserver, the
 * Matrix account, the store, every provider with a configured model, every
 * MCP server. Each asks the real thing, once, with a bounded wait; none
 * creates a device that stays (a saved session is checked with `whoami`; a
 * password is tried only when there is no session, and that device is
 * logged out again) and none asks a model for more than one token.
 *
 * @module
 */
import { join } from "node:path";
import type { Check, CheckResult, DoctorInputs } from "./doctor.ts";
import { providerChecks } from "./doctor_providers.ts";
import { HomeserverError } from "./homeserver.ts";
import { call, MatrixHttpError } from "./matrix_api.ts";
import { resolveHomeserver } from "./matrix_discovery.ts";
import { Store, StoreError } from "./store.ts";
import { loadStoreKey } from "./store_key.ts";
import { placeholderErrors, redactUrl } from "./check_config.ts";

export type { DoctorInputs };

const ok = (detail: string): CheckResult => ({ ok: true, detail });
const bad = (detail: string, hint?: string): CheckResult => ({ ok: false, detail, hint });

/** The checks in chains: each chain's steps in order, the chains all at once. */
export function doctorChecks(inputs: DoctorInputs): Check[][] {
  const found: { baseUrl?: string } = {};
  return [
    [configCheck(inputs)],
    [homeserverCheck(inputs, found), accountCheck(inputs, found)],
    [storeCheck(inputs)],
    ...providerChecks(inputs).map((c) => [c]),
    ...mcpChecks(inputs).map((c) => [c]),
  ];
}

/** The starter config's placeholders, which would fail the online checks anyway. */
function configCheck(inputs: DoctorInputs): Check {
  return {
    name: "config",
    run() {
      const errors = placeholderErrors(inputs.config);
      return Promise.resolve(
        errors.length
          ? bad(
            `${errors.length} placeholder value(s) of the starter config: ${
              errors.map((e) => e.slice(2).split(":")[0]).join(", ")
            }`,
            "infinigpt check-config lists them with what belongs there",
          )
          : ok("no placeholder values left"),
      );
    },
  };
}

/** Discovery and `/versions`: the base URL the other Matrix checks use. */
function homeserverCheck(inputs: DoctorInputs, found: { baseUrl?: string }): Check {
  const { server } = inputs.config.matrix;
  return {
    name: "homeserver",
    async run(signal) {
      try {
        const resolved = await resolveHomeserver(server, {
          fetch: inputs.fetch,
          signal,
          timeoutMs: 9_000,
        });
        found.baseUrl = resolved.baseUrl;
        const versions = await call(
          { fetch: inputs.fetch, signal, timeoutMs: 9_000 },
          resolved.baseUrl,
          "GET",
          "/_matrix/client/versions",
        );
        const list = Array.isArray(versions.versions) ? versions.versions as string[] : [];
        const via = resolved.via ? ` (found through ${resolved.via})` : "";
        return ok(
          `${redactUrl(resolved.baseUrl)} answers${via}, Matrix ${list.at(-1) ?? "(no versions)"}`,
        );
      } catch (error) {
        if (error instanceof HomeserverError) {
          return bad(
            error.message,
            "fix matrix.server: the homeserver's client URL (Element: Settings → Help & About) or its server name",
          );
        }
        throw error;
      }
    },
  };
}

/** A saved session in the store, read without opening (and locking) the store. */
function savedSession(
  storePath: string,
): { user_id: string; device_id: string; access_token: string } | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(join(storePath, "session.json"));
  } catch {
    return undefined;
  }
  try {
    const s = JSON.parse(text);
    return typeof s?.access_token === "string" ? s : undefined;
  } catch {
    return undefined;
  }
}

/** The account: the saved session by `whoami`, else the token, else a login logged out again. */
function accountCheck(inputs: DoctorInputs, found: { baseUrl?: string }): Check {
  const m = inputs.config.matrix;
  return {
    name: "matrix account",
    async run(signal) {
      const api = { fetch: inputs.fetch, signal, timeoutMs: 9_000 };
      const base = found.baseUrl!;
      const session = savedSession(m.store_path);
      const token = session?.access_token ?? m.access_token ?? undefined;
      try {
        if (token) {
          const who = await call(
            api,
            base,
            "GET",
            "/_matrix/client/v3/account/whoami",
            undefined,
            token,
          );
          const what = session
            ? `the saved session (device ${session.device_id})`
            : "matrix.access_token";
          if (who.user_id !== m.username) {
            return bad(
              `${what} belongs to ${who.user_id}, not matrix.username ${m.username}`,
              "use another matrix.store_path for another account, or fix matrix.username",
            );
          }
          return ok(`${what} of ${who.user_id} is valid`);
        }
        if (!m.password) {
          return bad(
            "no saved session, no matrix.access_token and no matrix.password",
            "set matrix.password (or INFINIGPT_MATRIX_PASSWORD) for the first login",
          );
        }
        return await tryLogin(api, base, m.username, m.password);
      } catch (error) {
        return accountFailure(error, !!session);
      }
    },
  };
}

/** A password login on a throwaway device, logged out at once: no device stays behind. */
async function tryLogin(
  api: { fetch?: typeof fetch; signal: AbortSignal; timeoutMs: number },
  base: string,
  user: string,
  password: string,
): Promise<CheckResult> {
  const login = await call(api, base, "POST", "/_matrix/client/v3/login", {
    type: "m.login.password",
    identifier: { type: "m.id.user", user },
    password,
    initial_device_display_name: "infinigpt doctor (logged out at once)",
  });
  const token = String(login.access_token ?? "");
  await call(api, base, "POST", "/_matrix/client/v3/logout", {}, token).catch(() => {});
  return ok(
    `password login as ${login.user_id} works (no session saved yet; the test device was logged out)`,
  );
}

function accountFailure(error: unknown, fromSession: boolean): CheckResult {
  if (error instanceof MatrixHttpError) {
    if (error.errcode === "M_UNKNOWN_TOKEN" || error.status === 401) {
      return bad(
        fromSession
          ? "the saved session is no longer valid (logged out or deleted)"
          : "matrix.access_token is not valid",
        fromSession
          ? "the bot never makes a new device on its own: stop it, remove session.json and crypto.db from the store (users verify the new device), or restore a backup"
          : "use a valid token, or matrix.password instead",
      );
    }
    if (error.errcode === "M_FORBIDDEN") {
      return bad(
        "login refused: wrong user name or password (M_FORBIDDEN)",
        "fix matrix.username and matrix.password (INFINIGPT_MATRIX_PASSWORD wins)",
      );
    }
    return bad(error.message);
  }
  if (error instanceof HomeserverError) return bad(error.message);
  throw error;
}

/** The store: writable, not in use, and the store key valid (and opening it, when there is one). */
function storeCheck(inputs: DoctorInputs): Check {
  const m = inputs.config.matrix;
  return {
    name: "store",
    async run() {
      const exists = await Deno.stat(m.store_path).then(() => true, () => false);
      let key: Uint8Array | undefined;
      try {
        key = await loadStoreKey(inputs.env.INFINIGPT_STORE_KEY, m.store_key_file);
      } catch (error) {
        return bad((error as Error).message, "make it 32 bytes: openssl rand -hex 32 > store.key");
      }
      if (!exists) {
        return ok(
          `${m.store_path} will be created at the first start${key ? ", store key set" : ""}`,
        );
      }
      let store: Store;
      try {
        store = Store.open(m.store_path);
      } catch (error) {
        if (error instanceof StoreError) {
          return bad(
            error.message,
            "doctor checks the store while the bot is stopped; one process per store",
          );
        }
        throw error;
      }
      store.close();
      const keyNote = !m.e2e
        ? ""
        : key
        ? ", store key set"
        : "; no store key: the encryption keys are not encrypted at rest";
      const crypto = join(m.store_path, "crypto.db");
      const hasCrypto = await Deno.stat(crypto).then(() => true, () => false);
      if (m.e2e && key && hasCrypto) {
        // Loaded only here: it brings the crypto wasm.
        const { storeKeyOpens } = await import("./doctor_crypto.ts");
        const problem = await storeKeyOpens(crypto, key);
        if (problem) {
          return bad(
            `the store key does not open ${crypto}: ${problem}`,
            "set the key the store was created with; a store created without a key is used without one",
          );
        }
        return ok(`${m.store_path} is writable and not in use; the store key opens crypto.db`);
      }
      return ok(`${m.store_path} is writable and not in use${keyNote}`);
    },
  };
}

/** One check per configured MCP server: it connects and lists its tools. */
function mcpChecks(inputs: DoctorInputs): Check[] {
  return Object.entries(inputs.config.llm.mcp_servers).filter(([, spec]) =>
    spec.kind !== "disabled"
  )
    .map(([name, spec]) => ({
      name: `mcp ${name}`,
      async run() {
        // Loaded only when configured: the MCP SDK is large.
        const { McpManager } = await import("./mcp.ts");
        const manager = new McpManager({ [name]: spec }, {
          env: inputs.env,
          connectTimeoutMs: 9_000,
          callTimeoutMs: 9_000,
          retryDelaysMs: [],
        });
        try {
          await manager.start();
          const [status] = manager.status();
          if (status.up) return ok(`connected, ${status.tools} tool(s)`);
          return bad(
            status.error ? `cannot connect: ${status.error}` : "no answer within 9 s",
            spec.kind === "stdio"
              ? "check that the command runs in this shell (and under the service's PATH)"
              : "check the URL, the headers and that the server runs",
          );
        } finally {
          await manager.close();
        }
      },
    }));
}

/** `infinigpt doctor`: runs the checks, prints the report on stdout; exit 0 when all pass. */
export async function runDoctor(
  inputs: DoctorInputs & { path: string; io: { stdout(text: string): void } },
): Promise<number> {
  const { runChains, formatReport, exitCodeOf } = await import("./doctor.ts");
  inputs.io.stdout(`Checking ${inputs.path} (each check at most 10 s)…\n`);
  const results = await runChains(doctorChecks(inputs));
  inputs.io.stdout(formatReport(results) + "\n");
  return exitCodeOf(results);
}
