import { deepStrictEqual, doesNotMatch, match, ok, strictEqual } from "node:assert/strict";
import {
  escapeHtml,
  escapeMarkdownInline,
  preprocessMarkdown,
  renderMarkdown,
  sanitizeHtml,
} from "../lib/markdown.ts";

/** Every tag name in the HTML, lower-cased. */
function tags(html: string): string[] {
  return [...html.matchAll(/<\/?([a-zA-Z][a-zA-Z0-9-]*)/g)].map((m) => m[1].toLowerCase());
}

/** Every attribute name of every tag in the HTML. */
function attrs(html: string): string[] {
  const out: string[] = [];
  for (const tag of html.matchAll(/<[a-zA-Z][^>]*>/g)) {
    for (const a of tag[0].matchAll(/\s([^\s"'=\/>]+)(?:="[^"]*")?/g)) out.push(a[1].toLowerCase());
  }
  return out;
}

const DANGEROUS_TAGS = new Set([
  "script",
  "style",
  "iframe",
  "svg",
  "math",
  "object",
  "embed",
  "body",
  "form",
  "input",
  "link",
  "meta",
  "base",
  "template",
]);

function assertNoDanger(html: string): void {
  for (const tag of tags(html)) ok(!DANGEROUS_TAGS.has(tag), `tag <${tag}> survived in ${html}`);
  for (const attr of attrs(html)) {
    ok(!attr.startsWith("on"), `event handler ${attr} survived in ${html}`);
    ok(attr !== "style", `style attribute survived in ${html}`);
  }
  // No URL attribute may carry a script or data scheme.
  for (const m of html.matchAll(/\s(?:href|src)="([^"]*)"/gi)) {
    // deno-lint-ignore no-control-regex -- control characters hide a scheme from naive checks
    const value = m[1].replace(/&#?\w+;/g, "").replace(/[\s\u0000-\u001f]/g, "");
    ok(!/^(javascript|vbscript|data):/i.test(value), `unsafe URL ${m[1]} survived in ${html}`);
  }
}

// --- renderMarkdown ---------------------------------------------------------

interface RenderCase {
  name: string;
  markdown: string;
  contains?: string[];
  lacks?: (string | RegExp)[];
}

const renderCases: RenderCase[] = [
  {
    name: "a bold header line followed by text keeps the line break",
    markdown: "**Alice**:\nHello",
    contains: ["<strong>Alice</strong>:<br", "Hello"],
  },
  {
    name: "a list right after a paragraph line becomes a real list",
    markdown: "Shopping:\n- milk\n- eggs",
    contains: ["Shopping:", "<ul>", "<li>milk</li>", "<li>eggs</li>"],
    lacks: ["- milk"],
  },
  {
    name: "an ordered list right after a paragraph line becomes a real list",
    markdown: "Steps:\n1. open\n2. close",
    contains: ["<ol>", "<li>open</li>", "<li>close</li>"],
  },
  {
    name: "a loose list (blank lines between items) renders tight",
    markdown: "- one\n\n- two\n\n- three",
    contains: ["<li>one</li>", "<li>two</li>", "<li>three</li>"],
    lacks: [/<li>\s*<p>/],
  },
  {
    name: "a loose ordered list renders tight",
    markdown: "1. one\n\n2. two",
    contains: ["<ol>", "<li>one</li>", "<li>two</li>"],
    lacks: ["<p>"],
  },
  {
    name: "a table renders header and data cells without align attributes",
    markdown: "| Name | Qty |\n|:-----|----:|\n| tea | 2 |",
    contains: ["<table>", "<th>Name</th>", "<th>Qty</th>", "<td>tea</td>", "<td>2</td>"],
    lacks: ["align", "style"],
  },
  {
    name: "an escaped pipe inside code in a table cell stays in the cell",
    markdown: "| expr | note |\n|---|---|\n| `a \\| b` | or |",
    contains: ["<td><code>a | b</code></td>", "<td>or</td>"],
  },
  {
    name: "fenced code gets a language class and is escaped",
    markdown: "```js\nif (a < b) alert('x');\n```",
    contains: ['<pre><code class="language-js">', "if (a &lt; b) alert(", "</code></pre>"],
  },
  {
    name: "fenced code without a language has no class",
    markdown: "```\nplain\n```",
    contains: ["<pre><code>plain"],
    lacks: ["class="],
  },
  {
    name: "raw <script> from the model is shown as text",
    markdown: "<script>alert(1)</script>",
    contains: ["&lt;script&gt;"],
    lacks: ["<script"],
  },
  {
    name: "inline raw <b> from the model is shown as text",
    markdown: "this is <b>bold</b> text",
    contains: ["&lt;b&gt;bold&lt;/b&gt;"],
    lacks: ["<b>"],
  },
  {
    name: "a raw <img onerror> from the model is shown as text",
    markdown: "look <img src=x onerror=alert(1)>",
    contains: ["&lt;img"],
    lacks: ["<img"],
  },
  {
    name: "a https link renders as a link",
    markdown: "[site](https://example.org/a?b=1&c=2)",
    contains: ['<a href="https://example.org/a?b=1&amp;c=2">site</a>'],
  },
  {
    name: "a mailto link renders as a link",
    markdown: "[mail](mailto:a@example.org)",
    contains: ['<a href="mailto:a@example.org">mail</a>'],
  },
  {
    name: "a javascript: link is rendered as its text only",
    markdown: "[click](javascript:alert(1))",
    contains: ["click"],
    lacks: ["<a", "javascript"],
  },
  {
    name: "a mixed-case JavaScript: link is rendered as its text only",
    markdown: "[click](JaVaScRiPt:alert(1))",
    contains: ["click"],
    lacks: ["<a", /javascript/i],
  },
  {
    name: "a data: link is rendered as its text only",
    markdown: "[x](data:text/html,hi)",
    lacks: ["<a", "data:"],
  },
  {
    name: "an http image becomes a link to the image",
    markdown: "![a cat](https://example.org/cat.png)",
    contains: ['<a href="https://example.org/cat.png">a cat</a>'],
    lacks: ["<img"],
  },
  {
    name: "an mxc image stays an image",
    markdown: "![a cat](mxc://example.org/abc)",
    contains: ['<img src="mxc://example.org/abc" alt="a cat">'],
  },
  {
    name: "a javascript: image is dropped to its alt text",
    markdown: "![pic](javascript:alert(1))",
    contains: ["pic"],
    lacks: ["<img", "<a", "javascript"],
  },
  {
    name: "task list checkboxes become ☑ and ☐ characters",
    markdown: "- [x] done\n- [ ] todo",
    contains: ["☑ done", "☐ todo"],
    lacks: ["<input", "checkbox"],
  },
];

for (const c of renderCases) {
  Deno.test(`renderMarkdown: ${c.name}`, () => {
    const html = renderMarkdown(c.markdown);
    for (const s of c.contains ?? []) ok(html.includes(s), `expected ${s} in ${html}`);
    for (const s of c.lacks ?? []) {
      if (typeof s === "string") ok(!html.includes(s), `did not expect ${s} in ${html}`);
      else doesNotMatch(html, s);
    }
    assertNoDanger(html);
  });
}

// --- sanitizeHtml: what must never survive ----------------------------------

const xssPayloads: string[] = [
  "<script>alert(1)</script>",
  "<SCRIPT>alert(1)</SCRIPT>",
  "<script src=https://evil.example/x.js></script>",
  "<script>unclosed and everything after",
  '<img src=x onerror="alert(1)">',
  "<img src=x onerror=alert(1)>",
  '<a href="https://ok.example" onclick="steal()">x</a>',
  "<div onmouseover=alert(1)>x</div>",
  '<a href="javascript:alert(1)">x</a>',
  '<a href="JaVaScRiPt:alert(1)">x</a>',
  '<a href="java\tscript:alert(1)">x</a>',
  '<a href="java\nscript:alert(1)">x</a>',
  '<a href=" javascript:alert(1)">x</a>',
  '<a href="javascript&#58;alert(1)">x</a>',
  '<a href="&#106;avascript:alert(1)">x</a>',
  '<a href="&#x6A;avascript:alert(1)">x</a>',
  "<a href='javascript:alert(1)'>x</a>",
  "<a href=javascript:alert(1)>x</a>",
  '<a href="vbscript:msgbox(1)">x</a>',
  '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
  '<img src="data:image/png;base64,AAAA">',
  '<img src="https://tracker.example/p.gif">',
  '<iframe src="https://evil.example"></iframe>',
  '<iframe srcdoc="<script>alert(1)</script>">',
  "<style>body { display: none }</style>",
  "<<script>script>alert(1)<</script>/script>",
  "<scr<script>ipt>alert(1)</script>",
  "<svg onload=alert(1)>",
  "<svg><script>alert(1)</script></svg>",
  '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
  "<body onload=alert(1)>",
  '<object data="https://evil.example/x.swf"></object>',
  '<embed src="https://evil.example/x.swf">',
  '<form action="https://evil.example"><input name=x></form>',
  '<meta http-equiv="refresh" content="0;url=https://evil.example">',
  '<link rel="stylesheet" href="https://evil.example/x.css">',
  "<details open ontoggle=alert(1)>x</details>",
  '<p style="position:fixed" class="evil">t</p>',
  '<span style="color:red" onclick="x()">t</span>',
  '<a href="https://ok.example"title="x"onclick="y">q</a>',
  "<img/src/onerror=alert(1)>",
  '<a/href="javascript:alert(1)">x</a>',
  "<img src=x onerror=alert(1)//",
  '<code class="language-js" onclick="x()">c</code>',
  '<code class="evil language-js">c</code>',
  '<ol start="1 onclick=alert(1)"><li>x</li></ol>',
  '<font color="red;background:url(javascript:alert(1))">x</font>',
  "<!-- <script>alert(1)</script> -->",
  '<a title="&quot;><script>alert(1)</script>" href="https://ok.example">t</a>',
];

for (const payload of xssPayloads) {
  Deno.test(`sanitizeHtml removes everything dangerous from ${JSON.stringify(payload)}`, () => {
    const html = sanitizeHtml(payload);
    assertNoDanger(html);
    ok(!/<script/i.test(html), `a script tag survived: ${html}`);
  });
}

// --- sanitizeHtml: what must survive ----------------------------------------

const keepCases: Array<{ name: string; html: string; want: string }> = [
  {
    name: "an out-of-range character reference in an attribute becomes U+FFFD, not an error",
    html: '<a href="https://example.org/&#99999999;">x</a>',
    want: '<a href="https://example.org/\ufffd">x</a>',
  },
  {
    name: "a https link keeps its href and title",
    html: '<a href="https://example.org/x" title="t">x</a>',
    want: '<a href="https://example.org/x" title="t">x</a>',
  },
  {
    name: "a mailto link keeps its href",
    html: '<a href="mailto:a@example.org">m</a>',
    want: '<a href="mailto:a@example.org">m</a>',
  },
  {
    name: "a matrix: link keeps its href",
    html: '<a href="matrix:u/alice:example.org">a</a>',
    want: '<a href="matrix:u/alice:example.org">a</a>',
  },
  {
    name: "an ordered list keeps its start number",
    html: '<ol start="3"><li>x</li></ol>',
    want: '<ol start="3"><li>x</li></ol>',
  },
  {
    name: "code keeps a language class",
    html: '<pre><code class="language-rust">fn main() {}</code></pre>',
    want: '<pre><code class="language-rust">fn main() {}</code></pre>',
  },
  {
    name: "an mxc image keeps its src and alt",
    html: '<img src="mxc://example.org/abc" alt="cat">',
    want: '<img src="mxc://example.org/abc" alt="cat">',
  },
  {
    name: "an mxc image loses an event handler but keeps its src",
    html: '<img src="mxc://example.org/abc" onerror="alert(1)">',
    want: '<img src="mxc://example.org/abc">',
  },
  {
    name: "a spoiler span keeps data-mx-spoiler",
    html: "<span data-mx-spoiler>secret</span>",
    want: '<span data-mx-spoiler="">secret</span>',
  },
  {
    name: "a font keeps a hex data-mx-color",
    html: '<font data-mx-color="#ff0000">red</font>',
    want: '<font data-mx-color="#ff0000">red</font>',
  },
  {
    name: "formatting tags of the allowlist stay",
    html: "<p><strong>b</strong> <em>i</em> <del>d</del><br></p><blockquote>q</blockquote>",
    want: "<p><strong>b</strong> <em>i</em> <del>d</del><br></p><blockquote>q</blockquote>",
  },
  {
    name: "a disallowed tag is removed but its text kept",
    html: "<marquee>hello</marquee>",
    want: "hello",
  },
  {
    name: "class is dropped from tags other than code",
    html: '<p class="language-js">t</p>',
    want: "<p>t</p>",
  },
  {
    name: "stray angle brackets in text are escaped",
    html: "1 < 2 > 0",
    want: "1 &lt; 2 &gt; 0",
  },
];

for (const c of keepCases) {
  Deno.test(`sanitizeHtml: ${c.name}`, () => {
    strictEqual(sanitizeHtml(c.html), c.want);
  });
}

// --- preprocessMarkdown -----------------------------------------------------

const fencedCases: string[] = [
  "```\nText:\n- a\n\n- b\n```",
  "~~~md\nIntro\n1. one\n\n2. two\n~~~",
  "````\n```\nnot the end\n- x\n\n- y\n```\n````",
];

for (const text of fencedCases) {
  Deno.test(`preprocessMarkdown leaves fenced code untouched: ${JSON.stringify(text)}`, () => {
    strictEqual(preprocessMarkdown(text), text);
  });
}

Deno.test("preprocessMarkdown separates a list from the paragraph line above it", () => {
  strictEqual(preprocessMarkdown("Intro:\n- a\n- b"), "Intro:\n\n- a\n- b");
});

Deno.test("preprocessMarkdown removes blank lines between items of the same list", () => {
  strictEqual(preprocessMarkdown("- a\n\n- b\n\n\n- c"), "- a\n- b\n- c");
});

Deno.test("preprocessMarkdown keeps the blank line between two different lists", () => {
  strictEqual(preprocessMarkdown("- a\n\n1. b"), "- a\n\n1. b");
});

Deno.test("preprocessMarkdown fixes lists again after a fenced block closes", () => {
  strictEqual(
    preprocessMarkdown("```\n- x\n\n- y\n```\nAfter:\n- a"),
    "```\n- x\n\n- y\n```\nAfter:\n\n- a",
  );
});

// --- escapeMarkdownInline ---------------------------------------------------

const nameCases: Array<{ name: string; input: string; text: string }> = [
  { name: "a plain name is unchanged", input: "Alice", text: "Alice" },
  { name: "emphasis characters are literal", input: "*Al_ice*", text: "*Al_ice*" },
  { name: "a closing bold marker cannot end the header", input: "Bob** evil", text: "Bob** evil" },
  { name: "code spans are literal", input: "`code`", text: "`code`" },
  {
    name: "link syntax is literal",
    input: "[x](https://evil.example)",
    text: "[x](https://evil.example)",
  },
  { name: "strikethrough is literal", input: "~~gone~~", text: "~~gone~~" },
  {
    name: "raw HTML is text",
    input: "<img src=x onerror=alert(1)>",
    text: "<img src=x onerror=alert(1)>",
  },
  { name: "entities are text", input: "&lt;b&gt;", text: "&lt;b&gt;" },
  {
    name: "a newline cannot start a new block",
    input: "Eve\n# Heading\n- item",
    text: "Eve # Heading - item",
  },
  { name: "control characters are removed", input: "x\u0000y\u001bz\u007f", text: "x y z" },
  { name: "line and paragraph separators are removed", input: "a\u2028b\u2029c", text: "a b c" },
  {
    name: "a URL name is not turned into a link",
    input: "https://evil.example",
    text: "https://evil.example",
  },
  {
    name: "a www name is not turned into a link",
    input: "www.evil.example",
    text: "www.evil.example",
  },
  {
    name: "an email name is not turned into a link",
    input: "eve@evil.example",
    text: "eve@evil.example",
  },
  { name: "a backslash stays a backslash", input: "a\\*b", text: "a\\*b" },
];

for (const c of nameCases) {
  Deno.test(`escapeMarkdownInline: ${c.name}`, () => {
    const escaped = escapeMarkdownInline(c.input);
    // deno-lint-ignore no-control-regex -- checking that control characters are gone
    doesNotMatch(escaped, /[\u0000-\u001f\u007f\u2028\u2029]/);
    const html = renderMarkdown(`**${escaped}**:\nhi`);
    strictEqual(html, `<p><strong>${escapeHtml(c.text)}</strong>:<br>hi</p>`);
  });
}

Deno.test("escapeMarkdownInline caps a long name and marks the cut", () => {
  const escaped = escapeMarkdownInline("a".repeat(500));
  strictEqual(escaped, "a".repeat(100) + "…");
  strictEqual(escapeMarkdownInline("abcdef", 3), "abc…");
  strictEqual(escapeMarkdownInline("abc", 3), "abc");
});

Deno.test("escapeHtml escapes the five HTML characters", () => {
  strictEqual(
    escapeHtml(`<a href="x">'&'</a>`),
    "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;",
  );
});

Deno.test("renderMarkdown renders the help-style table with inline code cells", () => {
  const html = renderMarkdown("| Command | What |\n|---|---|\n| `.ai <text>` | ask |");
  match(html, /<td><code>\.ai &lt;text&gt;<\/code><\/td>/);
  deepStrictEqual(tags(html).filter((t) => t === "table").length, 2);
});

Deno.test("escapeMarkdownInline leaves a Matrix ID readable and unlinked", () => {
  strictEqual(escapeMarkdownInline("@alice:example.org"), "@alice:example.org");
  strictEqual(
    renderMarkdown(`**${escapeMarkdownInline("@alice:example.org")}**:\nhi`),
    "<p><strong>@alice:example.org</strong>:<br>hi</p>",
  );
});
