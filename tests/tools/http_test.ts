import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { readCapped } from "../../lib/tools/http.ts";

function stream(
  chunks: number[][],
): { body: ReadableStream<Uint8Array>; cancelled: () => boolean } {
  let cancelled = false;
  let i = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(new Uint8Array(chunks[i++]));
      else controller.close();
    },
    cancel() {
      cancelled = true;
    },
  });
  return { body, cancelled: () => cancelled };
}

Deno.test("readCapped reads a body of exactly the cap whole", async () => {
  const { body } = stream([[1, 2], [3, 4]]);
  const { bytes, capped } = await readCapped(body, 4);
  deepStrictEqual([...bytes], [1, 2, 3, 4]);
  strictEqual(capped, false);
});

Deno.test("readCapped stops at the cap, keeps the bytes before it and cancels the rest", async () => {
  const { body, cancelled } = stream([[1, 2], [3, 4], [5, 6]]);
  const { bytes, capped } = await readCapped(body, 3);
  deepStrictEqual([...bytes], [1, 2, 3]);
  strictEqual(capped, true);
  strictEqual(cancelled(), true);
});

Deno.test("readCapped of no body is empty", async () => {
  const { bytes, capped } = await readCapped(null, 10);
  strictEqual(bytes.length, 0);
  strictEqual(capped, false);
});
