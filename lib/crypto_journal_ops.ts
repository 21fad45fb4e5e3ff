/**
 * The writes of one IndexedDB transaction, as the hooks record them
 * (lib/crypto_journal_hooks.ts) and the journal file applies them
 * (lib/crypto_journal_db.ts) when the transaction commits.
 *
 * @module
 */

/**
 * One recorded write. A `put` learns its key (and the key generator's next
 * value) only when its request succeeds, so the hooks fill those in later;
 * a range `delete` learns the keys it removed the same way.
 */
export type Op =
  | { kind: "put"; store: string; key?: IDBValidKey; value: Uint8Array; nextKey?: number }
  | { kind: "delete"; store: string; keys?: IDBValidKey[] }
  | { kind: "clear"; store: string }
  | { kind: "createStore"; store: string; keyPath: unknown; autoIncrement: boolean }
  | { kind: "deleteStore"; store: string }
  | { kind: "renameStore"; store: string; to: string }
  | {
    kind: "createIndex";
    store: string;
    index: string;
    keyPath: unknown;
    unique: boolean;
    multiEntry: boolean;
  }
  | { kind: "deleteIndex"; store: string; index: string };

/** The name of each kind of {@link Op}. */
export type OpKind = Op["kind"];

/** The {@link Op} of one kind. */
export type OpOf<K extends OpKind> = Extract<Op, { kind: K }>;
