/**
 * How the encryption journal stores IndexedDB keys and values in SQLite.
 *
 * Keys become canonical text (a SQLite primary key must compare equal for
 * equal IndexedDB keys); values become V8's structured-clone bytes, which
 * keep Uint8Array, ArrayBuffer, Map and Date as the Rust crypto store may
 * write them (E2EE-NOTES §2).
 *
 * @module
 */
import { deserialize, serialize } from "node:v8";
import { decodeBase64, encodeBase64 } from "./base64.ts";

/**
 * A canonical text form of an IndexedDB key. Equal keys always give equal
 * text (V8's serializer does not promise that for strings), so the text can
 * be a SQLite primary key.
 */
export function encodeKey(key: IDBValidKey): string {
  if (typeof key === "number") return `n:${Object.is(key, -0) ? 0 : key}`;
  // JSON escapes lone surrogates, which SQLite text would otherwise mangle.
  if (typeof key === "string") return `s:${JSON.stringify(key)}`;
  if (key instanceof Date) return `d:${key.getTime()}`;
  if (Array.isArray(key)) return `a:${JSON.stringify(key.map((k) => encodeKey(k as IDBValidKey)))}`;
  if (key instanceof ArrayBuffer) return `b:${encodeBase64(new Uint8Array(key))}`;
  if (ArrayBuffer.isView(key)) {
    return `b:${encodeBase64(new Uint8Array(key.buffer, key.byteOffset, key.byteLength))}`;
  }
  throw new TypeError(`not an IndexedDB key: ${String(key)}`);
}

/** The key an {@link encodeKey} text stands for (binary keys come back as ArrayBuffer). */
export function decodeKey(text: string): IDBValidKey {
  const tag = text.slice(0, 2);
  const rest = text.slice(2);
  switch (tag) {
    case "n:":
      return Number(rest);
    case "s:":
      return JSON.parse(rest) as string;
    case "d:":
      return new Date(Number(rest));
    case "a:":
      return (JSON.parse(rest) as string[]).map(decodeKey);
    case "b:": {
      const bytes = decodeBase64(rest);
      return bytes.buffer.slice(
        bytes.byteOffset,
        bytes.byteOffset + bytes.byteLength,
      ) as ArrayBuffer;
    }
  }
  throw new TypeError(`bad encoded key: ${text.slice(0, 20)}`);
}

/**
 * The stored form of a value. It is taken when the write is made, as
 * IndexedDB takes its own copy then: later changes of the caller's object
 * must not reach either.
 */
export function encodeValue(value: unknown): Uint8Array {
  return new Uint8Array(serialize(value));
}

/** The value an {@link encodeValue} form stands for. */
export function decodeValue(bytes: Uint8Array): unknown {
  return deserialize(bytes);
}

/**
 * A copy of `value` with `key` set at the dotted `keyPath`: what an in-line
 * autoIncrement store does to its copy of a value when it generates the key.
 */
export function withKey(value: unknown, keyPath: string, key: IDBValidKey): unknown {
  if (!value || typeof value !== "object") return value;
  const copy = structuredClone(value) as Record<string, unknown>;
  const parts = keyPath.split(".");
  let node = copy;
  for (const part of parts.slice(0, -1)) {
    if (!node[part] || typeof node[part] !== "object") node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]] = key;
  return copy;
}
