/**
 * The store directory: its layout, the single-instance lock, and `state.db`
 * (SQLite through `node:sqlite`, WAL, schema migrations).
 *
 * Layout: `lock`, `state.db`, `session.json`, `crypto.db` (the encryption
 * and sync state, see crypto_store.ts), `images/`.
 *
 * @module
 */
import { describeFsError } from "./fs_errors.ts";
import type { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { openChecked, SqliteOpenError, transaction } from "./sqlite.ts";

/** The store cannot be used; `message` says why and what to do. */
export class StoreError extends Error {
  /** Process exit code that fits the failure. */
  readonly exitCode: number;
  /** A failure described by `message`, exiting with `exitCode`. */
  constructor(message: string, exitCode = 1, options?: ErrorOptions) {
    super(message, options);
    this.name = "StoreError";
    this.exitCode = exitCode;
  }
}

/** Schema migrations of `state.db`; index + 1 is the `user_version` after it. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE threads (
     room TEXT NOT NULL, user TEXT NOT NULL, messages TEXT NOT NULL,
     updated_at INTEGER NOT NULL, PRIMARY KEY (room, user)) WITHOUT ROWID;
   CREATE TABLE personal_models (
     room TEXT NOT NULL, user TEXT NOT NULL, model TEXT NOT NULL,
     PRIMARY KEY (room, user)) WITHOUT ROWID;
   CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;`,
  `CREATE TABLE handled_events (
     event_id TEXT PRIMARY KEY, room TEXT NOT NULL, handled_at INTEGER NOT NULL) WITHOUT ROWID;
   CREATE TABLE usage (
     user TEXT NOT NULL, day TEXT NOT NULL, tokens INTEGER NOT NULL,
     PRIMARY KEY (user, day)) WITHOUT ROWID;`,
  `CREATE TABLE inbox (
     event_id TEXT PRIMARY KEY, room TEXT NOT NULL, event TEXT NOT NULL,
     received_at INTEGER NOT NULL) WITHOUT ROWID;
   CREATE TABLE verifications (
     txn_id TEXT PRIMARY KEY, handled_at INTEGER NOT NULL) WITHOUT ROWID;
   CREATE INDEX handled_events_at ON handled_events (handled_at);`,
  // Matrix threads' shared conversations (decision 38), apart from the
  // (room, user) ones so `.x` never takes a thread for a user.
  `CREATE TABLE room_threads (
     room TEXT NOT NULL, root TEXT NOT NULL, messages TEXT NOT NULL,
     updated_at INTEGER NOT NULL, PRIMARY KEY (room, root)) WITHOUT ROWID;`,
  // Usage per model, in and out (decision 43): the daily totals of earlier
  // versions are kept under the model '' with everything counted as input.
  `CREATE TABLE token_usage (
     user TEXT NOT NULL, model TEXT NOT NULL, day TEXT NOT NULL,
     input INTEGER NOT NULL, output INTEGER NOT NULL,
     PRIMARY KEY (user, day, model)) WITHOUT ROWID;
   CREATE INDEX token_usage_day ON token_usage (day);
   INSERT INTO token_usage (user, model, day, input, output)
     SELECT user, '', day, tokens, 0 FROM usage;
   DROP TABLE usage;
   CREATE TABLE room_settings (
     room TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
     PRIMARY KEY (room, key)) WITHOUT ROWID;`,
];

/** Options for {@link Store.open}. */
export interface StoreOptions {
  /** Skip the lock (read-only inspection tools). */
  noLock?: boolean;
}

/** An open store directory. Close it to release the lock. */
export class Store {
  /** The store directory. */
  readonly dir: string;
  /** `state.db`. */
  readonly db: DatabaseSync;
  readonly #lock?: Deno.FsFile;
  #closed = false;

  private constructor(dir: string, db: DatabaseSync, lock?: Deno.FsFile) {
    this.dir = dir;
    this.db = db;
    this.#lock = lock;
  }

  /**
   * Creates (mode 0700) and locks the directory, opens and migrates
   * `state.db`. Throws {@link StoreError} with exit code 2 when another
   * process holds the lock, 1 for unusable or corrupt stores.
   */
  static open(dir: string, options: StoreOptions = {}): Store {
    try {
      Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new StoreError(
        `Cannot create the store directory ${dir}: ${describeFsError(error, dir)}`,
      );
    }
    const lock = options.noLock ? undefined : acquireLock(dir);
    try {
      const db = openDatabase(join(dir, "state.db"));
      return new Store(dir, db, lock);
    } catch (error) {
      lock?.close();
      throw error;
    }
  }

  /** A path inside the store directory. */
  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  /** Runs `fn` in one SQLite transaction. */
  transaction<T>(fn: () => T): T {
    return transaction(this.db, fn);
  }

  /** Closes the database and releases the lock. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.db.close();
    } finally {
      this.#lock?.close();
    }
  }
}

function acquireLock(dir: string): Deno.FsFile {
  const path = join(dir, "lock");
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { read: true, write: true, create: true, mode: 0o600 });
  } catch (error) {
    throw new StoreError(`Cannot open the lock file ${path}: ${describeFsError(error, path)}`);
  }
  let locked = false;
  try {
    locked = file.tryLockSync(true);
  } catch (error) {
    file.close();
    throw new StoreError(`Cannot lock ${path}: ${describeFsError(error)}`);
  }
  if (!locked) {
    file.close();
    let holder = "";
    try {
      const pid = Deno.readTextFileSync(path).trim();
      if (/^\d+$/.test(pid)) holder = ` (pid ${pid})`;
    } catch {
      // The pid is a courtesy; the lock itself is what matters.
    }
    throw new StoreError(
      `The store directory ${dir} is in use by another InfiniGPT process${holder}. ` +
        `Stop it first, or give this one its own store (matrix.store_path or --store-path).`,
      2,
    );
  }
  try {
    file.truncateSync(0);
    file.writeSync(new TextEncoder().encode(`${Deno.pid}\n`));
  } catch {
    // A read-only lock file still locks; the pid is only informative.
  }
  return file;
}

/**
 * Opens `state.db` checked and migrated. Conversations are private: the file
 * is created 0600 (SQLite gives its -wal and -shm files the database's mode),
 * and an older, wider file is narrowed.
 */
function openDatabase(path: string): DatabaseSync {
  try {
    return openChecked(path, {
      mode: Deno.build.os === "windows" ? undefined : 0o600,
      busyTimeoutMs: 5000,
      pragmas: ["foreign_keys = ON"],
      setup: (db) => {
        migrate(db);
        // SQLite silently opens a file it may not write read-only; writing the
        // version it already has makes that fail here, not at the first reply.
        const { user_version } = db.prepare("PRAGMA user_version").get() as {
          user_version: number;
        };
        db.exec(`PRAGMA user_version = ${user_version}`);
      },
    });
  } catch (error) {
    if (!(error instanceof SqliteOpenError)) {
      throw new StoreError(
        `Cannot open the state database ${path}: ${describeFsError(error, path)}`,
      );
    }
    throw unusable(path, error.cause);
  }
}

/** The {@link StoreError} for a `state.db` that opened but cannot be used. */
function unusable(path: string, error: unknown): StoreError {
  if (error instanceof StoreError) return error;
  const message = describeFsError(error);
  if (/readonly|read-only|permission|access/i.test(message)) {
    return new StoreError(
      `The state database ${path} is not writable (${message}). Check the permissions of the store directory.`,
      1,
      { cause: error },
    );
  }
  if (/disk i\/o error/i.test(message)) {
    return new StoreError(`Reading or writing ${path} failed (${message}). Check the disk.`, 1, {
      cause: error,
    });
  }
  if (/database or disk is full|no space left/i.test(message)) {
    return new StoreError(`The disk holding ${path} is full (${message}).`, 1, { cause: error });
  }
  return new StoreError(
    `The state database ${path} is corrupt or not an InfiniGPT database (${message}). ` +
      `Restore it from a backup, or move it away to start with empty state.`,
    1,
    { cause: error },
  );
}

function migrate(db: DatabaseSync): void {
  const row = db.prepare("PRAGMA user_version").get() as { user_version: number };
  const version = row.user_version;
  if (version > MIGRATIONS.length) {
    throw new StoreError(
      `state.db has schema version ${version}, newer than this InfiniGPT understands (${MIGRATIONS.length}). ` +
        `Run the newer version, or restore a backup made before the upgrade.`,
    );
  }
  for (let v = version; v < MIGRATIONS.length; v++) {
    transaction(db, () => {
      db.exec(MIGRATIONS[v]);
      db.exec(`PRAGMA user_version = ${v + 1}`);
    });
  }
}

/**
 * Writes a file atomically: temp file, fsync, rename, directory fsync.
 * `mode` applies to the new file (e.g. 0o600 for secrets).
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600): void {
  const tmp = `${path}.tmp-${Deno.pid}`;
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const file = Deno.openSync(tmp, { write: true, create: true, truncate: true, mode });
  try {
    let written = 0;
    while (written < bytes.length) written += file.writeSync(bytes.subarray(written));
    file.syncSync();
  } finally {
    file.close();
  }
  Deno.renameSync(tmp, path);
  try {
    const dir = Deno.openSync(join(path, ".."), { read: true });
    try {
      dir.syncSync();
    } finally {
      dir.close();
    }
  } catch {
    // Directory fsync is not supported everywhere (Windows); the rename is still atomic.
  }
}
