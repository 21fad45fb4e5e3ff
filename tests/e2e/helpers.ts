/**
 * End-to-end helpers: users on a real Synapse (URL and shared secret from
 * `SYNAPSE_URL` / `SYNAPSE_SHARED_SECRET`), a real matrix-js-sdk client with
 * Rust crypto, and the real bot process started with the `start` task's
 * exact command line.
 *
 * @module
 */
import "fake-indexeddb/auto";
import { createHmac } from "node:crypto";
import * as sdk from "matrix-js-sdk";
import { decryptAttachment, encryptAttachment } from "../../lib/attachments.ts";
import { routeSdkLogs } from "../../lib/matrix_client.ts";
import denoJson from "../../deno.json" with { type: "json" };
import { FakeOpenAI } from "../fixtures/fake_openai.ts";
import { rawConfig } from "../fixtures/harness.ts";
import { loadConfig } from "../../lib/config.ts";
import { binaryProfileRunArgs, BOT_ENV, botRunArgs } from "../../lib/permissions.ts";

routeSdkLogs(false);

/** The homeserver under test. */
export const SYNAPSE_URL = Deno.env.get("SYNAPSE_URL") ?? "http://127.0.0.1:8008";
const SECRET = Deno.env.get("SYNAPSE_SHARED_SECRET") ?? "synapse-test-shared-secret";
/** The repository root. */
export const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");

/** A fresh, unique name. */
export function unique(prefix: string): string {
  return `${prefix}${crypto.randomUUID().slice(0, 8)}`;
}

/** Registers a user with the shared-secret admin API. */
export async function registerUser(
  name: string,
  password: string,
  admin = false,
  homeserver = SYNAPSE_URL,
): Promise<{ user_id: string; access_token: string; device_id: string }> {
  const api = `${homeserver}/_synapse/admin/v1/register`;
  const { nonce } = await (await fetch(api)).json();
  const mac = createHmac("sha1", SECRET)
    .update([nonce, name, password, admin ? "admin" : "notadmin"].join("\0"))
    .digest("hex");
  const response = await fetch(api, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ nonce, username: name, password, admin, mac }),
  });
  if (!response.ok) {
    throw new Error(`register ${name}: ${response.status} ${await response.text()}`);
  }
  return await response.json();
}

/** Waits until `check` returns a value, polling. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 30_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value as T;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A message as a test client saw it. */
export interface Seen {
  eventId: string;
  room: string;
  sender: string;
  type: string;
  content: Record<string, unknown>;
  encrypted: boolean;
  ts: number;
  /** The latest replacement content, when edited. */
  edited?: Record<string, unknown>;
  /** Why it could not be decrypted, if it could not. */
  failure?: string;
  /** Server timestamp of the edit shown in `edited`. */
  editedTs?: number;
  /** Set when the sender redacted it. */
  redacted?: boolean;
}

/** A matrix-js-sdk client with Rust crypto (in memory), as a user of the bot. */
export class TestClient {
  readonly client: sdk.MatrixClient;
  readonly userId: string;
  readonly password: string;
  /** Limited ("gappy") syncs seen after the first one. */
  gaps = 0;
  /** Every decrypted timeline event from others, in arrival order. */
  readonly seen: Seen[] = [];

  private constructor(client: sdk.MatrixClient, userId: string, password: string) {
    this.client = client;
    this.userId = userId;
    this.password = password;
  }

  /** Registers a user and logs in a client for it. */
  static async create(
    prefix = "user",
    options: { admin?: boolean; homeserver?: string } = {},
  ): Promise<TestClient> {
    const name = unique(prefix);
    const password = `pw-${name}`;
    const homeserver = options.homeserver ?? SYNAPSE_URL;
    const reg = await registerUser(name, password, options.admin, homeserver);
    const store = new sdk.MemoryStore();
    const client = sdk.createClient({
      baseUrl: homeserver,
      userId: reg.user_id,
      deviceId: reg.device_id,
      accessToken: reg.access_token,
      store,
      verificationMethods: ["m.sas.v1"],
    });
    await client.initRustCrypto({ useIndexedDB: false });
    const me = new TestClient(client, reg.user_id, password);
    client.on(sdk.RoomEvent.Timeline, (event, room, toStart) => {
      if (toStart || !room) return;
      void me.#record(event, room.roomId);
    });
    // A limited sync drops the events in its gap from the live timeline: count them.
    client.on(sdk.RoomEvent.TimelineReset, () => void me.gaps++);
    const prepared = new Promise<void>((resolve) => {
      client.on(sdk.ClientEvent.Sync, (state) => state === "PREPARED" && resolve());
    });
    // Synapse's default of 10 events per room and sync loses events when the
    // bot sends a burst (a restart answering its backlog): ask for them all.
    const filter = new sdk.Filter(reg.user_id);
    filter.setDefinition({ room: { timeline: { limit: 1000 } } });
    await client.startClient({ initialSyncLimit: 0, filter });
    await prepared;
    return me;
  }

  async #record(event: sdk.MatrixEvent, room: string): Promise<void> {
    if (event.getSender() === this.userId) return;
    await this.client.decryptEventIfNeeded(event);
    if (event.isDecryptionFailure()) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 20_000);
        event.once(sdk.MatrixEventEvent.Decrypted, () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    if (event.getType() === "m.room.redaction") {
      const target = event.event.redacts ?? (event.getContent().redacts as string | undefined);
      const seen = this.seen.find((s) => s.eventId === target);
      if (seen) seen.redacted = true;
      // The target may still be waiting for its keys (redactions are never encrypted).
      else if (target) this.#redactions.add(target);
      return;
    }
    const content = event.getContent();
    const relates = content["m.relates_to"] as { rel_type?: string; event_id?: string } | undefined;
    if (relates?.rel_type === "m.replace" && relates.event_id) {
      // Edits may decrypt before their target; the newest edit (server time) wins.
      const edit = {
        content: content["m.new_content"] as Record<string, unknown>,
        ts: event.getTs(),
      };
      const target = this.seen.find((s) => s.eventId === relates.event_id);
      if (target) this.#applyEdit(target, edit);
      else {this.#pendingEdits.set(relates.event_id, [
          ...(this.#pendingEdits.get(relates.event_id) ?? []),
          edit,
        ]);}
      return;
    }
    const seen: Seen = {
      eventId: event.getId()!,
      room,
      sender: event.getSender()!,
      type: event.getType(),
      content,
      encrypted: event.isEncrypted(),
      ts: event.getTs(),
      failure: event.isDecryptionFailure() ? String(event.decryptionFailureReason) : undefined,
    };
    if (this.#redactions.delete(seen.eventId)) seen.redacted = true;
    this.seen.push(seen);
    for (const edit of this.#pendingEdits.get(seen.eventId) ?? []) this.#applyEdit(seen, edit);
    this.#pendingEdits.delete(seen.eventId);
  }

  readonly #pendingEdits = new Map<
    string,
    Array<{ content: Record<string, unknown>; ts: number }>
  >();
  readonly #editTs = new Map<string, number>();
  readonly #redactions = new Set<string>();

  #applyEdit(target: Seen, edit: { content: Record<string, unknown>; ts: number }): void {
    const last = this.#editTs.get(target.eventId) ?? -Infinity;
    if (edit.ts < last) return;
    this.#editTs.set(target.eventId, edit.ts);
    target.edited = edit.content;
    target.editedTs = edit.ts;
  }

  /** Creates a room (encrypted by default) and invites users. */
  async createRoom(
    options: { encrypted?: boolean; invite?: string[]; name?: string } = {},
  ): Promise<string> {
    const { room_id } = await this.client.createRoom({
      name: options.name,
      invite: options.invite,
      initial_state: options.encrypted === false ? [] : [{
        type: "m.room.encryption",
        state_key: "",
        content: { algorithm: "m.megolm.v1.aes-sha2" },
      }],
    });
    await waitFor("room in sync", () => this.client.getRoom(room_id) ?? undefined);
    return room_id;
  }

  /** Joins a room it was invited to and waits until its state (encryption) is synced. */
  async join(room: string): Promise<void> {
    await waitFor(`invite to ${room}`, async () => {
      try {
        await this.client.joinRoom(room);
        return true;
      } catch {
        return undefined;
      }
    });
    await waitFor(`${room} synced`, () => {
      const r = this.client.getRoom(room);
      return r?.getMyMembership() === "join" && r.currentState.getStateEvents("m.room.create", "")
        ? true
        : undefined;
    });
  }

  /** Waits until `userId` joined the room. */
  async waitForJoin(room: string, userId: string, timeoutMs = 30_000): Promise<void> {
    await waitFor(
      `${userId} to join ${room}`,
      () => this.client.getRoom(room)?.getMember(userId)?.membership === "join" || undefined,
      timeoutMs,
    );
  }

  /** Sends a text message; returns its event id. */
  async send(room: string, body: string, extra: Record<string, unknown> = {}): Promise<string> {
    const send = this.client.sendEvent.bind(this.client) as unknown as (
      r: string,
      t: string,
      c: Record<string, unknown>,
    ) => Promise<{ event_id: string }>;
    return (await send(room, "m.room.message", { msgtype: "m.text", body, ...extra })).event_id;
  }

  /**
   * Sends an image (`m.image`) or a file (`m.file`) with a caption (none
   * when empty): uploaded, encrypted first in an encrypted room. Returns
   * the event id.
   */
  async sendMedia(
    room: string,
    media: {
      kind: "image" | "file";
      bytes: Uint8Array;
      name: string;
      mimetype: string;
      caption?: string;
      extra?: Record<string, unknown>;
    },
  ): Promise<string> {
    const encrypted = (await this.client.getCrypto()?.isEncryptionEnabledInRoom(room)) ?? false;
    const content: Record<string, unknown> = {
      msgtype: media.kind === "image" ? "m.image" : "m.file",
      body: media.caption || media.name,
      filename: media.name,
      info: { mimetype: media.mimetype, size: media.bytes.length },
      ...media.extra,
    };
    if (encrypted) {
      const { data, info } = await encryptAttachment(media.bytes);
      const upload = await this.client.uploadContent(
        new Blob([data as BlobPart], { type: "application/octet-stream" }),
        { name: "encrypted", type: "application/octet-stream", includeFilename: false },
      );
      content.file = { ...info, url: upload.content_uri };
    } else {
      const upload = await this.client.uploadContent(
        new Blob([media.bytes as BlobPart], { type: media.mimetype }),
        { name: media.name, type: media.mimetype },
      );
      content.url = upload.content_uri;
    }
    const send = this.client.sendEvent.bind(this.client) as unknown as (
      r: string,
      t: string,
      c: Record<string, unknown>,
    ) => Promise<{ event_id: string }>;
    return (await send(room, "m.room.message", content)).event_id;
  }

  /** The text a reply shows: the latest edit, else the body. */
  static text(seen: Seen): string {
    return String((seen.edited ?? seen.content).body ?? "");
  }

  /**
   * Waits for a message from `sender` in `room` whose visible text matches,
   * returning it. Placeholders ("Thinking") do not count until edited.
   */
  waitForMessage(
    room: string,
    sender: string,
    match: (text: string, seen: Seen) => boolean,
    timeoutMs = 30_000,
  ): Promise<Seen> {
    return waitFor(
      `a message from ${sender} in ${room}`,
      () =>
        this.seen.find((s) =>
          s.room === room && s.sender === sender && s.type === "m.room.message" &&
          match(TestClient.text(s), s)
        ),
      timeoutMs,
    );
  }

  /** Downloads (and decrypts, for `file`) the media of an `m.image` event. */
  async downloadImage(seen: Seen): Promise<Uint8Array> {
    const file = seen.content.file as
      | { url: string; key: { k: string }; iv: string; hashes: { sha256: string } }
      | undefined;
    const mxc = file?.url ?? String(seen.content.url);
    const http = this.client.mxcUrlToHttp(mxc, undefined, undefined, undefined, false, true, true)!;
    const response = await fetch(http, {
      headers: { authorization: `Bearer ${this.client.getAccessToken()}` },
    });
    if (!response.ok) throw new Error(`download ${mxc}: ${response.status}`);
    const bytes = new Uint8Array(await response.arrayBuffer());
    return file ? await decryptAttachment(bytes, file as never) : bytes;
  }

  /** Stops the client. */
  stop(): void {
    this.client.stopClient();
  }
}

/**
 * The arguments `deno task start --config <file>` runs the bot with: the
 * launcher's least-privilege flags for this config (lib/permissions.ts),
 * the command the launcher replaces itself with. Spawning them directly
 * (without the task runner) makes the bot process itself the child, so a
 * test can `kill -9` it.
 */
export async function botArgs(
  configPath: string,
  env: Record<string, string>,
  extra: string[],
): Promise<string[]> {
  const task = (denoJson.tasks as Record<string, string>).start;
  if (!task.includes("scripts/launch.ts")) throw new Error(`unexpected start task: ${task}`);
  const loaded = await loadConfig({ path: configPath, env }).catch(() => undefined);
  return botRunArgs({ config: loaded?.config, configPath, appDir: ROOT, cwd: ROOT }, [
    "--config",
    configPath,
    ...extra,
  ]);
}

/** A running bot process. */
export class BotProcess {
  readonly child: Deno.ChildProcess;
  readonly log: string[] = [];
  #exit: Promise<Deno.CommandStatus>;
  #waiters: Array<() => void> = [];

  private constructor(child: Deno.ChildProcess) {
    this.child = child;
    this.#exit = child.status;
    const pump = async (stream: ReadableStream<Uint8Array>) => {
      const decoder = new TextDecoder();
      let buffer = "";
      for await (const chunk of stream) {
        buffer += decoder.decode(chunk, { stream: true });
        let at: number;
        while ((at = buffer.indexOf("\n")) !== -1) {
          this.log.push(buffer.slice(0, at));
          buffer = buffer.slice(at + 1);
          for (const w of this.#waiters.splice(0)) w();
        }
      }
      if (buffer) this.log.push(buffer);
      for (const w of this.#waiters.splice(0)) w();
    };
    void pump(child.stdout);
    void pump(child.stderr);
  }

  /** Starts the bot the way the README says (`deno task start --config <file>`), same permissions. */
  static async start(
    configPath: string,
    env: Record<string, string> = {},
    extraArgs: string[] = [],
  ): Promise<BotProcess> {
    return BotProcess.#spawn(
      Deno.execPath(),
      await botArgs(configPath, env, extraArgs),
      ROOT,
      env,
    );
  }

  /**
   * Starts the bot under a release binary's permissions, in `cwd` (the data
   * directory): the binary named by `E2E_BOT_BINARY`, or `main.ts` run with
   * the same baked flags (lib/permissions.ts) when none is given.
   */
  static startBinaryProfile(
    cwd: string,
    env: Record<string, string> = {},
    args: string[] = ["--config", "config.json"],
  ): BotProcess {
    const binary = Deno.env.get("E2E_BOT_BINARY");
    return binary
      ? BotProcess.#spawn(binary, args, cwd, env)
      : BotProcess.#spawn(Deno.execPath(), binaryProfileRunArgs(ROOT, args), cwd, env);
  }

  static #spawn(
    program: string,
    args: string[],
    cwd: string,
    env: Record<string, string>,
  ): BotProcess {
    const child = new Deno.Command(program, {
      args,
      cwd,
      env: { NO_COLOR: "1", ...BOT_ENV, ...env },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    return new BotProcess(child);
  }

  get pid(): number {
    return this.child.pid;
  }

  /** Waits for a log line matching `pattern`. */
  async waitForLog(pattern: RegExp, timeoutMs = 60_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let from = 0;
    for (;;) {
      for (; from < this.log.length; from++) {
        if (pattern.test(this.log[from])) return this.log[from];
      }
      if (Date.now() > deadline) {
        throw new Error(
          `timed out waiting for log ${pattern}; last lines:\n${this.log.slice(-15).join("\n")}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits until the bot says it is ready. */
  ready(timeoutMs = 60_000): Promise<string> {
    return this.waitForLog(/ Ready in \d+ ms/, timeoutMs);
  }

  /** Sends a signal and waits for the exit. */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<Deno.CommandStatus> {
    try {
      this.child.kill(signal);
    } catch {
      // Already gone.
    }
    return await this.#exit;
  }

  /** The exit status. */
  get status(): Promise<Deno.CommandStatus> {
    return this.#exit;
  }
}

/** A bot account with its config file and store, ready to start. */
export interface BotSetup {
  userId: string;
  password: string;
  dir: string;
  configPath: string;
  storePath: string;
  /** Starts the bot process (env: e.g. INFINIGPT_STORE_KEY). */
  start(env?: Record<string, string>, args?: string[]): Promise<BotProcess>;
  /** Starts it as a release binary would run, in `dir` (see {@link BotProcess.startBinaryProfile}). */
  startBinaryProfile(env?: Record<string, string>): BotProcess;
  /** Rewrites the config with more overrides. */
  reconfigure(overrides: Record<string, unknown>): Promise<void>;
  /** Removes the directory. */
  remove(): Promise<void>;
}

/** Options for {@link setupBot}. */
export interface BotSetupOptions {
  /** The fake model's base URL. */
  providerUrl: string;
  admins?: string[];
  /** Deep-merged into the config. */
  config?: Record<string, unknown>;
  /** Another homeserver than SYNAPSE_URL. */
  homeserver?: string;
}

/** Registers a bot account and writes its config (store in a temp dir). */
export async function setupBot(options: BotSetupOptions): Promise<BotSetup> {
  const name = unique("bot");
  const password = `pw-${name}`;
  const homeserver = options.homeserver ?? SYNAPSE_URL;
  const { user_id } = await registerUser(name, password, false, homeserver);
  const dir = await Deno.makeTempDir({ prefix: "infinigpt-e2e-" });
  const configPath = `${dir}/config.json`;
  const storePath = `${dir}/store`;
  let overrides = options.config ?? {};
  const write = () =>
    Deno.writeTextFile(
      configPath,
      JSON.stringify(
        rawConfig(options.providerUrl, {
          ...overrides,
          matrix: {
            server: homeserver,
            username: user_id,
            password,
            admins: options.admins ?? [],
            store_path: storePath,
            ...(overrides.matrix as Record<string, unknown> | undefined),
          },
        }),
        null,
        2,
      ),
    );
  await write();
  return {
    userId: user_id,
    password,
    dir,
    configPath,
    storePath,
    start: (env = {}, args = []) =>
      BotProcess.start(configPath, { INFINIGPT_JOURNAL_CHECK: "1", ...env }, args),
    startBinaryProfile: (env = {}) => BotProcess.startBinaryProfile(dir, env),
    async reconfigure(more) {
      overrides = { ...overrides, ...more };
      await write();
    },
    remove: () => Deno.remove(dir, { recursive: true }).catch(() => {}),
  };
}

/** A bot and a client in a shared encrypted room. */
export interface Scenario {
  fake: FakeOpenAI;
  setup: BotSetup;
  /** The running bot; a test that restarts it puts the new process here. */
  bot: BotProcess;
  alice: TestClient;
  room: string;
  /** Sends `.ai <text>` and resolves with the reply's visible text when it arrives. */
  ask(text: string, client?: TestClient, room?: string): Promise<void>;
  close(): Promise<void>;
}

/** Starts a fake model, a bot, a client and an encrypted room. */
export async function scenario(options: {
  latencyMs?: number;
  config?: Record<string, unknown>;
  env?: Record<string, string>;
} = {}): Promise<Scenario> {
  const fake = FakeOpenAI.start({ latencyMs: options.latencyMs ?? 0 });
  const alice = await TestClient.create("alice");
  const setup = await setupBot({
    providerUrl: fake.url,
    admins: [alice.userId],
    config: options.config,
  });
  const bot = await setup.start(options.env);
  await bot.ready();
  const room = await alice.createRoom({ invite: [setup.userId] });
  await alice.waitForJoin(room, setup.userId);
  // `bot` is replaced when a test restarts it; ask and close use the current one.
  const s: Scenario = {
    fake,
    setup,
    bot,
    alice,
    room,
    async ask(text, client = alice, where = room) {
      await client.send(where, `.ai ${text}`);
      try {
        await client.waitForMessage(
          where,
          setup.userId,
          (t) => t.endsWith(`Echo: ${text}`),
          60_000,
        );
      } catch (error) {
        console.error(
          `no answer to "${text}"; last bot log lines:\n${s.bot.log.slice(-30).join("\n")}`,
        );
        throw error;
      }
    },
    async close() {
      await s.bot.stop();
      alice.stop();
      await fake.close();
      await setup.remove();
    },
  };
  return s;
}

/** A message of the bot as a matrix-nio user saw it (see `nio_client.py`). */
export interface NioMessage {
  event_id: string;
  sender: string;
  msgtype: string;
  body: string;
  /** The latest edit's body, else `body`. */
  text: string;
  formatted_body?: string;
  /** The message's `m.relates_to`, if any. */
  relates_to?: Record<string, unknown> | null;
  encrypted: boolean;
  decrypted: boolean;
  late_decrypt: boolean;
  edits: Array<{ event_id: string; encrypted: boolean; decrypted: boolean }>;
}

/** One step's report from the nio driver. */
export interface NioStep {
  step: number;
  room: string;
  send: string;
  sent_event_id: string;
  sent_encrypted: boolean;
  ok: boolean;
  error?: string;
  messages: NioMessage[];
}

/** What a run of the nio driver reported. */
export interface NioRun {
  ready?: { user_id: string; device_id: string; rooms: Record<string, { encrypted: boolean }> };
  steps: NioStep[];
  code: number;
  stderr: string;
}

/**
 * Runs `tests/e2e/nio_client.py` (a matrix-nio + libolm user) with a plan
 * (its format is in the driver's docstring); killed after `killAfterMs`.
 */
export async function runNio(
  plan: Record<string, unknown>,
  killAfterMs = 15 * 60_000,
): Promise<NioRun> {
  const child = new Deno.Command("/usr/bin/python3", {
    args: [`${ROOT}/tests/e2e/nio_client.py`],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const killer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }, killAfterMs);
  try {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(JSON.stringify(plan)));
    await writer.close();
    const output = await child.output();
    const run: NioRun = {
      steps: [],
      code: output.code,
      stderr: new TextDecoder().decode(output.stderr),
    };
    for (const line of new TextDecoder().decode(output.stdout).split("\n")) {
      if (!line.trim()) continue;
      const parsed = JSON.parse(line);
      if (parsed.ready) run.ready = parsed;
      else run.steps.push(parsed);
    }
    return run;
  } finally {
    clearTimeout(killer);
  }
}
