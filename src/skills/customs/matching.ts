import { distance } from 'fastest-levenshtein';
import { countryName } from './countries.js';
import type { Shipment } from './declarations.js';

/**
 * Which shipment "the Shenzhen container" or "the Hong Kong air freight" means: the words of the
 * request against what we know of each shipment — where it left from (port, country), carrier,
 * supplier, destination, goods — and its transport mode ("container" → sea, "flight" → air).
 */

const MODE_WORDS: Record<string, string[]> = {
  sea: ['container', 'containers', 'vessel', 'ship', 'ocean', 'sea', 'boat', 'maritime', 'fcl', 'lcl'],
  air: ['air', 'flight', 'plane', 'airfreight', 'airplane', 'aircraft'],
  road: ['truck', 'lorry', 'road', 'trucking'],
  rail: ['train', 'rail', 'railway'],
  courier: ['courier', 'parcel', 'express'],
};

/** Words that say nothing about which shipment ("has the … cleared customs yet?"). */
const FILLER = new Set(
  (
    'a an the my our your their its this that these those of for from to in on at by with and or is are was were be been has have had do does did ' +
    'what whats what\'s where when which who how about any status state update news yet still already now clear clears cleared clearing clearance ' +
    'customs custom declaration declarations declare file filing entry shipment shipments consignment cargo goods freight load delivery it ' +
    'please pls check tell me us know go gone get got through pass passed release released arrive arrived stuck held hold import export ' +
    'inbound outbound one there s'
  ).split(' '),
);

export function descriptionWords(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/<[^>]*>/g, ' ')
    .split(/[^\p{L}\p{N}'-]+/u)
    .map((w) => w.replace(/^['-]+|['-]+$/g, ''))
    .filter((w) => w.length > 0 && !FILLER.has(w));
}

function modeOf(word: string): string | undefined {
  return Object.entries(MODE_WORDS).find(([, words]) => words.includes(word))?.[0];
}

/** The distinctive words of a shipment (all lower case). */
function shipmentWords(s: Shipment): Set<string> {
  const phrases = [
    s.originPort,
    s.originCountry ? countryName(s.originCountry) : null,
    s.carrier,
    s.supplier,
    s.warehouse,
    s.warehouseName,
    s.warehouseCity,
    ...s.lines.flatMap((l) => [l.productName, ...l.productAliases]),
  ];
  const words = new Set<string>();
  for (const p of phrases) for (const w of (p ?? '').toLowerCase().split(/[^\p{L}\p{N}-]+/u)) if (w.length >= 2) words.add(w);
  return words;
}

function wordMatches(word: string, known: Set<string>): boolean {
  if (known.has(word)) return true;
  if (word.length < 5) return false;
  for (const k of known) if (k.length >= 5 && distance(word, k) <= 1) return true;
  return false;
}

export type ShipmentMatch = { status: 'one'; shipment: Shipment } | { status: 'many'; shipments: Shipment[] } | { status: 'none' };

/** The shipment(s) a description fits best. A description must name something distinctive unless only its mode is given. */
export function matchShipments(shipments: readonly Shipment[], text: string): ShipmentMatch {
  const words = descriptionWords(text);
  if (words.length === 0) return { status: 'none' };
  const modeWords = words.filter((w) => modeOf(w));
  const otherWords = words.filter((w) => !modeOf(w));
  const scored = shipments.map((s) => {
    const known = shipmentWords(s);
    const distinctive = otherWords.filter((w) => wordMatches(w, known)).length;
    const mode = modeWords.filter((w) => modeOf(w) === s.mode).length;
    return { s, distinctive, score: 2 * distinctive + mode };
  });
  // "the Atlantis container": a distinctive word that fits no shipment means we don't know it.
  const best = Math.max(0, ...scored.map((x) => x.score));
  const top = scored.filter((x) => x.score === best && best > 0);
  if (top.length === 0) return { status: 'none' };
  if (otherWords.length > 0 && top[0]!.distinctive === 0) return { status: 'none' };
  if (top.length === 1) return { status: 'one', shipment: top[0]!.s };
  return { status: 'many', shipments: top.map((x) => x.s) };
}
