/** Units of count/measure an operations message uses, each spelling → canonical singular unit. */
const UNIT_SPELLINGS: Record<string, readonly string[]> = {
  unit: ['units', 'unit'],
  piece: ['pieces', 'piece', 'pcs', 'pc', 'pce', 'pces'],
  each: ['each', 'ea'],
  box: ['boxes', 'box', 'bx'],
  pallet: ['pallets', 'pallet', 'plts', 'plt'],
  case: ['cases', 'case', 'cs'],
  carton: ['cartons', 'carton', 'ctns', 'ctn'],
  pack: ['packs', 'pack', 'pk', 'pkts', 'packets', 'packet'],
  roll: ['rolls', 'roll'],
  crate: ['crates', 'crate'],
  set: ['sets', 'set'],
  bundle: ['bundles', 'bundle'],
  bag: ['bags', 'bag', 'sacks', 'sack'],
  drum: ['drums', 'drum'],
  pair: ['pairs', 'pair', 'prs'],
  dozen: ['dozens', 'dozen', 'doz'],
  container: ['containers', 'container'],
  bottle: ['bottles', 'bottle'],
  can: ['cans', 'tins'],
  reel: ['reels', 'reel'],
  sheet: ['sheets', 'sheet'],
  kg: ['kilograms', 'kilogram', 'kilos', 'kilo', 'kgs', 'kg'],
  g: ['grams', 'gram'],
  t: ['tonnes', 'tonne', 'tons', 'ton', 'mt'],
  lb: ['pounds', 'pound', 'lbs', 'lb'],
  l: ['litres', 'litre', 'liters', 'liter', 'ltrs', 'ltr'],
  m: ['metres', 'metre', 'meters', 'meter'],
};

export const UNIT_BY_SPELLING: ReadonlyMap<string, string> = new Map(
  Object.entries(UNIT_SPELLINGS).flatMap(([unit, spellings]) => spellings.map((s) => [s, unit] as const)),
);

/** Alternation of all spellings, longest first, for use inside a RegExp (case-insensitive). */
export const UNIT_ALTERNATION = [...UNIT_BY_SPELLING.keys()]
  .sort((a, b) => b.length - a.length)
  .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
  .join('|');

export function canonicalUnit(spelling: string): string | undefined {
  return UNIT_BY_SPELLING.get(spelling.toLowerCase());
}
