/**
 * Typo correction of the words the model learned: "rejcet PO-1102", "dont cancle it", "moev the
 * battery packs", "hs cdoe gloves" read as if spelled right, by the rules and by the model (nlu2 for
 * the cue words, nlu5 for every word of the training split). Whole words only; a typed word is changed
 * only when
 * - it is at least 4 letters (3 for a dropped letter of a short command word, "hlp", "fle", "jbs", or
 *   two letters swapped, "bto"),
 * - it is neither a target nor a known word (`spellingLexicon.ts`: English words, "older" is not
 *   "order", "border" is not "order"; the training split's own words; "theyre", "dont"; a name typed
 *   with its capital, "Oder", but not "oder"), and
 * - one target one edit away (insert, drop, replace, or swap two neighbours) is the likeliest reading
 *   by three to one: each target's weight is its count in the training split times how likely the
 *   slip is (a dropped letter, two letters swapped or a doubled one: 1; a neighbouring key: 0.3;
 *   any other letter: 0.05), so "josb" is "jobs" (not "job"), "stok" "stock" (not "stop"),
 *   "pleace" "please" (not "peace"), and "jast" (last? just?) stays as typed.
 */
import { isShouting } from '../normalize.js';
import { KNOWN, NAMES, TARGETS } from './spellingLexicon.js';

const WORD = /\p{L}+(?:'\p{L}+)?/gu;
/** A word glued to a code by a hyphen ("ACME-7", "bin-A") is part of a name, not a typo. */
const GLUED = /^-[\p{L}\d]/u;
/** …unless what is glued before it is a word's prefix ("re-fdle", "pre-ordr"). */
const PREFIXED = /(?:^|[^\p{L}\d])(?:re|pre|co|un|non)-$/iu;
const LETTERS = "abcdefghijklmnopqrstuvwxyz'";
/** Targets a 3-letter word may be (a letter dropped from a short command). */
const SHORT_COMMANDS = new Set(['file', 'help', 'jobs', 'move', 'ship', 'list', 'show']);
/** The likeliest reading must be this many times as likely as the next. */
const DOMINANCE = 3;

/** Every string one edit (insert, drop, replace, adjacent swap) from `w`. */
export function editsOf(w: string): Set<string> {
  const out = new Set<string>();
  for (let i = 0; i <= w.length; i++) {
    const a = w.slice(0, i);
    const b = w.slice(i);
    if (b) out.add(a + b.slice(1));
    if (b.length > 1) out.add(a + b[1] + b[0] + b.slice(2));
    for (const ch of LETTERS) {
      if (b) out.add(a + ch + b.slice(1));
      out.add(a + ch + b);
    }
  }
  out.delete(w);
  return out;
}

const ROWS = ['qwertyuiop', 'asdfghjkl', 'zxcvbnm'];
/** How far each row of keys is shifted right of the one above ("a" sits under "q"/"w", "z" under "s"/"x"). */
const STAGGER = [0, 0.25, 0.75];
const KEY = new Map<string, [number, number]>();
ROWS.forEach((row, r) => [...row].forEach((ch, c) => KEY.set(ch, [r, c + STAGGER[r]!])));
/** Neighbouring keys on a QWERTY keyboard ("r" and "e", "d" and "c"; not "d" and "v"). */
export function adjacentKeys(a: string, b: string): boolean {
  const p = KEY.get(a);
  const q = KEY.get(b);
  if (!p || !q || a === b) return false;
  const dx = Math.abs(p[1] - q[1]);
  return p[0] === q[0] ? dx === 1 : Math.abs(p[0] - q[0]) === 1 && dx < 1;
}

/**
 * How likely a slip turns `target` into `typed` (one edit apart): 1 for a dropped letter, two letters
 * swapped or a letter doubled; 0.3 for a neighbouring key (typed instead, or as well); 0.05 otherwise.
 */
export function slipLikelihood(typed: string, target: string): number {
  if (typed.length < target.length) return 1;
  if (typed.length === target.length) {
    const i = [...typed].findIndex((ch, k) => ch !== target[k]);
    if (typed[i + 1] !== target[i + 1]) return 1; // two letters swapped
    return adjacentKeys(typed[i]!, target[i]!) ? NEAR_KEY : OTHER_KEY;
  }
  let best = OTHER_KEY;
  for (let i = 0; i < typed.length; i++) {
    if (typed.slice(0, i) + typed.slice(i + 1) !== target) continue;
    const ch = typed[i]!;
    const near = [typed[i - 1], typed[i + 1]].filter((x): x is string => x !== undefined);
    if (near.includes(ch)) return 1;
    if (near.some((x) => adjacentKeys(x, ch))) best = NEAR_KEY;
  }
  return best;
}
const NEAR_KEY = 0.3;
const OTHER_KEY = 0.05;

/** Chat repeats its words: answers for the last few thousand distinct words are kept. */
const seen = new Map<string, string | null>();
const SEEN_MAX = 5_000;

/** The word the model learned that a typed word is a typo of, if that is the one likely reading. */
export function correctionOf(word: string, shouted = false): string | undefined {
  const w = word.toLowerCase();
  if (w.length < 3 || TARGETS.has(w) || KNOWN.has(w)) return undefined;
  // A name ("Oder", "Donne") typed as one; in lower case, ALL CAPS, or a message in Title Case
  // (`shouted`: every word capitalised says nothing) "oder" is a typo of "order".
  if (NAMES.has(w) && !shouted && word[0] !== w[0] && word.slice(1) === w.slice(1)) return undefined;
  const known = seen.get(w);
  if (known !== undefined) return known ?? undefined;
  const found = readingOf(w);
  if (seen.size >= SEEN_MAX) seen.clear();
  seen.set(w, found ?? null);
  return found;
}

function readingOf(w: string): string | undefined {
  let options = [...editsOf(w)].filter((e) => TARGETS.has(e));
  // A 3-letter word: a letter dropped from a short command ("hlp") or two letters swapped ("bto", "teh").
  if (w.length === 3) options = options.filter((t) => (SHORT_COMMANDS.has(t) && t.length === 4) || (t.length === 3 && slipLikelihood(w, t) === 1));
  const ranked = options.map((t) => ({ t, weight: TARGETS.get(t)! * slipLikelihood(w, t) })).sort((a, b) => b.weight - a.weight);
  if (ranked.length === 0 || (ranked.length > 1 && ranked[0]!.weight < DOMINANCE * ranked[1]!.weight)) return undefined;
  return ranked[0]!.t;
}

export interface Corrected {
  text: string;
  /** Changed words, in order, with their spans in the original text. */
  edits: { start: number; end: number; from: string; to: string }[];
  /** An offset in `text` → the offset in the original. */
  toOriginal(offset: number): number;
}

/** The text with each typo of a learned word replaced by the word (lower case); everything else as typed. */
export function correctSpelling(text: string): Corrected {
  const edits: Corrected['edits'] = [];
  const shouted = isShouting(text);
  for (const m of text.matchAll(WORD)) {
    const to = correctionOf(m[0], shouted);
    const end = m.index + m[0].length;
    if (!to || GLUED.test(text.slice(end, end + 2)) || (text[m.index - 1] === '-' && !PREFIXED.test(text.slice(Math.max(0, m.index - 5), m.index)))) continue;
    edits.push({ start: m.index, end, from: m[0], to });
  }
  return applied(text, edits);
}

/**
 * The corrections without those to a word of a name (`names`: "Acma" → "acme"): for the entities,
 * whose name matcher asks "did you mean Acme Corp?" about a misspelt name rather than guess it (the
 * model still reads the corrected name). No new spelling pass: the same edits, fewer of them.
 */
export function withoutNames(text: string, c: Corrected, names: ReadonlySet<string>): Corrected {
  const edits = c.edits.filter((e) => !names.has(e.to));
  return edits.length === c.edits.length ? c : applied(text, edits);
}

function applied(text: string, edits: Corrected['edits']): Corrected {
  let out = '';
  let last = 0;
  for (const e of edits) {
    out += text.slice(last, e.start) + e.to;
    last = e.end;
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
