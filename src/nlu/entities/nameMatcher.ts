import { PRIORITY, type Candidate } from './candidate.js';
import type { MasterData } from './masterData.js';
import { UNIT_BY_SPELLING } from './units.js';

type NameType = 'supplier' | 'sku' | 'warehouse';

interface AliasEntry {
  type: NameType;
  value: string;
  norm: string;
  /** Letters/digits only (no spaces): what the edit budget is measured on. */
  compact: number;
  words: number;
  fuzzy: boolean;
  /** Written by a person (name/alias) rather than derived; wins a clash over a derived alias. */
  explicit: boolean;
}

/** Words too common to stand alone as a name ("main" in "the main issue"). */
const COMMON_WORDS = new Set([
  'main', 'central', 'north', 'south', 'east', 'west', 'general', 'global', 'prime', 'best', 'first', 'new',
  'old', 'home', 'office', 'site', 'store', 'depot', 'group', 'trading', 'traders', 'supply', 'supplies',
  'industries', 'industrial', 'company', 'corp', 'inc', 'ltd', 'international', 'steel', 'copy', 'euro',
  'order', 'orders', 'stock', 'goods', 'items', 'item', 'parts', 'part', 'box', 'boxes',
]);

const CORPORATE_SUFFIX = new Set([
  'corp', 'corporation', 'inc', 'incorporated', 'ltd', 'limited', 'llc', 'gmbh', 'co', 'company', 'plc', 'bv',
  'sa', 'ag', 'traders', 'trading', 'industries', 'group', 'supplies', 'supply',
]);

/** Never the first or last word of a name match. */
const STOPWORDS = new Set([
  'the', 'a', 'an', 'of', 'for', 'from', 'to', 'and', 'or', 'in', 'on', 'at', 'by', 'with', 'my', 'our',
  'your', 'this', 'that', 'these', 'those', 'some', 'any', 'please', 'pls', 'is', 'are', 'i', 'we', 'me',
]);

const WORD = /[\p{L}\p{N}]+(?:['’\-.&][\p{L}\p{N}]+)*/gu;

export function normalizeWord(w: string): string {
  return w
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]/gu, '');
}

function words(text: string): { norm: string; start: number; end: number }[] {
  const out: { norm: string; start: number; end: number }[] = [];
  for (const m of text.matchAll(WORD)) {
    // "Acme's" names Acme: the possessive is not part of the name (nor of the span).
    const word = m[0].replace(/['’]s$/i, '');
    const norm = normalizeWord(word);
    if (norm) out.push({ norm, start: m.index, end: m.index + word.length });
  }
  return out;
}

export function normalizeName(name: string): string {
  return words(name)
    .map((w) => w.norm)
    .join(' ');
}

/** Edits tolerated for an alias of `len` letters: short names must match exactly. */
export function maxEdits(len: number): number {
  return len < 6 ? 0 : len < 10 ? 1 : 2;
}

/**
 * Optimal-string-alignment distance: Levenshtein plus adjacent transpositions as one edit
 * ("Crop" for "Corp" is one slip of the fingers, not two).
 */
export function editDistance(a: string, b: string): number {
  const n = a.length;
  const m = b.length;
  if (n === 0) return m;
  if (m === 0) return n;
  let prev2 = new Array<number>(m + 1).fill(0);
  let prev = Array.from({ length: m + 1 }, (_, j) => j);
  let cur = new Array<number>(m + 1).fill(0);
  for (let i = 1; i <= n; i++) {
    cur[0] = i;
    for (let j = 1; j <= m; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, prev2[j - 2]! + 1);
      cur[j] = v;
    }
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[m]!;
}

const stripParens = (s: string): string => s.replace(/\([^)]*\)/g, ' ').replace(/\s+/g, ' ').trim();

/**
 * Finds supplier, product and warehouse names in text, tolerating small misspellings
 * ("Globx" → Globex, "nitrile glove" → SKU-1003). Values are canonical: supplier name, SKU, warehouse code.
 */
export class NameMatcher {
  private readonly exact = new Map<string, AliasEntry[]>();
  private readonly fuzzyEntries: AliasEntry[] = [];
  private readonly maxWords: number;

  constructor(data: MasterData) {
    const entries: AliasEntry[] = [];
    const add = (type: NameType, value: string, alias: string, explicit: boolean): void => {
      const norm = normalizeName(alias);
      if (norm.length < 2) return;
      if (!explicit && (norm.length < 3 || COMMON_WORDS.has(norm))) return;
      const compact = norm.replace(/ /g, '').length;
      entries.push({
        type,
        value,
        norm,
        compact,
        words: norm.split(' ').length,
        fuzzy: !/\d/.test(norm) && maxEdits(compact) > 0,
        explicit,
      });
    };

    const firstWords = new Map<string, number>();
    for (const s of data.suppliers) {
      const first = normalizeName(s.name).split(' ')[0] ?? '';
      firstWords.set(first, (firstWords.get(first) ?? 0) + 1);
    }
    for (const s of data.suppliers) {
      add('supplier', s.name, s.name, true);
      for (const a of s.aliases ?? []) add('supplier', s.name, a, true);
      const ws = normalizeName(s.name).split(' ');
      while (ws.length > 1 && CORPORATE_SUFFIX.has(ws[ws.length - 1]!)) ws.pop();
      add('supplier', s.name, ws.join(' '), false);
      const first = ws[0] ?? '';
      if (first.length >= 4 && firstWords.get(first) === 1) add('supplier', s.name, first, false);
    }

    const heads = new Map<string, number>();
    const headOf = (name: string): string => {
      const ws = normalizeName(stripParens(name))
        .split(' ')
        .filter((w) => !/\d/.test(w));
      return ws[ws.length - 1] ?? '';
    };
    for (const p of data.products) heads.set(headOf(p.name), (heads.get(headOf(p.name)) ?? 0) + 1);
    for (const p of data.products) {
      add('sku', p.sku, p.name, true);
      for (const a of p.aliases ?? []) add('sku', p.sku, a, true);
      const stripped = stripParens(p.name);
      add('sku', p.sku, stripped, false);
      add('sku', p.sku, stripped.replace(/\S*\d\S*/g, ' '), false);
      const head = headOf(p.name);
      if (head.length >= 5 && heads.get(head) === 1 && !UNIT_BY_SPELLING.has(head)) add('sku', p.sku, head, false);
    }

    for (const w of data.warehouses) {
      add('warehouse', w.code, w.code, true);
      if (!COMMON_WORDS.has(normalizeName(w.name))) add('warehouse', w.code, w.name, true);
      add('warehouse', w.code, `${w.code} ${w.name}`, true);
      add('warehouse', w.code, `${w.name} warehouse`, true);
      for (const a of w.aliases ?? []) add('warehouse', w.code, a, true);
    }

    // One spelling, two different things: keep the hand-written alias, else drop the spelling.
    const byNorm = new Map<string, AliasEntry[]>();
    for (const e of entries) byNorm.set(e.norm, [...(byNorm.get(e.norm) ?? []), e]);
    for (const [norm, list] of byNorm) {
      const explicit = list.filter((e) => e.explicit);
      const pool = explicit.length > 0 ? explicit : list;
      const targets = new Set(pool.map((e) => `${e.type}:${e.value}`));
      if (targets.size !== 1) continue;
      const entry = pool[0]!;
      this.exact.set(norm, [entry]);
      if (entry.fuzzy) this.fuzzyEntries.push(entry);
    }
    this.maxWords = Math.min(6, Math.max(1, ...[...this.exact.values()].map((l) => l[0]!.words)));
  }

  match(text: string): Candidate[] {
    const ws = words(text);
    const out: Candidate[] = [];
    for (let i = 0; i < ws.length; i++) {
      let norm = '';
      for (let n = 1; n <= this.maxWords && i + n - 1 < ws.length; n++) {
        const last = ws[i + n - 1]!;
        norm = n === 1 ? last.norm : `${norm} ${last.norm}`;
        const first = ws[i]!;
        const start = first.start;
        const end = last.end;
        const exact = this.exact.get(norm);
        if (exact) {
          for (const e of exact) out.push(this.candidate(text, e, start, end, 0));
          continue;
        }
        if (STOPWORDS.has(first.norm) || STOPWORDS.has(last.norm) || /\d/.test(norm)) continue;
        const compact = norm.length - (n - 1);
        let best: { e: AliasEntry; d: number } | undefined;
        for (const e of this.fuzzyEntries) {
          const budget = maxEdits(e.compact);
          if (Math.abs(e.compact - compact) > budget || e.norm[0] !== norm[0]) continue;
          const d = editDistance(e.norm, norm);
          if (d <= budget && (!best || d < best.d)) best = { e, d };
        }
        if (best) out.push(this.candidate(text, best.e, start, end, best.d));
      }
    }
    return out;
  }

  private candidate(text: string, e: AliasEntry, start: number, end: number, penalty: number): Candidate {
    return {
      entity: { type: e.type, value: e.value, text: text.slice(start, end), start, end },
      priority: PRIORITY.name,
      penalty,
    };
  }
}
