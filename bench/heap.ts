/**
 * V8 heap snapshots of a running bot through its inspector, summarised by
 * constructor: how many objects of each kind the heap holds and their
 * shallow size, and what grew between two snapshots. Used to find what a
 * long-running bot keeps (`bench/growth.ts`).
 *
 * @module
 */

/** Objects of one kind in a snapshot. */
export interface Kind {
  count: number;
  /** Shallow size in bytes. */
  size: number;
}

/** Kind name (`type:constructor`) → count and shallow size. */
export type HeapSummary = Map<string, Kind>;

/** Takes a heap snapshot through the inspector at `127.0.0.1:<port>`; returns its JSON text. */
export async function takeHeapSnapshot(port: number): Promise<string> {
  const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
  const socket = new WebSocket(targets[0].webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = reject;
  });
  const chunks: string[] = [];
  let id = 0;
  const pending = new Map<number, () => void>();
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.method === "HeapProfiler.addHeapSnapshotChunk") chunks.push(message.params.chunk);
    if (message.id !== undefined) pending.get(message.id)?.();
  };
  const call = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<void>((resolve) => {
      pending.set(++id, resolve);
      socket.send(JSON.stringify({ id, method, params }));
    });
  await call("HeapProfiler.enable");
  await call("HeapProfiler.collectGarbage");
  await call("HeapProfiler.takeHeapSnapshot", { reportProgress: false });
  socket.close();
  return chunks.join("");
}

/** Counts and sizes by `type:name` (constructor for objects, `(closure)` etc.). */
export function summarize(snapshotJson: string): HeapSummary {
  const snapshot = JSON.parse(snapshotJson);
  const meta = snapshot.snapshot.meta;
  const fields: string[] = meta.node_fields;
  const types: string[] = meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf("type");
  const nameAt = fields.indexOf("name");
  const sizeAt = fields.indexOf("self_size");
  const nodes: number[] = snapshot.nodes;
  const strings: string[] = snapshot.strings;
  const out: HeapSummary = new Map();
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + typeAt]];
    // Strings and code are summed by type; their names are their contents.
    const name = type === "object" || type === "closure" || type === "native"
      ? strings[nodes[i + nameAt]].slice(0, 60)
      : "";
    const key = `${type}:${name}`;
    const kind = out.get(key) ?? { count: 0, size: 0 };
    kind.count++;
    kind.size += nodes[i + sizeAt];
    out.set(key, kind);
  }
  return out;
}

/** The kinds that grew most from `before` to `after`, by size. */
export function grew(
  before: HeapSummary,
  after: HeapSummary,
  top = 20,
): Array<{ kind: string; count: number; size: number }> {
  const rows = [...after].map(([kind, a]) => {
    const b = before.get(kind) ?? { count: 0, size: 0 };
    return { kind, count: a.count - b.count, size: a.size - b.size };
  });
  return rows.sort((x, y) => y.size - x.size).slice(0, top);
}

/** Total shallow size in MB. */
export function totalMb(summary: HeapSummary): number {
  let sum = 0;
  for (const k of summary.values()) sum += k.size;
  return sum / 1048576;
}
