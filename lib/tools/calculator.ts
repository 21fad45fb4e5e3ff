/**
 * `calculate_expression`: safe arithmetic without `eval`. A small recursive
 * descent parser over Python's arithmetic grammar, computing in floats with
 * Python's semantics for `%` (sign of the divisor) and `//` (floor).
 *
 * @module
 */

// Written as Python's json.dumps does (a space after the colon), like the result.
const INVALID = '{"error": "Invalid arithmetic expression."}';
const MAX_LENGTH = 1000;
const MAX_DEPTH = 64;

class CalcError extends Error {}

type Token = { kind: "num"; value: number } | { kind: "op"; value: string };

const NUMBER =
  /^(?:0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+|(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?)/;
const OPERATORS = ["**", "//", "+", "-", "*", "/", "%", "(", ")"];

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const op = OPERATORS.find((o) => text.startsWith(o, i));
    if (op) {
      tokens.push({ kind: "op", value: op });
      i += op.length;
      continue;
    }
    const match = NUMBER.exec(text.slice(i));
    if (!match) throw new CalcError(`unexpected "${ch}"`);
    const literal = match[0].replaceAll("_", "");
    // Python has no leading-zero decimals ("012"), only 0x/0o/0b prefixes.
    if (/^0\d/.test(literal) && !/[.eE]/.test(literal)) throw new CalcError("leading zero");
    const value = /^0[xob]/i.test(literal) ? Number(literal.toLowerCase()) : Number(literal);
    if (!Number.isFinite(value)) throw new CalcError("number too large");
    tokens.push({ kind: "num", value });
    i += match[0].length;
    // A name glued to a number ("2j", "3abc") is not arithmetic.
    if (i < text.length && /[A-Za-z_0-9.]/.test(text[i])) throw new CalcError("bad literal");
  }
  return tokens;
}

/** Python's float modulo: the result takes the divisor's sign. */
export function pyMod(a: number, b: number): number {
  if (b === 0) throw new CalcError("modulo by zero");
  const r = a % b;
  if (r === 0) return b < 0 ? -0 : 0; // Python: a zero remainder takes the divisor's sign too
  return (r < 0) !== (b < 0) ? r + b : r;
}

/** Python's float floor division. */
export function pyFloorDiv(a: number, b: number): number {
  if (b === 0) throw new CalcError("division by zero");
  return Math.floor(a / b);
}

function pyPow(a: number, b: number): number {
  if (a === 0 && b < 0) throw new CalcError("zero to a negative power");
  const r = a ** b;
  if (Number.isNaN(r)) throw new CalcError("complex result");
  // Python raises OverflowError here; do not let a later `1 / inf` turn it into 0.
  if (!Number.isFinite(r)) throw new CalcError("power overflows a float");
  return r;
}

class Parser {
  #pos = 0;
  #depth = 0;
  constructor(private readonly tokens: Token[]) {}

  parse(): number {
    const value = this.#expr();
    if (this.#pos !== this.tokens.length) throw new CalcError("trailing input");
    return value;
  }

  #peek(): Token | undefined {
    return this.tokens[this.#pos];
  }

  #isOp(...ops: string[]): string | undefined {
    const t = this.#peek();
    return t?.kind === "op" && ops.includes(t.value) ? t.value : undefined;
  }

  #nest<T>(fn: () => T): T {
    if (++this.#depth > MAX_DEPTH) throw new CalcError("too deeply nested");
    try {
      return fn();
    } finally {
      this.#depth--;
    }
  }

  #expr(): number {
    let left = this.#term();
    for (let op = this.#isOp("+", "-"); op; op = this.#isOp("+", "-")) {
      this.#pos++;
      const right = this.#term();
      left = op === "+" ? left + right : left - right;
    }
    return left;
  }

  #term(): number {
    let left = this.#factor();
    for (let op = this.#isOp("*", "/", "//", "%"); op; op = this.#isOp("*", "/", "//", "%")) {
      this.#pos++;
      const right = this.#factor();
      if (op === "*") left = left * right;
      else if (op === "/") {
        if (right === 0) throw new CalcError("division by zero");
        left = left / right;
      } else if (op === "//") left = pyFloorDiv(left, right);
      else left = pyMod(left, right);
    }
    return left;
  }

  // Unary binds looser than `**` on its right: -2 ** 2 == -(2 ** 2).
  #factor(): number {
    const op = this.#isOp("+", "-");
    if (op) {
      this.#pos++;
      const value = this.#nest(() => this.#factor());
      return op === "-" ? -value : value;
    }
    return this.#power();
  }

  #power(): number {
    const base = this.#atom();
    if (this.#isOp("**")) {
      this.#pos++;
      const exponent = this.#nest(() => this.#factor()); // right-associative
      return pyPow(base, exponent);
    }
    return base;
  }

  #atom(): number {
    const t = this.#peek();
    if (!t) throw new CalcError("unexpected end");
    if (t.kind === "num") {
      this.#pos++;
      return t.value;
    }
    if (t.value === "(") {
      this.#pos++;
      const value = this.#nest(() => this.#expr());
      if (!this.#isOp(")")) throw new CalcError("missing )");
      this.#pos++;
      return value;
    }
    throw new CalcError(`unexpected "${t.value}"`);
  }
}

/** Formats a float as Python's `repr` would for common values (4 → "4.0"). */
export function pyFloat(value: number): string {
  if (Object.is(value, -0)) return "-0.0";
  if (Number.isInteger(value) && Math.abs(value) < 1e16) return `${value}.0`;
  return String(value);
}

/**
 * Evaluates an arithmetic expression. Returns `{"result": <float>}` as JSON
 * text, or `{"error": "Invalid arithmetic expression."}` for anything else.
 */
export function calculateExpression(expression: unknown): string {
  if (typeof expression !== "string" || !expression.trim() || expression.length > MAX_LENGTH) {
    return INVALID;
  }
  try {
    const value = new Parser(tokenize(expression)).parse();
    if (!Number.isFinite(value)) return INVALID;
    return `{"result": ${pyFloat(value)}}`;
  } catch (error) {
    if (error instanceof CalcError || error instanceof RangeError) return INVALID;
    throw error;
  }
}
