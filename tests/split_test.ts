import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import { byteLength, markdownBlocks, splitMarkdown } from "../lib/split.ts";

/** A small deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FENCE_LINE = /^\s{0,3}(`{3,}|~{3,})(.*)$/;

/** Tracks fences line by line; true when `text` leaves a code block open. */
function leavesFenceOpen(text: string): boolean {
  let fence: string | undefined;
  for (const line of text.split("\n")) {
    const m = FENCE_LINE.exec(line);
    if (!m) continue;
    if (!fence) fence = m[1];
    else if (m[1][0] === fence[0] && m[1].length >= fence.length && !m[2].trim()) {
      fence = undefined;
    }
  }
  return fence !== undefined;
}

/** The text without line structure, blank lines and fence lines: what must survive a split. */
function content(text: string): string {
  return text.split("\n").filter((l) => l.trim() !== "" && !FENCE_LINE.test(l)).join("");
}

/** Code points never split: a part must be valid text by itself. */
function assertNoLoneSurrogate(part: string): void {
  ok(!/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(part));
}

Deno.test("splitMarkdown returns short text as one unchanged part", async (t) => {
  const cases = [
    "",
    "hello",
    "para one\n\n\n\npara two",
    "```js\nlet a = 1;\n```",
    "x".repeat(100),
    "😀".repeat(25),
  ];
  for (const text of cases) {
    await t.step(JSON.stringify(text.slice(0, 20)), () => {
      deepStrictEqual(splitMarkdown(text, 100), [text]);
    });
  }
});

Deno.test("byteLength counts UTF-8 bytes", async (t) => {
  const cases: Array<[string, number]> = [["", 0], ["a", 1], ["é", 2], ["中", 3], ["😀", 4], [
    "a😀é",
    7,
  ]];
  for (const [text, n] of cases) {
    await t.step(text || "(empty)", () => strictEqual(byteLength(text), n));
  }
});

Deno.test("splitMarkdown keeps paragraphs whole and packs them into as few parts as fit", () => {
  const paras = ["a".repeat(30), "b".repeat(30), "c".repeat(30), "d".repeat(30)];
  const parts = splitMarkdown(paras.join("\n\n"), 70);
  deepStrictEqual(parts, [`${paras[0]}\n\n${paras[1]}`, `${paras[2]}\n\n${paras[3]}`]);
});

Deno.test("splitMarkdown cuts at the blank line, not inside a paragraph", () => {
  const a = "first line of A\nsecond line of A";
  const b = "B ".repeat(20).trim();
  const parts = splitMarkdown(`${a}\n\n${b}`, 50);
  deepStrictEqual(parts, [a, b]);
});

Deno.test("splitMarkdown keeps a fenced code block whole when it fits in a part", () => {
  const before = "intro ".repeat(10).trim();
  const code = "```python\nprint(1)\n\nprint(2)\n```";
  const after = "outro ".repeat(10).trim();
  const parts = splitMarkdown(`${before}\n\n${code}\n\n${after}`, 80);
  ok(parts.includes(code) || parts.some((p) => p.includes(code)), JSON.stringify(parts));
  for (const p of parts) ok(!leavesFenceOpen(p), `part leaves a fence open: ${p}`);
});

Deno.test("splitMarkdown re-fences a code block too long for one part", async (t) => {
  const fences = [
    ["```ts", "```"],
    ["~~~", "~~~"],
    ["````rust", "````"],
    ["```", "```"],
  ];
  for (const [open, close] of fences) {
    await t.step(open, () => {
      const lines = Array.from({ length: 40 }, (_, i) => `line ${i} ${"é".repeat(i % 7)}`);
      const block = `${open}\n${lines.join("\n")}\n${close}`;
      const parts = splitMarkdown(block, 120);
      ok(parts.length > 1);
      for (const part of parts) {
        ok(byteLength(part) <= 120, `part of ${byteLength(part)} bytes`);
        const partLines = part.split("\n");
        strictEqual(partLines[0], open, "the opener (with its language) starts every piece");
        strictEqual(partLines.at(-1), close, "the same fence closes every piece");
        ok(!leavesFenceOpen(part));
        strictEqual(markdownBlocks(part).length, 1, "each piece is one fenced block");
      }
      // Every code line survives, in order, and none is cut (they are short).
      deepStrictEqual(parts.flatMap((p) => p.split("\n").slice(1, -1)), lines);
    });
  }
});

Deno.test("splitMarkdown cuts a single huge line at character boundaries", async (t) => {
  const units = ["a", "é", "中", "😀", "👩‍💻"];
  for (const unit of units) {
    await t.step(unit, () => {
      const line = unit.repeat(500);
      for (const max of [50, 51, 52, 53, 97]) {
        const parts = splitMarkdown(line, max);
        ok(parts.length > 1);
        for (const part of parts) {
          ok(byteLength(part) <= max, `${byteLength(part)} > ${max}`);
          assertNoLoneSurrogate(part);
          ok(!part.includes("\uFFFD"));
        }
        strictEqual(parts.join(""), line, "cutting adds and loses nothing");
      }
    });
  }
});

Deno.test("splitMarkdown cuts a huge line inside a code block into fenced pieces", () => {
  const huge = "x😀".repeat(200);
  const block = "```js\nbefore\n" + huge + "\nafter\n```";
  const parts = splitMarkdown(block, 100);
  for (const part of parts) {
    ok(byteLength(part) <= 100);
    ok(part.startsWith("```js\n") && part.endsWith("\n```"), part);
    assertNoLoneSurrogate(part);
  }
  strictEqual(content(parts.join("\n")), content(block));
});

Deno.test("splitMarkdown always returns at least one part", async (t) => {
  for (const text of ["\n".repeat(200), " \n".repeat(100), "\n\n" + "a".repeat(200)]) {
    await t.step(JSON.stringify(text.slice(0, 8)), () => {
      const parts = splitMarkdown(text, 50);
      ok(parts.length >= 1);
      for (const part of parts) ok(byteLength(part) <= 50);
    });
  }
});

Deno.test("splitMarkdown keeps the last line of an unclosed code block", async (t) => {
  // An unclosed block ends at the end of the text; a last line that looks
  // like a fence but does not close it (other fence, info string) is code.
  const cases = [
    "```\n" + "code line\n".repeat(20) + "~~~",
    "```\n" + "code line\n".repeat(20) + "```js",
    "````\n" + "code line\n".repeat(20) + "```",
  ];
  for (const text of cases) {
    await t.step(JSON.stringify(text.slice(-6)), () => {
      const parts = splitMarkdown(text, 80);
      const last = text.split("\n").at(-1)!;
      ok(parts.some((p) => p.split("\n").slice(1, -1).includes(last)), JSON.stringify(parts));
      for (const part of parts) ok(byteLength(part) <= 80);
    });
  }
});

// ---- Property-style test: many random documents, seeded, deterministic ----

const WORDS = ["alpha", "beta", "γάμμα", "中文", "😀", "naïve", "x", "👍🏽", "end.", "*bold*", "#"];

function word(r: () => number): string {
  return WORDS[Math.floor(r() * WORDS.length)];
}

function line(r: () => number, max: number): string {
  if (r() < 0.05) {
    // A line longer than a part.
    return Array.from({ length: Math.ceil(max / 2) }, () => word(r)).join("");
  }
  const n = 1 + Math.floor(r() * 12);
  return Array.from({ length: n }, () => word(r)).join(" ");
}

interface Doc {
  text: string;
  paragraphs: string[];
  codeBlocks: Array<{ block: string; open: string; close: string }>;
}

function randomDoc(r: () => number, max: number): Doc {
  const paragraphs: string[] = [];
  const codeBlocks: Doc["codeBlocks"] = [];
  const blocks: string[] = [];
  const count = 1 + Math.floor(r() * 14);
  for (let b = 0; b < count; b++) {
    if (r() < 0.3) {
      const fence = ["```", "~~~", "````"][Math.floor(r() * 3)];
      const lang = ["", "js", "python", "ts"][Math.floor(r() * 4)];
      const lines = Array.from(
        { length: 1 + Math.floor(r() * (r() < 0.2 ? 40 : 6)) },
        () => (r() < 0.15 ? "" : "  " + line(r, max)),
      );
      const block = `${fence}${lang}\n${lines.join("\n")}\n${fence}`;
      codeBlocks.push({ block, open: fence + lang, close: fence });
      blocks.push(block);
    } else {
      const lines = Array.from({ length: 1 + Math.floor(r() * 4) }, () => line(r, max));
      const para = lines.join("\n");
      paragraphs.push(para);
      blocks.push(para);
    }
  }
  const text = blocks.map((block, i) => (i ? (r() < 0.2 ? "\n\n\n" : "\n\n") : "") + block)
    .join("");
  return { text, paragraphs, codeBlocks };
}

Deno.test("splitMarkdown on 500 random documents: size, no loss, whole blocks, valid fences", () => {
  const r = rng(20240611);
  let splitCount = 0;
  for (let i = 0; i < 500; i++) {
    const max = 64 + Math.floor(r() * 400);
    const doc = randomDoc(r, max);
    const parts = splitMarkdown(doc.text, max);
    const where = `case ${i}, max ${max}: ${JSON.stringify(doc.text).slice(0, 200)}`;
    if (parts.length > 1) splitCount++;
    ok(parts.length >= 1, where);
    for (const part of parts) {
      ok(byteLength(part) <= max, `part of ${byteLength(part)} bytes; ${where}`);
      ok(!leavesFenceOpen(part), `part leaves a fence open; ${where}`);
      assertNoLoneSurrogate(part);
    }
    strictEqual(content(parts.join("\n")), content(doc.text), `text lost; ${where}`);
    // Blocks that fit are never cut.
    for (const p of doc.paragraphs) {
      if (byteLength(p) <= max) {
        ok(parts.some((part) => part.includes(p)), `paragraph cut; ${where}`);
      }
    }
    for (const { block, open, close } of doc.codeBlocks) {
      if (byteLength(block) <= max) {
        ok(parts.some((part) => part.includes(block)), `code block cut; ${where}`);
        continue;
      }
      // A block too long alone: every piece of it is fenced like the original.
      const firstLine = block.split("\n")[1];
      const pieces = parts.flatMap((part) => markdownBlocks(part)).filter((b) =>
        b.split("\n")[0] === open
      );
      ok(pieces.length > 1, `a long code block was not re-fenced; ${where}`);
      for (const piece of pieces) {
        strictEqual(piece.split("\n").at(-1), close, where);
      }
      ok(firstLine === "" || pieces.some((p) => p.includes(firstLine.slice(0, 10))), where);
    }
  }
  ok(splitCount > 250, `the generator must produce mostly long documents (${splitCount})`);
});

Deno.test("markdownBlocks keeps fenced blocks whole, blank lines inside included", () => {
  const text = "para\nstill para\n\n```js\na\n\nb\n```\n\n~~~\n```\n~~~\nlast";
  deepStrictEqual(markdownBlocks(text), [
    "para\nstill para",
    "```js\na\n\nb\n```",
    "~~~\n```\n~~~",
    "last",
  ]);
});

Deno.test("splitMarkdown part sizes stay within the limit for the real MAX_PART_BYTES", () => {
  const r = rng(7);
  const text = Array.from({ length: 3000 }, () => line(r, 400)).join("\n\n");
  const parts = splitMarkdown(text, 16_000);
  ok(parts.length > 1);
  for (const part of parts) ok(byteLength(part) <= 16_000);
  strictEqual(content(parts.join("\n")), content(text));
  match(parts[0], /^\S/);
});
