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
