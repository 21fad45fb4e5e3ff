/**
 * The bot's Matrix session: one device for the bot's whole life. The first
 * start logs in (password, or a configured access token) and keeps the
 * session in `<store>/session.json` (0600); every later start reuses it and
 * checks it with `whoami`. A revoked token is an error that tells the
 * operator what to do — never a silent new device. No logout, ever.
 *
 * @module
 */
import type { Config } from "./config.ts";
import { missingLoginFields } from "./homeserver.ts";
import { getLogger, registerSecret } from "./log.ts";
import { type ApiOptions, baseUrl, call, MatrixHttpError, withRetry } from "./matrix_api.ts";
import { resolveHomeserver } from "./matrix_discovery.ts";
import { type Store, writeFileAtomic } from "./store.ts";

const log = getLogger("session");

/** What is kept in `session.json`. */
export interface Session {
  /** The homeserver's client-server API base URL. */
  homeserver: string;
  /** The bot's Matrix ID. */
  user_id: string;
  /** The bot's one device. */
  device_id: string;
  /** The device's access token (a secret). */
  access_token: string;
}

/** The session cannot be used; `message` tells the operator what to do. */
export class SessionError extends Error {}

/** Options for {@link ensureSession}. */
export interface SessionOptions extends ApiOptions {
  /** The configuration (`matrix.*`). */
  config: Config;
  /** Where `session.json` is kept. */
  store: Store;
}

/** Reads `session.json`, if there is one. */
export function readSession(store: Store): Session | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(store.path("session.json"));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw new SessionError(
      `Cannot read ${store.path("session.json")}: ${(error as Error).message}`,
    );
  }
  try {
    const s = JSON.parse(text) as Session;
    if (
      [s.homeserver, s.user_id, s.device_id, s.access_token].every((v) =>
        typeof v === "string" && v
      )
    ) {
      return s;
    }
  } catch {
    // Reported below.
  }
  throw new SessionError(
    `${store.path("session.json")} is damaged. Restore it from a backup of the store directory; ` +
      `deleting it makes the bot log in as a new device (encrypted history sent to the old one is lost).`,
  );
}

function writeSession(store: Store, session: Session): void {
  writeFileAtomic(store.path("session.json"), JSON.stringify(session, null, 2) + "\n", 0o600);
}

const REVOKED =
  "The saved Matrix session is no longer valid (the access token was revoked or the device was deleted, " +
  "for example by logging it out in another client). The bot does not create a new device on its own: " +
  "to start over as a new device, stop the bot and remove session.json and crypto.db from the store " +
  "directory (users will have to verify the new device), or restore the store from a backup.";

/** The fields a login answer must carry (and `whoami`, `user_id`). */
const LOGIN_FIELDS = ["user_id", "device_id", "access_token"] as const;

function incompleteAnswer(what: string, missing: string, expected: string): SessionError {
  return new SessionError(
    `The homeserver's ${what} answer has no ${missing} (it must carry ${expected}); ` +
      `nothing was saved. Check that matrix.server is the homeserver's client URL.`,
  );
}

/** Finds the homeserver for `matrix.server` (waiting while it cannot be reached). */
async function findHomeserver(options: SessionOptions): Promise<string> {
  const { server } = options.config.matrix;
  const resolved = await withRetry(
    options,
    `Finding the homeserver ${server}`,
    () =>
      resolveHomeserver(server, {
        fetch: options.fetch,
        timeoutMs: options.timeoutMs,
        signal: options.signal,
      }),
  );
  if (resolved.via) log.info(`Homeserver ${resolved.baseUrl} (named by ${resolved.via})`);
  else if (resolved.baseUrl !== baseUrl(server)) {
    log.info(`Homeserver ${resolved.baseUrl} (${server} has no .well-known/matrix/client)`);
  } else log.debug(`Homeserver ${resolved.baseUrl}`);
  return resolved.baseUrl;
}

/**
 * Returns a usable session: the saved one after checking it, or a new one
 * from login. Finds the homeserver first (decision 33), and waits (with
 * backoff) while it cannot be reached, saying why.
 */
export async function ensureSession(options: SessionOptions): Promise<Session> {
  const { config, store } = options;
  const m = config.matrix;
  const saved = readSession(store);
  if (saved) {
    registerSecret(saved.access_token);
    if (saved.user_id !== m.username) {
      throw new SessionError(
        `The store ${store.dir} belongs to ${saved.user_id}, but matrix.username is ${m.username}. ` +
          `Use another matrix.store_path for another account.`,
      );
    }
  }
  const homeserver = await findHomeserver(options);
  if (saved) return await checkSaved(options, homeserver, saved);
  if (m.access_token) return await fromAccessToken(options, homeserver, m.access_token);
  return await fromLogin(options, homeserver);
}

/** `whoami` with `token`, retried while the homeserver cannot be reached. */
function whoami(
  options: SessionOptions,
  homeserver: string,
  token: string,
  what: string,
): Promise<Record<string, unknown>> {
  return withRetry(
    options,
    what,
    () => call(options, homeserver, "GET", "/_matrix/client/v3/account/whoami", undefined, token),
  );
}

/** The saved session, checked with `whoami` (a revoked one is an error, never a new device). */
async function checkSaved(
  options: SessionOptions,
  homeserver: string,
  saved: Session,
): Promise<Session> {
  if (baseUrl(saved.homeserver) !== baseUrl(homeserver)) {
    log.warn(
      `Homeserver URL changed from ${saved.homeserver} to ${homeserver}; keeping the session`,
    );
    saved.homeserver = homeserver;
    writeSession(options.store, saved);
  }
  try {
    const who = await whoami(
      options,
      homeserver,
      saved.access_token,
      `Checking the session at ${homeserver}`,
    );
    if (who.device_id && who.device_id !== saved.device_id) {
      throw new SessionError(
        `The access token belongs to device ${who.device_id}, not ${saved.device_id}`,
      );
    }
  } catch (error) {
    if (
      error instanceof MatrixHttpError &&
      (error.errcode === "M_UNKNOWN_TOKEN" || error.status === 401)
    ) {
      throw new SessionError(REVOKED);
    }
    throw error;
  }
  log.info(`Using the saved session: ${saved.user_id}, device ${saved.device_id}`);
  return saved;
}

/** A session from `matrix.access_token`, its user (and device) from `whoami`; saved. */
async function fromAccessToken(
  options: SessionOptions,
  homeserver: string,
  token: string,
): Promise<Session> {
  const m = options.config.matrix;
  registerSecret(token);
  const who = await whoami(
    options,
    homeserver,
    token,
    `Checking matrix.access_token at ${homeserver}`,
  )
    .catch((error) => {
      if (error instanceof MatrixHttpError && error.status === 401) {
        throw new SessionError(
          "matrix.access_token is not valid (the homeserver answered M_UNKNOWN_TOKEN)",
        );
      }
      throw error;
    });
  const noUser = missingLoginFields(who, ["user_id"]);
  if (noUser) throw incompleteAnswer("whoami", noUser, "user_id");
  const device = (typeof who.device_id === "string" && who.device_id) || m.device_id;
  if (!device) {
    throw new SessionError(
      "matrix.device_id is required with matrix.access_token (the homeserver did not say)",
    );
  }
  const session = {
    homeserver,
    user_id: who.user_id as string,
    device_id: device,
    access_token: token,
  };
  writeSession(options.store, session);
  log.info(
    `Saved the session of ${session.user_id}, device ${session.device_id} (from matrix.access_token)`,
  );
  return session;
}

/** A session from a password login, on a new device when the configured one has foreign keys; saved. */
async function fromLogin(options: SessionOptions, homeserver: string): Promise<Session> {
  const m = options.config.matrix;
  let login = await passwordLogin(options, homeserver, m.device_id || undefined);
  if (m.device_id && m.e2e && await hasDeviceKeys(options, homeserver, login, m.device_id)) {
    // Encryption keys of another client (the Python bot writes its device id
    // into config.json) that this store does not hold: clients would keep
    // encrypting to them and the bot could read nothing in encrypted rooms.
    log.warn(
      `Device ${m.device_id} (matrix.device_id) already has encryption keys that this store ` +
        `does not hold, probably from another program or an earlier store; using a new device ` +
        `instead. Empty matrix.device_id, and remove the old session in Element ` +
        `(Settings → Sessions) once nothing uses it.`,
    );
    login = await passwordLogin(options, homeserver, undefined);
  }
  const session: Session = { homeserver, ...login };
  writeSession(options.store, session);
  log.info(
    `Logged in as ${session.user_id}, ${
      session.device_id === m.device_id ? "device" : "new device"
    } ${session.device_id}; session saved`,
  );
  return session;
}

async function passwordLogin(
  options: SessionOptions,
  homeserver: string,
  deviceId: string | undefined,
): Promise<Omit<Session, "homeserver">> {
  const m = options.config.matrix;
  let answer: Record<string, unknown>;
  try {
    answer = await withRetry(
      options,
      `Logging in at ${homeserver}`,
      () =>
        call(options, homeserver, "POST", "/_matrix/client/v3/login", {
          type: "m.login.password",
          identifier: { type: "m.id.user", user: m.username },
          password: m.password,
          ...(deviceId ? { device_id: deviceId } : {}),
          initial_device_display_name: m.device_name,
        }),
    );
  } catch (error) {
    if (error instanceof MatrixHttpError && error.status === 403) {
      throw new SessionError(
        `Login as ${m.username} failed: wrong user name or password (${error.errcode})`,
      );
    }
    throw error;
  }
  // A token in an answer that is otherwise unusable is still a secret.
  if (typeof answer.access_token === "string") registerSecret(answer.access_token);
  const missing = missingLoginFields(answer, LOGIN_FIELDS);
  if (missing) throw incompleteAnswer("login", missing, LOGIN_FIELDS.join(", "));
  return {
    user_id: answer.user_id as string,
    device_id: answer.device_id as string,
    access_token: answer.access_token as string,
  };
}

/** Whether the homeserver already has identity keys for this device of ours. */
async function hasDeviceKeys(
  options: SessionOptions,
  homeserver: string,
  login: Omit<Session, "homeserver">,
  deviceId: string,
): Promise<boolean> {
  const user = login.user_id;
  let keys: Record<string, unknown>;
  try {
    keys = await withRetry(
      options,
      `Checking the configured device at ${homeserver}`,
      () =>
        call(
          options,
          homeserver,
          "POST",
          "/_matrix/client/v3/keys/query",
          { device_keys: { [user]: [deviceId] } },
          login.access_token,
        ),
    );
  } catch (error) {
    if (!(error instanceof MatrixHttpError)) throw error;
    log.debug(`Could not check device ${deviceId}: ${error.message}`);
    return false;
  }
  const devices = (keys.device_keys as Record<string, Record<string, unknown>> | undefined)?.[user];
  return !!devices?.[deviceId];
}
