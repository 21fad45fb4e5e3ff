/**
 * The text of a config file as JSON. A syntax error is reported by line and
 * column only: V8's own message quotes the text around it (maybe a password),
 * so a small scanner of our own finds where the text stops being JSON.
 *
 * @module
 */
import { ConfigError } from "./config_errors.ts";

/**
 * Parses the text of a config file (a byte-order mark is allowed).
 * Throws {@link ConfigError} with the line and column of a syntax error.
 */
export function parseConfigText(text: string, path = "config.json"): unknown {
  const clean = text.replace(/^\uFEFF/, ""); // editors on Windows add a byte-order mark
  try {
    return JSON.parse(clean);
  } catch {
    const at = jsonErrorAt(clean);
    throw new ConfigError(path, [
      at
        ? `(file): not valid JSON at line ${at.line}, column ${at.column}`
        : "(file): not valid JSON",
    ]);
  }
}

/**
 * Where the first JSON syntax error is (1-based line and column), by a small
 * scanner; `undefined` when the text parses.
 */
export function jsonErrorAt(text: string): { line: number; column: number } | undefined {
  const at = new JsonScanner(text).firstError();
  if (at === undefined) return undefined;
  const before = text.slice(0, at);
  const line = before.split("\n").length;
  return { line, column: at - before.lastIndexOf("\n") };
}

// Deeper nesting is refused rather than risking the stack.
const MAX_DEPTH = 512;

/** Thrown by the scanner: the offset where the text stops being JSON. */
class Stop {
  constructor(readonly offset: number) {}
}

/** A recursive-descent JSON checker over `text`; `#i` is where it is. */
class JsonScanner {
  readonly #text: string;
  #i = 0;

  constructor(text: string) {
    this.#text = text;
  }

  /** The offset of the first syntax error, or `undefined` when the text is JSON. */
  firstError(): number | undefined {
    try {
      this.#value(0);
      this.#ws();
      if (this.#i < this.#text.length) this.#fail();
      return undefined;
    } catch (stop) {
      if (!(stop instanceof Stop)) throw stop;
      return stop.offset;
    }
  }

  #fail(): never {
    throw new Stop(this.#i);
  }

  #ws(): void {
    while (this.#i < this.#text.length && " \t\n\r".includes(this.#text[this.#i])) this.#i++;
  }

  #value(depth: number): void {
    if (depth > MAX_DEPTH) this.#fail();
    this.#ws();
    const c = this.#text[this.#i];
    if (c === "{") return this.#object(depth);
    if (c === "[") return this.#array(depth);
    if (c === '"') return this.#string();
    if (c === "t") return this.#literal("true");
    if (c === "f") return this.#literal("false");
    if (c === "n") return this.#literal("null");
    if (c === "-" || (c >= "0" && c <= "9")) return this.#number();
    this.#fail();
  }

  #object(depth: number): void {
    this.#i++;
    this.#ws();
    if (this.#text[this.#i] === "}") return void this.#i++;
    for (;;) {
      this.#ws();
      if (this.#text[this.#i] !== '"') this.#fail();
      this.#string();
      this.#ws();
      if (this.#text[this.#i] !== ":") this.#fail();
      this.#i++;
      this.#value(depth + 1);
      if (this.#closes("}")) return;
    }
  }

  #array(depth: number): void {
    this.#i++;
    this.#ws();
    if (this.#text[this.#i] === "]") return void this.#i++;
    for (;;) {
      this.#value(depth + 1);
      if (this.#closes("]")) return;
    }
  }

  /** After a member: `,` goes on (false), `close` ends (true), else fails. */
  #closes(close: string): boolean {
    this.#ws();
    const c = this.#text[this.#i];
    if (c !== "," && c !== close) this.#fail();
    this.#i++;
    return c === close;
  }

  #string(): void {
    const text = this.#text;
    this.#i++; // opening quote
    while (this.#i < text.length) {
      const c = text[this.#i];
      if (c === '"') return void this.#i++;
      if (c < " ") this.#fail();
      if (c === "\\") this.#escape();
      else this.#i++;
    }
    this.#fail();
  }

  #escape(): void {
    const text = this.#text;
    this.#i++; // the backslash
    if (text[this.#i] === "u") {
      if (!/^[0-9a-fA-F]{4}$/.test(text.slice(this.#i + 1, this.#i + 5))) this.#fail();
      this.#i += 5;
    } else if ('"\\/bfnrt'.includes(text[this.#i] ?? "")) this.#i++;
    else this.#fail();
  }

  #literal(word: string): void {
    if (!this.#text.startsWith(word, this.#i)) this.#fail();
    this.#i += word.length;
  }

  #number(): void {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(this.#text.slice(this.#i));
    if (!m) this.#fail();
    this.#i += m[0].length;
  }
}
