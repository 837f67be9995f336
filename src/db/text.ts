const NUL = '\u0000';
/** A high surrogate not followed by a low one, or a low surrogate not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Makes a string storable in Postgres `text` and `jsonb`: NUL characters are removed (Postgres
 * rejects U+0000 in both) and lone UTF-16 surrogates become U+FFFD (jsonb rejects `\ud800`
 * escapes, and text would get a replacement character from the UTF-8 encoder anyway).
 */
export function cleanText(value: string): string {
  const noNul = value.includes(NUL) ? value.replaceAll(NUL, '') : value;
  return noNul.replace(LONE_SURROGATE, '\uFFFD');
}

/** JSON.stringify replacer applying cleanText to every string value and object key. */
export function storableJson(_key: string, value: unknown): unknown {
  if (typeof value === 'string') return cleanText(value);
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const keys = Object.keys(value);
    if (keys.some((k) => cleanText(k) !== k)) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [cleanText(k), v] as const));
    }
  }
  return value;
}

/**
 * How JSON.stringify writes what `cleanText` would change: a NUL character as `\u0000`, a lone
 * surrogate as `\ud800`–`\udfff` (well-formed JSON.stringify escapes both; paired surrogates and
 * every other character come out as themselves). A match may also be an escaped backslash followed
 * by such text — then the slow path runs for nothing, which is only slower.
 */
const CLEANABLE_ESCAPE = /\\u(?:0000|d[89a-f])/i;

/**
 * `JSON.stringify(value, storableJson)`, the same string, without calling the replacer on every key
 * and value when nothing needs cleaning (the usual case): a plain stringify, checked for what the
 * replacer would change, and the replacer only if something would. One difference: an object key
 * that needs cleaning whose value JSON leaves out (undefined, a function) is left out here, while
 * the replacer rebuilds that object with the key cleaned — which can reorder its keys or replace a
 * real key of the same cleaned name (`{a: 1, 'a\u0000': undefined}` → `{}`).
 */
export function storableJsonString(value: unknown): string {
  const plain = JSON.stringify(value);
  return plain !== undefined && CLEANABLE_ESCAPE.test(plain) ? JSON.stringify(value, storableJson) : plain;
}
