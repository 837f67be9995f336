/**
 * One-typo tolerance for the words that matter (`vocabulary.ts`): "rejcet PO-1102", "dont cancle it",
 * "where is my shipmnet" read as if spelled right, by the rules and by the model. Whole words only;
 * a typed word is changed only when
 * - it is at least 4 letters and not itself a vocabulary word,
 * - it is not an English word that happens to be one edit from a vocabulary word ("older" is not
 *   "order", "define" is not "decline", "prize" is not "price": `englishNeighbours.ts`, derived from
 *   Debian's wamerican list, shipped so nothing reads a system file at run time), and
 * - exactly one vocabulary word is one edit away (insert, drop, replace, or swap two neighbours).
 */
import { distance } from 'fastest-levenshtein';
import { ENGLISH_NEIGHBOURS } from './englishNeighbours.js';
import { SHORT_WORDS, VOCABULARY } from './vocabulary.js';

const WORD = /\p{L}+(?:'\p{L}+)?/gu;
/** A word glued to a code by a hyphen ("ACME-7", "bin-A") is part of a name, not a typo. */
const GLUED = /^-[\p{L}\d]/u;

/** Damerau distance ≤ 1 (Levenshtein 1, or one swap of adjacent letters). */
export function oneEditApart(a: string, b: string): boolean {
  if (a === b || Math.abs(a.length - b.length) > 1) return false;
  if (a.length === b.length) {
    const diff: number[] = [];
    for (let i = 0; i < a.length && diff.length <= 2; i++) if (a[i] !== b[i]) diff.push(i);
    if (diff.length === 1) return true;
    return diff.length === 2 && diff[1] === diff[0]! + 1 && a[diff[0]!] === b[diff[1]!] && a[diff[1]!] === b[diff[0]!];
  }
  return distance(a, b) === 1;
}

const byLength = new Map<number, string[]>();
for (const w of [...VOCABULARY, ...SHORT_WORDS]) byLength.set(w.length, [...(byLength.get(w.length) ?? []), w]);
const KNOWN = new Set([...VOCABULARY, ...SHORT_WORDS]);

/** Chat repeats its words: answers for the last few thousand distinct words are kept. */
const seen = new Map<string, string | null>();
const SEEN_MAX = 5_000;

/** The vocabulary word a typed word is a typo of, if that is the one safe reading. */
export function correctionOf(word: string): string | undefined {
  const w = word.toLowerCase();
  if (w.length < 4 || KNOWN.has(w) || ENGLISH_NEIGHBOURS.has(w)) return undefined;
  const known = seen.get(w);
  if (known !== undefined) return known ?? undefined;
  const found = readingOf(w);
  if (seen.size >= SEEN_MAX) seen.clear();
  seen.set(w, found ?? null);
  return found;
}

function readingOf(w: string): string | undefined {
  let found: string | undefined;
  for (const len of [w.length - 1, w.length, w.length + 1]) {
    for (const v of byLength.get(len) ?? []) {
      if (!oneEditApart(w, v)) continue;
      if (found && found !== v) return undefined; // two readings: don't guess
      found = v;
    }
  }
  // A short word is too easily hit by accident to be the one reading ("hold" → "hole"?).
  return found && found.length >= 5 ? found : undefined;
}

export interface Corrected {
  text: string;
  /** Changed words, in order, with their spans in the original text. */
  edits: { start: number; end: number; from: string; to: string }[];
  /** An offset in `text` → the offset in the original. */
  toOriginal(offset: number): number;
}

/** The text with each vocabulary typo replaced by the word (lower case); everything else as typed. */
export function correctSpelling(text: string): Corrected {
  const edits: Corrected['edits'] = [];
  let out = '';
  let last = 0;
  for (const m of text.matchAll(WORD)) {
    const to = correctionOf(m[0]);
    const end = m.index + m[0].length;
    if (!to || GLUED.test(text.slice(end, end + 2)) || text[m.index - 1] === '-') continue;
    edits.push({ start: m.index, end, from: m[0], to });
    out += text.slice(last, m.index) + to;
    last = end;
  }
  out += text.slice(last);
  const toOriginal = (offset: number): number => {
    let shift = 0;
    for (const e of edits) {
      const newStart = e.start + shift;
      const newEnd = newStart + e.to.length;
      if (offset < newStart) break;
      if (offset <= newEnd) return offset === newEnd ? e.end : Math.min(e.start + (offset - newStart), e.end);
      shift += e.to.length - (e.end - e.start);
    }
    return offset - shift;
  };
  return { text: out, edits, toOriginal };
}
