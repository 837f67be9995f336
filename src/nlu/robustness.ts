/**
 * Text transformations for `nlu eval --robustness`: the same rows in the casing, typos and entity
 * values real chat has, so a score on clean text can be compared with one on what users type.
 * Deterministic (seeded), so two runs compare like with like.
 */

import { seededRandom } from '../util/seededRandom.js';

export type Transform = (text: string, rowIndex: number) => string;

/** Ids ("SKU-1001", "PO-1203", "WH-A", "sh 2001") keep their spelling in case and typo variants. */
const ID = /\b(?:SKU|PO|SH|CD|WH)[- ]?(?:\d+|(?<=WH-?)[A-Z])\b/gi;

/** Applies `f` to the text between ids, leaving the ids as written. */
function outsideIds(text: string, f: (part: string) => string): string {
  let out = '';
  let last = 0;
  for (const m of text.matchAll(ID)) {
    out += f(text.slice(last, m.index)) + m[0];
    last = m.index + m[0].length;
  }
  return out + f(text.slice(last));
}

export const upper: Transform = (t) => outsideIds(t, (s) => s.toUpperCase());
export const lower: Transform = (t) => outsideIds(t, (s) => s.toLowerCase());
/** Every word capitalised, the rest lower case ("Show Me PO-1203"). */
export const title: Transform = (t) =>
  outsideIds(t, (s) => s.toLowerCase().replace(/(^|[^\p{L}'])(\p{L})/gu, (_, pre: string, c: string) => pre + c.toUpperCase()));

/**
 * One typo in one word of ≥ 4 letters (not an id or a number): swap, drop, double or replace a
 * letter, as a hurried typist does. Rows without such a word are returned unchanged.
 */
export const typo: Transform = (text, row) => {
  const rand = seededRandom(0x7e57 + row * 7919);
  const ids = [...text.matchAll(ID)].map((m) => [m.index, m.index + m[0].length] as const);
  const words = [...text.matchAll(/\p{L}{4,}/gu)].filter((m) => !ids.some(([s, e]) => m.index < e && m.index + m[0].length > s));
  if (words.length === 0) return text;
  const w = words[Math.floor(rand() * words.length)]!;
  const chars = [...w[0]];
  const i = 1 + Math.floor(rand() * (chars.length - 2));
  const op = Math.floor(rand() * 4);
  if (op === 0) [chars[i], chars[i + 1]] = [chars[i + 1]!, chars[i]!];
  else if (op === 1) chars.splice(i, 1);
  else if (op === 2) chars.splice(i, 0, chars[i]!);
  else chars[i] = 'qwertyuiopasdfghjklzxcvbnm'[Math.floor(rand() * 26)]!;
  return text.slice(0, w.index) + chars.join('') + text.slice(w.index + w[0].length);
};

/**
 * Other values for the same entities: every number (quantities, id digits, prices) becomes another
 * number with the same count of digits ("order 300" → "order 301"; "PO-1203" → "PO-1847"). Dates
 * like "15/07" and decimals keep their shape.
 */
export const entitySwap: Transform = (text, row) => {
  const rand = seededRandom(0x5a17 + row * 104729);
  return text.replace(/\d+/g, (digits) => {
    let out = '';
    for (let i = 0; i < digits.length; i++) {
      const first = i === 0 && digits.length > 1;
      out += String(first ? 1 + Math.floor(rand() * 9) : Math.floor(rand() * 10));
    }
    return out === digits && digits.length > 0 ? String((Number(digits) + 1) % 10 ** digits.length).padStart(digits.length, '1') : out;
  });
};

export const ROBUSTNESS_TRANSFORMS: Readonly<Record<string, Transform>> = {
  upper,
  title,
  lower,
  typo,
  entity_swap: entitySwap,
};
