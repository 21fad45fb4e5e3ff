/**
 * Promises for IndexedDB's event-based requests and transactions, for the
 * journal's restore and self-check (the SDK has its own).
 *
 * @module
 */

/** Resolves with the request's result, rejects with its error. */
export function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.addEventListener("success", () => resolve(req.result));
    req.addEventListener("error", () => reject(req.error));
  });
}

/** Resolves when the transaction commits, rejects when it aborts or fails. */
export function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.addEventListener("complete", () => resolve());
    tx.addEventListener("abort", () => reject(tx.error ?? new Error("transaction aborted")));
    tx.addEventListener("error", () => reject(tx.error));
  });
}
