/**
 * The journal's self-check: compares what `crypto.db` holds with the live
 * fake-indexeddb databases, database by database, store by store, record by
 * record. Empty means the next start would restore exactly what runs now.
 *
 * This is a test instrument, not part of the journal: the unit tests call
 * {@link verifyJournal} (tests/fixtures/journal_script.ts), and the
 * end-to-end tests ask the real bot to run {@link logJournalCheck} at
 * shutdown with `INFINIGPT_JOURNAL_CHECK=1`. It lives in `lib/` rather than
 * `tests/` because the bot under test is also the compiled binary
 * (tests/e2e/binary_test.ts), which can only run code in its own module
 * graph. lib/run.ts loads it with a literal dynamic `import()`: only when
 * the variable is set, yet `deno compile` still sees and embeds it.
 *
 * @module
 */
import "fake-indexeddb/auto";
import { isDeepStrictEqual } from "node:util";
import type { IdbJournal } from "./crypto_journal.ts";
import { decodeValue, encodeKey } from "./crypto_journal_codec.ts";
import type { JournalMirror } from "./crypto_journal_db.ts";
import { request } from "./crypto_journal_idb.ts";
import { getLogger } from "./log.ts";

const log = getLogger("crypto_journal_check");

/** How many differences one log line names (the count is always given). */
const SHOWN = 5;

/**
 * Compares the mirror with the live databases. Returns a list of
 * differences; empty means identical.
 */
export async function verifyJournal(mirror: JournalMirror): Promise<string[]> {
  const problems: string[] = [];
  const journaled = mirror.databases();
  const names = new Set([
    ...journaled.map((d) => d.name),
    ...(await indexedDB.databases()).map((d) => d.name!).filter(Boolean),
  ]);
  for (const name of names) {
    const row = journaled.find((d) => d.name === name);
    const live = (await indexedDB.databases()).find((d) => d.name === name);
    if (!row) {
      problems.push(`${name}: live but not journaled`);
      continue;
    }
    if (!live) {
      problems.push(`${name}: journaled but not live`);
      continue;
    }
    if (live.version !== row.version) {
      problems.push(`${name}: version ${live.version} vs ${row.version}`);
    }
    problems.push(...await verifyDatabase(mirror, name));
  }
  return problems;
}

/** The differences in the stores and records of one database. */
async function verifyDatabase(mirror: JournalMirror, name: string): Promise<string[]> {
  const problems: string[] = [];
  const db = await request(indexedDB.open(name));
  try {
    const stores = [...db.objectStoreNames];
    const journaled = mirror.stores(name).map((s) => s.name);
    for (const s of journaled) if (!stores.includes(s)) problems.push(`${name}/${s}: not live`);
    for (const s of stores) {
      if (!journaled.includes(s)) problems.push(`${name}/${s}: not journaled`);
      else problems.push(...await verifyStore(mirror, db, s));
    }
  } finally {
    db.close();
  }
  return problems;
}

/** The differences in the records of one store. */
async function verifyStore(mirror: JournalMirror, db: IDBDatabase, s: string): Promise<string[]> {
  const problems: string[] = [];
  const store = db.transaction(s, "readonly").objectStore(s);
  const [keys, values] = await Promise.all([
    request(store.getAllKeys()),
    request(store.getAll()),
  ]);
  const rows = new Map(mirror.records(db.name, s).map((r) => [r.key, r.value]));
  if (rows.size !== keys.length) {
    problems.push(`${db.name}/${s}: ${keys.length} live vs ${rows.size} journaled`);
  }
  keys.forEach((key, i) => {
    const text = encodeKey(key);
    const blob = rows.get(text);
    if (!blob) {
      problems.push(`${db.name}/${s}: key ${text.slice(0, 40)} not journaled`);
    } else if (!isDeepStrictEqual(decodeValue(blob), values[i])) {
      problems.push(`${db.name}/${s}: value of ${text.slice(0, 40)} differs`);
    }
  });
  return problems;
}

/**
 * Runs {@link verifyJournal} and logs the outcome: "Journal self-check:
 * identical (N records)", or an error with the first differences. Never
 * throws: a check that cannot run is logged as an error too.
 */
export async function logJournalCheck(journal: IdbJournal): Promise<void> {
  const problems = await verifyJournal(journal.mirror).catch((
    e,
  ) => [`verify failed: ${(e as Error).message}`]);
  if (problems.length) {
    log.error(
      `Journal self-check: ${problems.length} difference(s): ${
        problems.slice(0, SHOWN).join("; ")
      }`,
    );
  } else log.info(`Journal self-check: identical (${journal.recordCount} records)`);
}
