import { resolveOverlaps, overlaps, makeEntity } from './candidate.js';
import { extractDates } from './dateExtractor.js';
import { DEMO_MASTER_DATA } from './demoMasterData.js';
import { extractIds } from './idExtractor.js';
import type { MasterData } from './masterData.js';
import { extractMoney } from './moneyExtractor.js';
import { NameMatcher } from './nameMatcher.js';
import { extractQuantities } from './quantityExtractor.js';
import type { Entity } from '../types.js';

export interface EntityExtractorOptions {
  /** Names to recognize; default: the demo master data. */
  masterData?: MasterData;
  /** Reference time for relative dates ("tomorrow"); default: the current time. */
  now?: () => Date;
}

/**
 * Between a bare number and the product it counts: "40 battery packs", "300 of the gloves",
 * "1000 x bearings", "200 more bearings", "50 extra of the gloves".
 */
const NUMBER_TO_PRODUCT = /^\s*(?:x\s*)?(?:(?:more|additional|extra|new|spare|further)\s+)?(?:of\s+)?(?:the\s+|our\s+|those\s+|these\s+)?$/i;

/**
 * Runs every extractor and keeps a consistent, non-overlapping set: an id beats a number inside it
 * ("PO-500" is not a quantity), a product name beats a currency word ("50 euro pallets"), etc.
 */
export class EntityExtractor {
  private names: NameMatcher;
  private words: ReadonlySet<string>;
  private readonly now: () => Date;

  constructor(options: EntityExtractorOptions = {}) {
    const data = options.masterData ?? DEMO_MASTER_DATA;
    this.names = new NameMatcher(data);
    this.words = wordsOf(data);
    this.now = options.now ?? (() => new Date());
  }

  /** Swaps the reference data (e.g. after the database reloads it). */
  setMasterData(data: MasterData): void {
    this.names = new NameMatcher(data);
    this.words = wordsOf(data);
  }

  /** The lower-case words of every supplier, product and warehouse name and alias ("acme", "gloves", "dallas"). */
  nameWords(): ReadonlySet<string> {
    return this.words;
  }

  extract(text: string): Entity[] {
    if (text.trim() === '') return [];
    const quantities = extractQuantities(text);
    const chosen = resolveOverlaps([
      ...extractIds(text),
      ...extractMoney(text),
      ...quantities.candidates,
      ...this.names.match(text),
      ...extractDates(text, this.now()),
    ]);

    // Bare numbers count something only when a product follows; "20k" alone is an amount of money.
    const extra: Entity[] = [];
    for (const b of quantities.bare) {
      if (chosen.some((e) => overlaps(e, b)) || extra.some((e) => overlaps(e, b))) continue;
      const product = chosen.find(
        (e) => e.type === 'sku' && e.start >= b.end && NUMBER_TO_PRODUCT.test(text.slice(b.end, e.start)),
      );
      if (product) extra.push(makeEntity(text, b.start, b.end, 'quantity', { amount: b.amount, unit: null }));
      else if (b.scaled) extra.push(makeEntity(text, b.start, b.end, 'money', { amount: b.amount, currency: null }));
    }
    return mergeAdjacent([...chosen, ...extra].sort((a, b) => a.start - b.start), text);
  }
}

/** "WH-B Dallas" → one warehouse entity, not two. */
function mergeAdjacent(entities: Entity[], text: string): Entity[] {
  const out: Entity[] = [];
  for (const e of entities) {
    const prev = out[out.length - 1];
    if (
      prev &&
      prev.type === e.type &&
      typeof prev.value === 'string' &&
      prev.value === e.value &&
      /^\s*$/.test(text.slice(prev.end, e.start))
    ) {
      out[out.length - 1] = makeEntity(text, prev.start, e.end, e.type, e.value);
    } else out.push(e);
  }
  return out;
}

function wordsOf(data: MasterData): ReadonlySet<string> {
  const names = [
    ...data.suppliers.flatMap((x) => [x.name, ...(x.aliases ?? [])]),
    ...data.products.flatMap((x) => [x.name, ...(x.aliases ?? [])]),
    ...data.warehouses.flatMap((x) => [x.name, ...(x.aliases ?? [])]),
  ];
  return new Set(names.flatMap((n) => n.toLowerCase().match(/\p{L}+/gu) ?? []));
}
