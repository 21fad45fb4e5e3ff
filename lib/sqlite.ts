/**
 * The two things every SQLite file of the bot does the same way: opening it
 * checked (integrity first, then WAL with `synchronous = NORMAL`, then the
 * caller's schema) and running a write transaction.
 *
 * WAL with `synchronous = NORMAL` means a commit is atomic and survives a
 * crash of the process; only a power loss can take back the last commits
 * (docs/performance.md says why no flush per write).
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";

/** Options for {@link openChecked}. */
export interface OpenCheckedOptions {
  /**
   * The file's mode, set (and the file created) before SQLite opens it:
   * SQLite would create it 0644, and gives its -wal and -shm files the
   * database's mode. An existing file is narrowed to it too.
   */
  mode?: number;
  /**
   * `PRAGMA busy_timeout` in milliseconds, set before the integrity check so
   * the check waits for a lock held by another connection instead of failing.
   */
  busyTimeoutMs?: number;
  /** More pragmas after journal mode and synchronous, e.g. `foreign_keys = ON`. */
  pragmas?: readonly string[];
  /**
   * Creates or migrates the schema. It runs inside the checked open, so a
   * failure closes the file and is reported like a failed check.
   */
  setup?: (db: DatabaseSync) => void;
}

/**
 * The file opened but cannot be used: it failed the integrity check, a
 * pragma or the schema setup. `message` is the cause's; the connection is
 * closed and the file left as it was, so it can be restored from a backup.
 */
export class SqliteOpenError extends Error {
  /** Wraps the error of the failed step. */
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = "SqliteOpenError";
  }
}

/**
 * Opens `path`, checks it and prepares it for use. Errors of the open itself
 * (no such directory, no permission) come from `node:sqlite` unchanged;
 * everything after is a {@link SqliteOpenError}, so callers can say "cannot
 * open" and "unusable" apart.
 */
export function openChecked(path: string, options: OpenCheckedOptions = {}): DatabaseSync {
  if (options.mode !== undefined) createFile(path, options.mode);
  const db = new DatabaseSync(path);
  try {
    if (options.busyTimeoutMs !== undefined) {
      db.exec(`PRAGMA busy_timeout = ${Math.trunc(options.busyTimeoutMs)}`);
    }
    // SQLite opens any file lazily; the check is what finds garbage or a
    // damaged file before anything is written into it.
    const check = db.prepare("PRAGMA quick_check").get() as { quick_check?: string } | undefined;
    if (check?.quick_check !== "ok") {
      throw new Error(`integrity check failed: ${check?.quick_check ?? "no answer"}`);
    }
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = NORMAL");
    for (const pragma of options.pragmas ?? []) db.exec(`PRAGMA ${pragma}`);
    options.setup?.(db);
    return db;
  } catch (error) {
    db.close();
    throw new SqliteOpenError(error);
  }
}

function createFile(path: string, mode: number): void {
  try {
    Deno.writeFileSync(path, new Uint8Array(), { append: true, create: true, mode });
  } catch {
    // SQLite reports a clearer error when it opens the file.
  }
}

/**
 * Runs `fn` in one write transaction: `BEGIN IMMEDIATE` takes the write lock
 * up front (no deadlock between two readers that both want to write), then
 * `COMMIT`, or `ROLLBACK` and rethrow when `fn` or the commit throws.
 */
export function transaction<T>(db: DatabaseSync, fn: () => T): T {
  db.exec("BEGIN IMMEDIATE");
  try {
    const result = fn();
    db.exec("COMMIT");
    return result;
  } catch (error) {
    // SQLite ends the transaction itself after some errors (a full disk, an
    // I/O error, OR ROLLBACK); a second ROLLBACK would then throw "no
    // transaction is active" and hide the error that matters.
    if (db.isTransaction) db.exec("ROLLBACK");
    throw error;
  }
}
