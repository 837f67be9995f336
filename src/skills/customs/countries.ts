/**
 * Countries of origin: ISO 3166-1 alpha-2 codes and the names people write for them. A short list
 * of common trading countries, enough to read "from China" or "made in Vietnam"; an ISO code
 * ("origin CN") works for any country.
 */
const NAMES: Record<string, string[]> = {
  AR: ['Argentina'],
  AT: ['Austria'],
  AU: ['Australia'],
  BD: ['Bangladesh'],
  BE: ['Belgium'],
  BR: ['Brazil'],
  CA: ['Canada'],
  CH: ['Switzerland'],
  CL: ['Chile'],
  CN: ['China', "People's Republic of China", 'PRC'],
  CO: ['Colombia'],
  CZ: ['Czechia', 'Czech Republic'],
  DE: ['Germany'],
  DK: ['Denmark'],
  EG: ['Egypt'],
  ES: ['Spain'],
  ET: ['Ethiopia'],
  FI: ['Finland'],
  FR: ['France'],
  GB: ['United Kingdom', 'UK', 'Great Britain', 'Britain', 'England'],
  GR: ['Greece'],
  HK: ['Hong Kong'],
  HU: ['Hungary'],
  ID: ['Indonesia'],
  IE: ['Ireland'],
  IL: ['Israel'],
  IN: ['India'],
  IT: ['Italy'],
  JP: ['Japan'],
  KE: ['Kenya'],
  KH: ['Cambodia'],
  KR: ['South Korea', 'Korea'],
  MA: ['Morocco'],
  MX: ['Mexico'],
  MY: ['Malaysia'],
  NG: ['Nigeria'],
  NL: ['Netherlands', 'Holland'],
  NO: ['Norway'],
  NZ: ['New Zealand'],
  PE: ['Peru'],
  PH: ['Philippines'],
  PK: ['Pakistan'],
  PL: ['Poland'],
  PT: ['Portugal'],
  RO: ['Romania'],
  SA: ['Saudi Arabia'],
  SE: ['Sweden'],
  SG: ['Singapore'],
  TH: ['Thailand'],
  TR: ['Turkey', 'Türkiye', 'Turkiye'],
  TW: ['Taiwan'],
  UA: ['Ukraine'],
  US: ['United States', 'USA', 'United States of America', 'America'],
  VN: ['Vietnam', 'Viet Nam'],
  ZA: ['South Africa'],
};

const byName = new Map<string, string>();
for (const [code, names] of Object.entries(NAMES)) for (const name of names) byName.set(name.toLowerCase(), code);
/** Longest names first, so "South Korea" wins over "Korea". */
const NAME_LIST = [...byName.keys()].sort((a, b) => b.length - a.length);

/** "CN" → "China"; an unknown code stays a code. */
export function countryName(code: string | null | undefined): string {
  if (!code) return 'unknown';
  return NAMES[code.toUpperCase()]?.[0] ?? code.toUpperCase();
}

/** The country a name or ISO code stands for ("China", "cn", "Viet Nam"), if known. */
export function countryCode(written: string): string | undefined {
  const w = written.trim().replace(/^the\s+/i, '').toLowerCase();
  if (byName.has(w)) return byName.get(w);
  if (/^[a-z]{2}$/.test(w) && NAMES[w.toUpperCase()]) return w.toUpperCase();
  return undefined;
}

const ORIGIN_PHRASE = /\b(?:from|made in|produced in|manufactured in|grown in|origin(?:ating)?(?:\s+(?:in|from|of|is|:))?|country of origin(?:\s+is|:)?)\s+(?:the\s+)?/gi;

/** A country of origin named in a request ("… from China", "made in VN", "origin: DE"), with where it was written. */
export function originIn(text: string): { code: string; start: number; end: number } | undefined {
  for (const m of text.matchAll(ORIGIN_PHRASE)) {
    const after = text.slice(m.index + m[0].length);
    const lower = after.toLowerCase();
    const name = NAME_LIST.find((n) => lower.startsWith(n) && !/^[\p{L}]/u.test(after.slice(n.length)));
    if (name) return { code: byName.get(name)!, start: m.index, end: m.index + m[0].length + name.length };
    const iso = /^([A-Za-z]{2})(?![\p{L}])/u.exec(after);
    if (iso && NAMES[iso[1]!.toUpperCase()] && iso[1] === iso[1]!.toUpperCase()) {
      return { code: iso[1]!.toUpperCase(), start: m.index, end: m.index + m[0].length + 2 };
    }
  }
  return undefined;
}
