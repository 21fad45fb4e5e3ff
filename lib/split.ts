/**
 * Splitting replies that are too long for one Matrix event, at paragraph
 * and code-block boundaries, so every part still renders on its own.
 *
 * @module
 */

const encoder = new TextEncoder();

/** UTF-8 length of a string. */
export function byteLength(text: string): number {
  return encoder.encode(text).length;
}

/** Cuts `text` to at most `max` UTF-8 bytes without splitting a character. */
function cutBytes(text: string, max: number): [string, string] {
  let bytes = 0;
  let i = 0;
  for (const ch of text) {
    const n = byteLength(ch);
    if (bytes + n > max) break;
    bytes += n;
    i += ch.length;
  }
  return [text.slice(0, i), text.slice(i)];
}

const FENCE = /^\s{0,3}(`{3,}|~{3,})(.*)$/;

/** Splits Markdown into blocks: fenced code blocks whole, other text by blank lines. */
export function markdownBlocks(text: string): string[] {
  const lines = text.split("\n");
  const blocks: string[] = [];
  let current: string[] = [];
  let fence: string | undefined;
  const flush = () => {
    if (current.length) blocks.push(current.join("\n"));
    current = [];
  };
  for (const line of lines) {
    const m = FENCE.exec(line);
    if (fence) {
      current.push(line);
      if (m && m[1][0] === fence[0] && m[1].length >= fence.length && !m[2].trim()) {
        fence = undefined;
        flush();
      }
      continue;
    }
    if (m) {
      flush();
      fence = m[1];
      current.push(line);
      continue;
    }
    if (line.trim() === "") {
      flush();
      continue;
    }
    current.push(line);
  }
  flush();
  return blocks;
}

// A code block longer than a part is cut into several fenced blocks.
function splitBlock(block: string, max: number): string[] {
  const lines = block.split("\n");
  const fence = FENCE.exec(lines[0]);
  const isCode = fence !== null;
  const open = isCode ? lines[0] : "";
  const close = isCode ? fence![1] : "";
  // Only a real closing fence is dropped: an unclosed block (cut off at the
  // end of the text) may end with a line that merely looks like a fence.
  const last = lines.length > 1 ? FENCE.exec(lines.at(-1)!) : null;
  const closed = isCode && last !== null && last[1][0] === close[0] &&
    last[1].length >= close.length && !last[2].trim();
  const body = isCode ? lines.slice(1, closed ? -1 : undefined) : lines;
  const overhead = isCode ? byteLength(open) + byteLength(close) + 2 : 0;
  const room = Math.max(16, max - overhead);
  const parts: string[] = [];
  let current: string[] = [];
  let size = 0;
  const flush = () => {
    if (!current.length) return;
    parts.push(isCode ? `${open}\n${current.join("\n")}\n${close}` : current.join("\n"));
    current = [];
    size = 0;
  };
  for (let line of body) {
    while (byteLength(line) > room) {
      flush();
      const [head, tail] = cutBytes(line, room);
      current.push(head);
      flush();
      line = tail;
    }
    const n = byteLength(line) + 1;
    if (size + n > room) flush();
    current.push(line);
    size += n;
  }
  flush();
  return parts;
}

/**
 * Splits Markdown into parts of at most `maxBytes` UTF-8 bytes, preferring
 * blank lines between paragraphs and keeping fenced code blocks intact (or
 * re-fencing them when one alone is too long). Short text is one part.
 */
export function splitMarkdown(text: string, maxBytes: number): string[] {
  if (byteLength(text) <= maxBytes) return [text];
  const parts: string[] = [];
  let current = "";
  for (const block of markdownBlocks(text)) {
    const candidate = current ? `${current}\n\n${block}` : block;
    if (byteLength(candidate) <= maxBytes) {
      current = candidate;
      continue;
    }
    if (current) parts.push(current);
    current = "";
    if (byteLength(block) <= maxBytes) current = block;
    else {
      const pieces = splitBlock(block, maxBytes);
      parts.push(...pieces.slice(0, -1));
      current = pieces.at(-1) ?? "";
    }
  }
  if (current) parts.push(current);
  // Text made only of blank lines has no block; still one (empty) part.
  return parts.length ? parts : [""];
}
