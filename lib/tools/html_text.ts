/**
 * HTML to readable text for `fetch_url` (decision 19): drops scripts, styles
 * and the head, turns block elements into line breaks, decodes entities,
 * collapses whitespace, keeps link text, and puts the title first.
 *
 * A single linear scan, not a parser: it is meant for a model to read a page,
 * not to render it faithfully.
 *
 * @module
 */
import { decodeEntities } from "../html_entities.ts";

/** Elements whose content is never shown. */
const HIDDEN = new Set([
  "script",
  "style",
  "noscript",
  "template",
  "svg",
  "iframe",
  "canvas",
  "select",
]);

/** Elements that may stay in the head; any other start tag ends an unclosed head. */
const HEAD_CONTENT = new Set([
  "title",
  "meta",
  "link",
  "base",
  "style",
  "script",
  "noscript",
  "template",
]);

/** Elements that start and end a paragraph (a blank line around them). */
const PARAGRAPHS = new Set([
  "p",
  "h1",
  "h2",
  "h3",
  "h4",
  "h5",
  "h6",
  "blockquote",
  "pre",
  "table",
  "ul",
  "ol",
  "dl",
  "figure",
]);

/** Elements that start and end a line. */
const BLOCKS = new Set([
  "address",
  "article",
  "aside",
  "body",
  "caption",
  "center",
  "dd",
  "details",
  "dialog",
  "div",
  "dt",
  "fieldset",
  "figcaption",
  "footer",
  "form",
  "header",
  "hgroup",
  "hr",
  "html",
  "legend",
  "li",
  "main",
  "menu",
  "nav",
  "section",
  "summary",
  "tbody",
  "tfoot",
  "thead",
  "tr",
]);

/** Table cells: separated by a space within their row. */
const CELLS = new Set(["td", "th"]);

/** Stands in for a space inside `<pre>` so that collapsing leaves it alone. */
const PRE_SPACE = "\ue000";

/** Where the next `</name` end tag starts at or after `from`, or -1. */
function findEndTag(html: string, name: string, from: number): number {
  const re = new RegExp(`</${name}(?=[\\s/>]|$)`, "ig");
  re.lastIndex = from;
  return re.exec(html)?.index ?? -1;
}

/** The index just past the `>` that closes a tag starting at `from`, or -1 (quotes respected). */
function tagEnd(html: string, from: number): number {
  let quote = "";
  for (let i = from; i < html.length; i++) {
    const c = html[i];
    if (quote) {
      if (c === quote) quote = "";
    } else if (c === '"' || c === "'") {
      // Only a quote that opens an attribute value counts.
      if (html[i - 1] === "=" || /\s/.test(html[i - 1]) && html[i - 2] === "=") quote = c;
    } else if (c === ">") {
      return i + 1;
    }
  }
  return -1;
}

function collapse(text: string): string {
  return text.replace(/[\s\u00a0]+/g, " ");
}

/**
 * Readable text of an HTML document: `Title: …` first when there is a title,
 * then the body text with block elements on their own lines.
 */
export function htmlToText(html: string): string {
  const out = new TextOut();
  let i = 0;
  while (i < html.length) {
    const lt = html.indexOf("<", i);
    if (lt < 0) {
      out.text(html.slice(i));
      break;
    }
    if (lt > i) out.text(html.slice(i, lt));
    i = afterMarkup(html, lt, out);
    if (i < 0) break; // An unterminated tag at the end: browsers drop it.
  }
  return out.finish();
}

/**
 * Reads the markup at `i` (a `<`): a comment, a declaration, a tag, or a
 * `<` that is only text. Where to go on, or -1 for an unterminated tag.
 */
function afterMarkup(html: string, i: number, out: TextOut): number {
  if (html.startsWith("<!--", i)) {
    const end = html.indexOf("-->", i + 4);
    return end < 0 ? html.length : end + 3;
  }
  const next = html[i + 1] ?? "";
  if (next === "!" || next === "?") {
    const end = html.indexOf(">", i + 2);
    return end < 0 ? html.length : end + 1;
  }
  const closing = next === "/";
  const match = /^[a-zA-Z][a-zA-Z0-9:-]*/.exec(html.slice(i + (closing ? 2 : 1), i + 66));
  if (!match) {
    // A "<" that does not start a tag is text.
    out.text("<");
    return i + 1;
  }
  const end = tagEnd(html, i + (closing ? 2 : 1) + match[0].length);
  if (end < 0) return -1;
  return afterTag(html, match[0].toLowerCase(), closing, end, out);
}

/** Acts on the tag `name` that ends at `at`; where to go on. */
function afterTag(html: string, name: string, closing: boolean, at: number, out: TextOut): number {
  if (name === "head") {
    out.inHead = !closing;
    return at;
  }
  if (out.inHead && !closing && (name === "body" || !HEAD_CONTENT.has(name))) out.inHead = false;
  if (!closing && (name === "title" || HIDDEN.has(name))) return skipElement(html, name, at, out);
  out.tag(name, closing);
  return at;
}

/** Past the content and end tag of a hidden element, or of the title (kept as the title). */
function skipElement(html: string, name: string, at: number, out: TextOut): number {
  const close = findEndTag(html, name, at);
  if (name === "title" && !out.title) {
    out.title = collapse(decodeEntities(close < 0 ? html.slice(at) : html.slice(at, close))).trim();
  }
  if (close < 0) return html.length;
  const after = tagEnd(html, close + 2 + name.length);
  return after < 0 ? html.length : after;
}

/** The text so far, and how it ends (so that line breaks are not doubled). */
class TextOut {
  /** The document's title, once found. */
  title = "";
  /** Inside `<head>`: text is not shown. */
  inHead = false;
  readonly #out: string[] = [];
  /** Open `<pre>` elements: their white space is kept. */
  #pre = 0;
  /** Line breaks at the end of the output so far (spaces ignored). */
  #trailing = 2;

  /** Text between tags: entities decoded, white space collapsed outside `<pre>`. */
  text(raw: string): void {
    if (this.inHead) return;
    const decoded = decodeEntities(raw);
    const piece = this.#pre > 0
      ? decoded.replace(/\r\n?/g, "\n").replace(/[ \t\u00a0]/g, PRE_SPACE)
      : collapse(decoded);
    this.#out.push(piece);
    if (piece.trim() !== "") this.#trailing = piece.length - piece.replace(/\n+$/, "").length;
  }

  /** What a start or end tag does to the text: a line break, a paragraph, a cell gap. */
  tag(name: string, closing: boolean): void {
    if (name === "br") {
      this.#out.push("\n");
      this.#trailing += 1;
    } else if (PARAGRAPHS.has(name)) {
      this.#lineBreak(2);
      if (name === "pre") this.#pre = Math.max(0, this.#pre + (closing ? -1 : 1));
    } else if (BLOCKS.has(name)) {
      this.#lineBreak(1);
    } else if (CELLS.has(name)) {
      this.#out.push(" ");
    }
  }

  /** Ends the current line (`lines` 1) or paragraph (2), unless already ended. */
  #lineBreak(lines: number): void {
    if (this.#trailing < lines) this.#out.push("\n".repeat(lines - this.#trailing));
    this.#trailing = Math.max(this.#trailing, lines);
  }

  /** The text: lines trimmed, at most one blank line in a row, the title first. */
  finish(): string {
    const body = this.#out.join("")
      .split("\n")
      .map((line) => line.replace(/ {2,}/g, " ").trim().replaceAll(PRE_SPACE, " ").trimEnd())
      .join("\n")
      .replace(/\n{3,}/g, "\n\n")
      .trim();
    if (!this.title) return body;
    return body ? `Title: ${this.title}\n\n${body}` : `Title: ${this.title}`;
  }
}
