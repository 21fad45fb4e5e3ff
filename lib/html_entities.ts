/**
 * HTML character references (`&amp;`, `&#233;`, `&eacute;`) decoded the way
 * browsers show them: numeric ones, the named ones web pages commonly use,
 * and the few legacy names browsers accept without the closing semicolon.
 * Used for page text (`fetch_url`) and for attribute values before the
 * Markdown sanitizer checks them.
 *
 * @module
 */

/** Named character references a web page commonly uses. */
const ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  AMP: "&",
  LT: "<",
  GT: ">",
  QUOT: '"',
  nbsp: "\u00a0",
  ensp: "\u2002",
  emsp: "\u2003",
  thinsp: "\u2009",
  zwnj: "\u200c",
  zwj: "\u200d",
  shy: "\u00ad",
  copy: "©",
  reg: "®",
  trade: "™",
  hellip: "…",
  mdash: "—",
  ndash: "–",
  minus: "−",
  lsquo: "‘",
  rsquo: "’",
  sbquo: "‚",
  ldquo: "“",
  rdquo: "”",
  bdquo: "„",
  laquo: "«",
  raquo: "»",
  lsaquo: "‹",
  rsaquo: "›",
  bull: "•",
  middot: "·",
  dagger: "†",
  Dagger: "‡",
  prime: "′",
  Prime: "″",
  deg: "°",
  plusmn: "±",
  times: "×",
  divide: "÷",
  frac12: "½",
  frac14: "¼",
  frac34: "¾",
  sup1: "¹",
  sup2: "²",
  sup3: "³",
  micro: "µ",
  para: "¶",
  sect: "§",
  cent: "¢",
  pound: "£",
  yen: "¥",
  euro: "€",
  curren: "¤",
  iexcl: "¡",
  iquest: "¿",
  ordf: "ª",
  ordm: "º",
  not: "¬",
  macr: "¯",
  acute: "´",
  cedil: "¸",
  uml: "¨",
  larr: "←",
  uarr: "↑",
  rarr: "→",
  darr: "↓",
  harr: "↔",
  rArr: "⇒",
  lArr: "⇐",
  hArr: "⇔",
  le: "≤",
  ge: "≥",
  ne: "≠",
  asymp: "≈",
  equiv: "≡",
  infin: "∞",
  sum: "∑",
  prod: "∏",
  radic: "√",
  part: "∂",
  isin: "∈",
  cap: "∩",
  cup: "∪",
  and: "∧",
  or: "∨",
  alpha: "α",
  beta: "β",
  gamma: "γ",
  delta: "δ",
  epsilon: "ε",
  theta: "θ",
  lambda: "λ",
  mu: "μ",
  pi: "π",
  sigma: "σ",
  tau: "τ",
  phi: "φ",
  omega: "ω",
  Delta: "Δ",
  Sigma: "Σ",
  Omega: "Ω",
  hearts: "♥",
  check: "✓",
  star: "☆",
  szlig: "ß",
  oslash: "ø",
  Oslash: "Ø",
  aelig: "æ",
  AElig: "Æ",
  eth: "ð",
  thorn: "þ",
  yuml: "ÿ",
};

// Latin-1 letters with accents: &eacute; &Uuml; &ntilde; …
for (
  const [accent, mark, letters] of [
    ["acute", "\u0301", "aeiouyAEIOUY"],
    ["grave", "\u0300", "aeiouAEIOU"],
    ["circ", "\u0302", "aeiouAEIOU"],
    ["uml", "\u0308", "aeiouAEIOU"],
    ["tilde", "\u0303", "anoANO"],
    ["ring", "\u030a", "aA"],
    ["cedil", "\u0327", "cC"],
  ]
) {
  for (const letter of letters) {
    ENTITIES[letter + accent] = (letter + mark).normalize("NFC");
  }
}

/** References browsers accept without the closing semicolon. */
const LEGACY = new Set([
  "amp",
  "lt",
  "gt",
  "quot",
  "AMP",
  "LT",
  "GT",
  "QUOT",
  "nbsp",
  "copy",
  "reg",
]);

/** What browsers show for the C1 code points &#128;–&#159; (windows-1252). */
const WINDOWS_1252 = "€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008dŽ\u008f\u0090‘’“”•–—˜™š›œ\u009džŸ";

function codePoint(n: number): string {
  if (n >= 0x80 && n <= 0x9f) return WINDOWS_1252[n - 0x80];
  if (n === 0 || n > 0x10ffff || (n >= 0xd800 && n <= 0xdfff)) return "\ufffd";
  return String.fromCodePoint(n);
}

/** Decodes named (common ones) and numeric character references. */
export function decodeEntities(text: string): string {
  if (!text.includes("&")) return text;
  return text.replace(
    /&(?:#(\d{1,8})|#[xX]([0-9a-fA-F]{1,8})|([a-zA-Z][a-zA-Z0-9]{1,31}))(;?)/g,
    (whole, dec: string, hex: string, name: string, semi: string) => {
      if (dec !== undefined) return codePoint(parseInt(dec, 10));
      if (hex !== undefined) return codePoint(parseInt(hex, 16));
      const value = ENTITIES[name];
      if (value === undefined || (!semi && !LEGACY.has(name))) return whole;
      return value;
    },
  );
}
