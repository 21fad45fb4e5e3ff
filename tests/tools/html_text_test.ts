import { strictEqual } from "node:assert/strict";
import { htmlToText } from "../../lib/tools/html_text.ts";

const cases: Array<[behaviour: string, html: string, text: string]> = [
  ["returns plain text unchanged", "hello world", "hello world"],
  [
    "puts the title first as a Title line",
    "<html><head><title>My  Page</title></head><body><p>Body</p></body></html>",
    "Title: My Page\n\nBody",
  ],
  ["decodes entities in the title", "<title>A &amp; B</title>x", "Title: A & B\n\nx"],
  ["omits the Title line when the title is empty", "<title> </title><p>x</p>", "x"],
  [
    "drops scripts, including ones that contain tags in strings",
    '<p>a</p><script>document.write("</p><p>evil");</script><p>b</p>',
    "a\n\nb",
  ],
  [
    "drops style, noscript and template contents",
    "<style>p { color: red }</style><noscript>Enable JS</noscript>" +
    "<template><p>tpl</p></template>kept",
    "kept",
  ],
  [
    "drops everything in the head except the title",
    '<head><meta charset="utf-8"><title>T</title><link rel="x">stray</head><body>b</body>',
    "Title: T\n\nb",
  ],
  [
    "ends an unclosed head at the first body element",
    "<head><title>T</title><p>body text",
    "Title: T\n\nbody text",
  ],
  ["drops an unclosed script to the end", "before<script>var x = 1; after", "before"],
  ["drops comments", "a<!-- hidden <p>x</p> -->b", "ab"],
  ["drops doctype and processing instructions", '<!DOCTYPE html><?xml version="1.0"?>x', "x"],
  ["turns br into line breaks", "one<br>two<br/>three", "one\ntwo\nthree"],
  ["keeps two br as an empty line", "one<br><br>two", "one\n\ntwo"],
  ["puts divs on their own lines", "<div>one</div><div>two</div>", "one\ntwo"],
  ["puts list items on their own lines", "<ul><li>one</li><li>two</li></ul>", "one\ntwo"],
  [
    "separates paragraphs and headings by an empty line",
    "<h1>Head</h1><p>First</p><p>Second</p>",
    "Head\n\nFirst\n\nSecond",
  ],
  [
    "keeps table rows on lines and cells apart",
    "<table><tr><th>a</th><th>b</th></tr><tr><td>1</td><td>2</td></tr></table>",
    "a b\n1 2",
  ],
  [
    "keeps link text and inline markup without breaks",
    'Read <a href="https://x.test/">the <b>docs</b></a>, then <em>go</em>.',
    "Read the docs, then go.",
  ],
  [
    "respects a > inside a quoted attribute",
    '<a title="a > b" href="/">link</a> text',
    "link text",
  ],
  [
    "collapses whitespace runs, newlines included",
    "<p>  lots \n\n of\t\tspace  </p>",
    "lots of space",
  ],
  [
    "preserves whitespace inside pre",
    "<p>x</p><pre>line 1\n    indented\n</pre><p>y</p>",
    "x\n\nline 1\n    indented\n\ny",
  ],
  [
    "decodes named and numeric entities",
    "&lt;b&gt; &quot;q&quot; &#39;s&#39; &eacute; &#x20AC; &#8364; &hellip;",
    "<b> \"q\" 's' é € € …",
  ],
  ["turns nbsp into an ordinary space", "a&nbsp;&nbsp;b", "a b"],
  ["leaves a lone less-than sign as text", "1 < 2 and 3 > 2", "1 < 2 and 3 > 2"],
  [
    "does not let a decoded &lt; start a tag",
    "&lt;script&gt;x&lt;/script&gt;",
    "<script>x</script>",
  ],
  ["drops an unterminated tag at the end", "text <a href=", "text"],
  ["treats tag names case-insensitively", "<P>a</P><SCRIPT>x</SCRIPT><BR>b", "a\n\nb"],
  [
    "collapses more than one empty line",
    "<p>a</p><div></div><div></div><p></p><p>b</p>",
    "a\n\nb",
  ],
  ["returns an empty string for an empty document", "<html><body></body></html>", ""],
];

for (const [behaviour, html, text] of cases) {
  Deno.test(`htmlToText ${behaviour}`, () => {
    strictEqual(htmlToText(html), text);
  });
}
