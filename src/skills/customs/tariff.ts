import { readFileSync } from 'node:fs';
import { distance } from 'fastest-levenshtein';
import { z } from 'zod';

/**
 * The tariff table shipped with the project (tariff.json, documented in README.md here): a
 * hand-compiled subset of HS 2022 six-digit subheadings with ILLUSTRATIVE duty rates. This module
 * looks codes up, checks them, and matches goods descriptions to subheadings by token scoring
 * (exact words, light plural folding, a typo or two via Levenshtein distance).
 */

const entrySchema = z.object({
  hs: z.string().regex(/^\d{6}$/),
  description: z.string().min(3),
  keywords: z.array(z.string().min(2)).min(1),
  rate: z.number().min(0).max(100),
});
const tableSchema = z.object({ source: z.string(), edition: z.string(), entries: z.array(entrySchema).min(1) });

export type TariffEntry = z.infer<typeof entrySchema>;

export interface TariffTable {
  edition: string;
  entries: readonly TariffEntry[];
  byCode: ReadonlyMap<string, TariffEntry>;
}

let table: TariffTable | undefined;

/** The shipped table (read and validated once). */
export function tariff(): TariffTable {
  if (!table) {
    const raw = tableSchema.parse(JSON.parse(readFileSync(new URL('./tariff.json', import.meta.url), 'utf8')));
    const byCode = new Map(raw.entries.map((e) => [e.hs, e]));
    if (byCode.size !== raw.entries.length) throw new Error('tariff.json lists a subheading twice');
    table = { edition: raw.edition, entries: raw.entries, byCode };
  }
  return table;
}

/** "848210" → "8482.10"; longer national codes keep their extra digits ("84821010" → "8482.10.10"). */
export function formatHs(code: string): string {
  if (!/^\d{6,10}$/.test(code)) return code;
  const rest = code.slice(6);
  return `${code.slice(0, 4)}.${code.slice(4, 6)}${rest ? `.${rest}` : ''}`;
}

/** Digits of an HS code as written ("8504.40", "8504 40 90", "850440") or undefined. */
export function parseHsCode(text: string): string | undefined {
  const m = /(?<![\d.])(\d{4})[ .]?(\d{2})(?:[ .]?(\d{2,4}))?(?![\d.]*\d)/.exec(text);
  return m ? `${m[1]}${m[2]}${m[3] ?? ''}` : undefined;
}

export type HsCheck =
  | { status: 'known'; entry: TariffEntry }
  /** Well formed, but not a subheading this table knows (it is a subset): cannot be checked. */
  | { status: 'unknown' }
  | { status: 'invalid'; reason: string };

/** Whether a code can stand on a declaration, as far as this table can tell. */
export function checkHsCode(code: string | null | undefined): HsCheck {
  if (!code) return { status: 'invalid', reason: 'no HS code' };
  if (!/^\d{6,10}$/.test(code)) return { status: 'invalid', reason: `${code} is not an HS code (6 to 10 digits)` };
  const chapter = Number(code.slice(0, 2));
  if (chapter < 1 || chapter > 97) return { status: 'invalid', reason: `${formatHs(code)} is not an HS code: chapters run from 01 to 97` };
  if (chapter === 77) return { status: 'invalid', reason: `${formatHs(code)} is not a valid HS code: chapter 77 is reserved` };
  const entry = tariff().byCode.get(code.slice(0, 6));
  return entry ? { status: 'known', entry } : { status: 'unknown' };
}

/** Duty = value × ad valorem rate, rounded to cents. */
export function dutyOf(value: number, ratePercent: number): number {
  return Math.round(value * ratePercent) / 100;
}

// ------------------------------------------------------------------------------------ matching

const STOPWORDS = new Set([
  'a', 'an', 'the', 'of', 'for', 'and', 'or', 'with', 'in', 'on', 'to', 'by', 'other', 'than', 'kind', 'used', 'some', 'my', 'our',
  'these', 'those', 'this', 'that', 'etc', 'nes', 'n', 'e', 's', 'incl', 'not', 'more', 'less', 'or',
]);

/** "Li-ion battery packs" → ["li", "ion", "battery", "pack"]. */
export function tokens(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/<[^>]*>/g, ' ')
    .split(/[^\p{L}\p{N}]+/u)
    .filter((t) => t.length > 0 && !STOPWORDS.has(t))
    .map(singular);
}

function singular(word: string): string {
  if (word.length <= 3 || /\d/.test(word)) return word;
  if (word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (/(xes|ches|shes|sses)$/.test(word)) return word.slice(0, -2);
  if (word.endsWith('s') && !/(ss|us|is)$/.test(word)) return word.slice(0, -1);
  return word;
}

/** How alike two words are: 1 the same, 0.85 a typo away, 0 otherwise. */
function wordSimilarity(a: string, b: string): number {
  if (a === b) return 1;
  const shorter = Math.min(a.length, b.length);
  if (shorter < 4) return 0;
  const budget = shorter >= 8 ? 2 : 1;
  return distance(a, b) <= budget ? 0.85 : 0;
}

/** Score of a phrase for a query: mostly how much of the query it explains, a little how much of it is explained. */
function phraseScore(query: readonly string[], phrase: readonly string[]): number {
  if (query.length === 0 || phrase.length === 0) return 0;
  if (query.join(' ') === phrase.join(' ')) return 1;
  let explained = 0;
  for (const q of query) explained += Math.max(0, ...phrase.map((p) => wordSimilarity(q, p)));
  const covered = phrase.filter((p) => query.some((q) => wordSimilarity(q, p) > 0)).length;
  // English compounds end in their head noun: "batteries" is closer to "AA batteries" than to "battery chargers".
  const head = wordSimilarity(query[query.length - 1]!, phrase[phrase.length - 1]!) > 0 ? 0.03 : 0;
  return Math.min(0.99, 0.75 * (explained / query.length) + 0.25 * (covered / phrase.length) + head);
}

export interface TariffMatch {
  entry: TariffEntry;
  /** 0..1; 1 = a keyword said exactly. */
  score: number;
  /** The keyword or description that matched best. */
  matched: string;
}

export type Classification =
  | { status: 'confident'; best: TariffMatch; alternatives: TariffMatch[] }
  | { status: 'unsure'; candidates: TariffMatch[] }
  | { status: 'none' };

/** The longest description worth matching (longer text is cut here). */
export const MAX_DESCRIPTION_TOKENS = 12;
const MIN_SCORE = 0.45;

/** Every subheading scored against a goods description, best first. */
export function rankSubheadings(description: string): TariffMatch[] {
  const query = tokens(description).slice(0, MAX_DESCRIPTION_TOKENS);
  if (query.length === 0) return [];
  const out: TariffMatch[] = [];
  for (const entry of tariff().entries) {
    let best: TariffMatch = { entry, score: 0, matched: '' };
    const scores: number[] = [];
    for (const keyword of entry.keywords) {
      const score = phraseScore(query, tokens(keyword));
      scores.push(score);
      if (score > best.score) best = { entry, score, matched: keyword };
    }
    const described = 0.9 * phraseScore(query, tokens(entry.description));
    if (described > best.score) best = { entry, score: described, matched: entry.description };
    if (best.score <= 0) continue;
    // Among equals, the subheading several of whose keywords fit is the more central one.
    const alsoFit = scores.filter((s) => s > 0 && best.score - s < 0.05).length - 1;
    if (best.score < 1) best.score = Math.min(0.99, best.score + 0.005 * Math.min(Math.max(alsoFit, 0), 3));
    out.push(best);
  }
  return out.sort((a, b) => b.score - a.score || a.entry.hs.localeCompare(b.entry.hs));
}

/**
 * The subheading for a description: confident when a keyword matches exactly (or nearly) and
 * clearly beats the next subheading; otherwise the closest few, or none.
 */
export function classify(description: string): Classification {
  const ranked = rankSubheadings(description).filter((m) => m.score >= MIN_SCORE);
  const [top, second] = ranked;
  if (!top) return { status: 'none' };
  const margin = top.score - (second?.score ?? 0);
  if ((top.score >= 0.95 && margin > 0.02) || (top.score >= 0.8 && margin >= 0.15)) {
    return { status: 'confident', best: top, alternatives: ranked.slice(1, 3).filter((m) => m.score >= 0.75) };
  }
  return { status: 'unsure', candidates: ranked.slice(0, 3) };
}
