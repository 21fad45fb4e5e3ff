import { strictEqual } from "node:assert/strict";
import { decodeEntities } from "../lib/html_entities.ts";

const entities: Array<[input: string, output: string]> = [
  ["&amp;", "&"],
  ["&amp", "&"],
  ["&AMP;&LT;&GT;&QUOT;", '&<>"'],
  ["&quot;&apos;&#39;", `"''`],
  ["&copy 2024", "© 2024"],
  ["&eacute", "&eacute"],
  ["&unknown;", "&unknown;"],
  ["&#65;&#x42;&#X43;", "ABC"],
  ["&#0;", "\ufffd"],
  ["&#xD800;", "\ufffd"],
  ["&#x110000;", "\ufffd"],
  ["&#1114112;", "\ufffd"],
  ["&#150;", "–"],
  ["&#128512;", "😀"],
  ["&Uuml;ber &ntilde; &ccedil;", "Über ñ ç"],
  ["java&#x09;script&#58;", "java\tscript:"],
  ["&amp;lt;", "&lt;"],
  ["& alone", "& alone"],
  ["no references", "no references"],
];

for (const [input, output] of entities) {
  Deno.test(`decodeEntities turns ${JSON.stringify(input)} into ${JSON.stringify(output)}`, () => {
    strictEqual(decodeEntities(input), output);
  });
}
