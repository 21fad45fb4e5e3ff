/**
 * Markdown to the HTML that Matrix clients render (`org.matrix.custom.html`):
 * `marked` with single newlines as line breaks, tight lists, raw HTML from
 * the model escaped, and the output filtered through the spec's allowlist.
 *
 * @module
 */
import { Marked, type Tokens } from "marked";
import { decodeEntities } from "./html_entities.ts";

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) =>
      c === "&"
        ? "&amp;"
        : c === "<"
        ? "&lt;"
        : c === ">"
        ? "&gt;"
        : c === '"'
        ? "&quot;"
        : "&#39;",
  );
}

const FENCE = /^\s{0,3}(`{3,}|~{3,})/;
const LIST_ITEM = /^(\s*)([-*+]|\d{1,9}[.)])\s+\S/;

function listKind(marker: string): string {
  return /\d/.test(marker) ? `ol${marker.at(-1)}` : `ul${marker}`;
}

/**
 * Line-level fixes before parsing, as the reference's sibling does (§10.1 2):
 * a blank line before a list that follows a paragraph line, and no blank
 * lines between items of the same list (which would make it "loose" and
 * wrap every item in a paragraph). Fenced code is left alone.
 */
export function preprocessMarkdown(text: string): string {
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  const out: string[] = [];
  let fence: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const fenceMatch = FENCE.exec(line);
    if (fence) {
      out.push(line);
      if (fenceMatch && fenceMatch[1][0] === fence[0] && fenceMatch[1].length >= fence.length) {
        fence = undefined;
      }
      continue;
    }
    if (fenceMatch) {
      fence = fenceMatch[1];
      out.push(line);
      continue;
    }
    const item = LIST_ITEM.exec(line);
    if (item) {
      const prev = out.at(-1);
      if (prev !== undefined && prev.trim() !== "" && !LIST_ITEM.test(prev) && !/^\s/.test(prev)) {
        out.push("");
      }
      // Drop blank lines between this item and the next one of the same list.
      let j = i + 1;
      while (j < lines.length && lines[j].trim() === "") j++;
      const next = j < lines.length ? LIST_ITEM.exec(lines[j]) : null;
      out.push(line);
      if (
        next && j > i + 1 && next[1] === item[1] && listKind(next[2]) === listKind(item[2])
      ) {
        i = j - 1;
      }
      continue;
    }
    out.push(line);
  }
  return out.join("\n");
}

const SAFE_SCHEMES = /^(https?|ftp|mailto|magnet|matrix):/i;

function safeHref(href: string): string | undefined {
  const trimmed = href.trim();
  if (SAFE_SCHEMES.test(trimmed)) return trimmed;
  // Relative links mean nothing in a chat client; drop them.
  return undefined;
}

const marked = new Marked({
  gfm: true,
  breaks: true,
  renderer: {
    // Raw HTML written by the model is shown as text, never interpreted.
    html({ text }: Tokens.HTML | Tokens.Tag): string {
      return escapeHtml(text);
    },
    checkbox({ checked }: Tokens.Checkbox): string {
      return checked ? "☑ " : "☐ ";
    },
    link(this: { parser: { parseInline(t: Tokens.Generic[]): string } }, token: Tokens.Link) {
      const inner = this.parser.parseInline(token.tokens);
      const href = safeHref(token.href);
      if (!href) return inner;
      const title = token.title ? ` title="${escapeHtml(token.title)}"` : "";
      return `<a href="${escapeHtml(href)}"${title}>${inner}</a>`;
    },
    // Matrix clients only load mxc:// images; other images become links.
    image({ href, title, text }: Tokens.Image): string {
      const alt = escapeHtml(text || title || href);
      if (/^mxc:\/\//i.test(href)) return `<img src="${escapeHtml(href)}" alt="${alt}">`;
      const safe = safeHref(href);
      return safe ? `<a href="${escapeHtml(safe)}">${alt}</a>` : alt;
    },
    code({ text, lang }: Tokens.Code): string {
      const language = (lang ?? "").match(/^[\w+#.-]+/)?.[0];
      const cls = language ? ` class="language-${escapeHtml(language)}"` : "";
      return `<pre><code${cls}>${escapeHtml(text.replace(/\n$/, ""))}\n</code></pre>\n`;
    },
    tablecell(
      this: { parser: { parseInline(t: Tokens.Generic[]): string } },
      token: Tokens.TableCell,
    ): string {
      const tag = token.header ? "th" : "td";
      return `<${tag}>${this.parser.parseInline(token.tokens)}</${tag}>\n`;
    },
  },
});

const ALLOWED_TAGS = new Set([
  "font",
  "del",
  "h1",
  "h2",
  "h3",
  "h4",
  "h5",
  "h6",
  "blockquote",
  "p",
  "a",
  "ul",
  "ol",
  "sup",
  "sub",
  "li",
  "b",
  "i",
  "u",
  "strong",
  "em",
  "s",
  "code",
  "hr",
  "br",
  "div",
  "table",
  "thead",
  "tbody",
  "tr",
  "th",
  "td",
  "caption",
  "pre",
  "span",
  "img",
  "details",
  "summary",
]);

const ALLOWED_ATTRS: Record<string, ReadonlySet<string>> = {
  font: new Set(["data-mx-bg-color", "data-mx-color", "color"]),
  span: new Set(["data-mx-bg-color", "data-mx-color", "data-mx-spoiler"]),
  a: new Set(["href", "title"]),
  img: new Set(["width", "height", "alt", "title", "src"]),
  ol: new Set(["start"]),
  code: new Set(["class"]),
};

// Tags whose content is dropped with them, not kept as text.
const DROP_WITH_CONTENT = new Set(["script", "style", "iframe", "object", "embed", "template"]);

const TAG =
  /<(\/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^\s"'>\/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*)\s*(\/?)>/g;
const ATTR = /([^\s"'>\/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;

function cleanAttrs(tag: string, raw: string): string {
  const allowed = ALLOWED_ATTRS[tag];
  if (!allowed) return "";
  let out = "";
  for (const m of raw.matchAll(ATTR)) {
    const name = m[1].toLowerCase();
    if (!allowed.has(name)) continue;
    const value = decodeEntities(m[2] ?? m[3] ?? m[4] ?? "");
    // Strip control characters and whitespace tricks like "java\tscript:".
    // deno-lint-ignore no-control-regex -- control characters are exactly what must go
    const compact = value.replace(/[\u0000-\u0020\u007f-\u009f]/g, "");
    if (name === "href" && !SAFE_SCHEMES.test(compact)) continue;
    if (name === "src" && !/^mxc:\/\//i.test(compact)) continue;
    if (name === "class" && !/^language-[\w+#.-]+$/.test(value)) continue;
    if ((name === "start" || name === "width" || name === "height") && !/^\d{1,6}$/.test(value)) {
      continue;
    }
    if ((name === "color" || name.endsWith("-color")) && !/^#[0-9a-fA-F]{6}$/.test(value)) continue;
    out += ` ${name}="${escapeHtml(value)}"`;
  }
  return out;
}

/**
 * Keeps only the tags and attributes of the Matrix allowlist; other tags are
 * removed (their text kept, except for script-like tags), links limited to
 * http(s)/ftp/mailto/magnet/matrix, images to mxc://.
 */
export function sanitizeHtml(html: string): string {
  let out = "";
  let last = 0;
  let dropping: string | undefined;
  for (const m of html.matchAll(TAG)) {
    const [whole, closing, rawName, attrs, selfClosing] = m;
    const name = rawName.toLowerCase();
    const text = html.slice(last, m.index);
    last = m.index + whole.length;
    if (dropping) {
      if (closing && name === dropping) dropping = undefined;
      continue;
    }
    out += text.replace(/</g, "&lt;").replace(/>/g, "&gt;");
    if (DROP_WITH_CONTENT.has(name)) {
      if (!closing && !selfClosing) dropping = name;
      continue;
    }
    if (!ALLOWED_TAGS.has(name)) continue;
    if (closing) out += `</${name}>`;
    else out += `<${name}${cleanAttrs(name, attrs)}${selfClosing ? " /" : ""}>`;
  }
  if (!dropping) out += html.slice(last).replace(/</g, "&lt;").replace(/>/g, "&gt;");
  return out;
}

/**
 * Renders Markdown to sanitized Matrix HTML. Paragraphs that are the first
 * child of a list item are unwrapped so items do not get extra spacing.
 */
export function renderMarkdown(text: string): string {
  const html = marked.parse(preprocessMarkdown(text), { async: false }) as string;
  const tight = html
    .replace(/<li>\s*<p>([\s\S]*?)<\/p>\s*(?=<\/li>|<ul|<ol|<p>)/g, "<li>$1")
    .trimEnd();
  return sanitizeHtml(tight);
}

/**
 * Escapes a name for use inside Markdown emphasis (`**name**`): no line
 * breaks, no Markdown or HTML meaning, bounded length.
 */
export function escapeMarkdownInline(text: string, max = 100): string {
  // deno-lint-ignore no-control-regex -- a name must not break the header line
  const flat = text.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, " ").replace(/\s+/g, " ").trim();
  const cut = flat.length > max ? flat.slice(0, max) + "…" : flat;
  // Only characters with meaning mid-line: the name never starts a line.
  // So are the characters GFM would autolink on (`://`, `x@`, `www.`), so a
  // name never becomes a link; a Matrix ID (`@alice:example.org`) stays as is.
  return cut.replace(/[\\`*_\[\]<>|~&]|:(?=\/\/)|(?<=[\w.+-])@|(?<=www)\./gi, "\\$&");
}
