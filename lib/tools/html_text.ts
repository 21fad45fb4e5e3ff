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
  const out: string[] = [];
  let title = "";
  let pre = 0;
  let inHead = false;
  let i = 0;
  /** Line breaks at the end of the output so far (spaces ignored). */
  let trailing = 2;
  const text = (raw: string) => {
    if (inHead) return;
    const decoded = decodeEntities(raw);
    const piece = pre > 0
      ? decoded.replace(/\r\n?/g, "\n").replace(/[ \t\u00a0]/g, PRE_SPACE)
      : collapse(decoded);
    out.push(piece);
    if (piece.trim() !== "") trailing = piece.length - piece.replace(/\n+$/, "").length;
  };
  /** Ends the current line (`lines` 1) or paragraph (2), unless already ended. */
  const lineBreak = (lines: number) => {
    if (trailing < lines) out.push("\n".repeat(lines - trailing));
    trailing = Math.max(trailing, lines);
  };
  while (i < html.length) {
    const lt = html.indexOf("<", i);
    if (lt < 0) {
      text(html.slice(i));
      break;
    }
    if (lt > i) text(html.slice(i, lt));
    i = lt;
    if (html.startsWith("<!--", i)) {
      const end = html.indexOf("-->", i + 4);
      i = end < 0 ? html.length : end + 3;
      continue;
    }
    const next = html[i + 1] ?? "";
    if (next === "!" || next === "?") {
      const end = html.indexOf(">", i + 2);
      i = end < 0 ? html.length : end + 1;
      continue;
    }
    const closing = next === "/";
    const match = /^[a-zA-Z][a-zA-Z0-9:-]*/.exec(html.slice(i + (closing ? 2 : 1), i + 66));
    if (!match) {
      // A "<" that does not start a tag is text.
      text("<");
      i += 1;
      continue;
    }
    const name = match[0].toLowerCase();
    const end = tagEnd(html, i + (closing ? 2 : 1) + match[0].length);
    if (end < 0) break; // An unterminated tag at the end: browsers drop it.
    i = end;
    if (name === "head") {
      inHead = !closing;
      continue;
    }
    if (inHead && !closing && (name === "body" || !HEAD_CONTENT.has(name))) inHead = false;
    if (!closing && (name === "title" || HIDDEN.has(name))) {
      const close = findEndTag(html, name, i);
      if (name === "title" && !title) {
        title = collapse(decodeEntities(close < 0 ? html.slice(i) : html.slice(i, close))).trim();
      }
      if (close < 0) {
        i = html.length;
      } else {
        const after = tagEnd(html, close + 2 + name.length);
        i = after < 0 ? html.length : after;
      }
      continue;
    }
    if (name === "br") {
      out.push("\n");
      trailing += 1;
    } else if (PARAGRAPHS.has(name)) {
      lineBreak(2);
      if (name === "pre") pre = Math.max(0, pre + (closing ? -1 : 1));
    } else if (BLOCKS.has(name)) {
      lineBreak(1);
    } else if (CELLS.has(name)) {
      out.push(" ");
    }
  }
  const body = out.join("")
    .split("\n")
    .map((line) => line.replace(/ {2,}/g, " ").trim().replaceAll(PRE_SPACE, " ").trimEnd())
    .join("\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
  if (!title) return body;
  return body ? `Title: ${title}\n\n${body}` : `Title: ${title}`;
}
