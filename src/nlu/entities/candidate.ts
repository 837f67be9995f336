import type { Entity } from '../types.js';

/**
 * A possible entity before overlaps are resolved. Higher `priority` wins an overlap; at equal
 * priority the longer span wins, then the lower `penalty` (e.g. edit distance of a fuzzy match).
 */
export interface Candidate {
  entity: Entity;
  priority: number;
  penalty?: number;
}

/** Priorities: explicit ids beat everything; bare numbers are only kept when something confirms them. */
export const PRIORITY = {
  id: 100,
  money: 90,
  quantity: 80,
  name: 70,
  moneyWord: 65,
  date: 60,
} as const;

export function makeEntity(text: string, start: number, end: number, type: Entity['type'], value: Entity['value']): Entity {
  return { type, value, text: text.slice(start, end), start, end };
}

export function overlaps(a: { start: number; end: number }, b: { start: number; end: number }): boolean {
  return a.start < b.end && b.start < a.end;
}

/** Greedy best-first selection of non-overlapping candidates; result sorted by position. */
export function resolveOverlaps(candidates: readonly Candidate[]): Entity[] {
  const sorted = [...candidates].sort(
    (a, b) =>
      b.priority - a.priority ||
      b.entity.end - b.entity.start - (a.entity.end - a.entity.start) ||
      (a.penalty ?? 0) - (b.penalty ?? 0) ||
      a.entity.start - b.entity.start,
  );
  const chosen: Entity[] = [];
  for (const c of sorted) {
    if (c.entity.end <= c.entity.start) continue;
    if (chosen.some((e) => overlaps(e, c.entity))) continue;
    chosen.push(c.entity);
  }
  return chosen.sort((a, b) => a.start - b.start);
}

/** Lookbehind/lookahead fragments: not glued to a letter or digit. */
export const B_START = '(?<![\\p{L}\\p{N}])';
export const B_END = '(?![\\p{L}\\p{N}])';
