/**
 * The customs skill's pure parts: the shipped tariff table (valid, covering the demo catalog),
 * classification and HS-code checks, origins, shipment descriptions, the slot extractors and the
 * simulated customs authority's rules.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { customsSkill } from '../../../src/skills/customs/index.js';
import { skillTools } from '../../../src/skills/tools.js';
import { SkillRegistry } from '../../../src/skills/registry.js';
import { DEMO_PRODUCTS } from '../../../src/skills/data/seed.js';
import { countryCode, countryName, originIn } from '../../../src/skills/customs/countries.js';
import type { Shipment } from '../../../src/skills/customs/declarations.js';
import { extractClassifyGoods, extractDeclarationStatus, extractFileDeclaration } from '../../../src/skills/customs/extract.js';
import { matchShipments } from '../../../src/skills/customs/matching.js';
import { customsDecision, playCustomsAuthority, DEFAULT_CUSTOMS_RULES } from '../../../src/skills/customs/simulator.js';
import { checkHsCode, classify, dutyOf, formatHs, parseHsCode, tariff } from '../../../src/skills/customs/tariff.js';
import type { SkillEntity } from '../../../src/skills/types.js';

describe('the tariff table', () => {
  const table = tariff();

  it('is a valid HS 2022 subset: six-digit codes, chapters 01–97 but 77, each once, rates 0–100 %', () => {
    expect(table.edition).toBe('HS 2022');
    expect(table.entries.length).toBeGreaterThanOrEqual(100);
    for (const e of table.entries) {
      expect(e.hs).toMatch(/^\d{6}$/);
      const chapter = Number(e.hs.slice(0, 2));
      expect(chapter).toBeGreaterThanOrEqual(1);
      expect(chapter).toBeLessThanOrEqual(97);
      expect(chapter).not.toBe(77);
      expect(e.rate).toBeGreaterThanOrEqual(0);
      expect(e.rate).toBeLessThanOrEqual(100);
    }
    expect(new Set(table.entries.map((e) => e.hs)).size).toBe(table.entries.length);
  });

  it('classifies every demo product under the code the product master gives it', () => {
    for (const p of DEMO_PRODUCTS) {
      const c = classify(p.name);
      expect(c.status, p.name).toBe('confident');
      if (c.status === 'confident') expect(c.best.entry.hs, p.name).toBe(p.hsCode);
    }
  });

  it('covers most of the training catalog’s product names with a confident match', () => {
    const catalog = JSON.parse(readFileSync(new URL('../../../training/data/catalog.json', import.meta.url), 'utf8')) as { product: string[] };
    const confident = catalog.product.filter((name) => classify(name).status === 'confident');
    expect(confident.length / catalog.product.length).toBeGreaterThan(0.9);
  });
});

describe('classification', () => {
  it.each([
    ['nitrile gloves', '401519'],
    ['lithium-ion battery packs', '850760'],
    ['Li-ion batteries', '850760'],
    ['office chairs', '940139'],
    ['solar inverters', '850440'],
    ['cardbord boxes', '481910'], // a typo
    ['M8 hex bolts', '731815'],
  ])('"%s" → %s (confident)', (text, hs) => {
    const c = classify(text);
    expect(c.status).toBe('confident');
    if (c.status === 'confident') expect(c.best.entry.hs).toBe(hs);
  });

  it('is unsure about a bare "gloves", "tyres" or "batteries" and lists the closest few', () => {
    for (const [text, expected] of [
      ['gloves', ['401512', '401519']],
      ['tyres', ['401110', '401180', '401290']],
      ['batteries', ['850760', '850610']],
    ] as const) {
      const c = classify(text);
      expect(c.status, text).toBe('unsure');
      if (c.status === 'unsure') {
        expect(c.candidates.length).toBeLessThanOrEqual(3);
        for (const hs of expected) expect(c.candidates.map((m) => m.entry.hs), text).toContain(hs);
      }
    }
  });

  it('finds nothing for words it does not know, and ignores markup', () => {
    expect(classify('widgets').status).toBe('none');
    expect(classify('<script>alert(1)</script>').status).toBe('none');
    expect(classify('').status).toBe('none');
  });

  it('mentions a close alternative when there is one', () => {
    const c = classify('coffee beans');
    expect(c.status).toBe('confident');
    if (c.status === 'confident') {
      expect(c.best.entry.hs).toBe('090111');
      expect(c.alternatives.map((a) => a.entry.hs)).toContain('090121');
    }
  });
});

describe('HS codes', () => {
  it('are read as written and formatted with dots', () => {
    expect(parseHsCode('8504.40')).toBe('850440');
    expect(parseHsCode('use 8504 40 90 please')).toBe('85044090');
    expect(parseHsCode('850440')).toBe('850440');
    expect(parseHsCode('12345')).toBeUndefined();
    expect(parseHsCode('85044012345')).toBeUndefined();
    expect(formatHs('848210')).toBe('8482.10');
    expect(formatHs('84821010')).toBe('8482.10.10');
  });

  it('are checked: known, unknown to the table, or invalid', () => {
    expect(checkHsCode('848210')).toMatchObject({ status: 'known', entry: { hs: '848210' } });
    expect(checkHsCode('84821090')).toMatchObject({ status: 'known' });
    expect(checkHsCode('010121')).toEqual({ status: 'unknown' });
    expect(checkHsCode('770000')).toEqual({ status: 'invalid', reason: '7700.00 is not a valid HS code: chapter 77 is reserved' });
    expect(checkHsCode('990000')).toMatchObject({ status: 'invalid' });
    expect(checkHsCode('12AB')).toMatchObject({ status: 'invalid' });
    expect(checkHsCode(null)).toEqual({ status: 'invalid', reason: 'no HS code' });
  });

  it('give duty as value × rate, in cents', () => {
    expect(dutyOf(1890, 2.7)).toBe(51.03);
    expect(dutyOf(1800, 8)).toBe(144);
    expect(dutyOf(0.1, 3.3)).toBe(0);
  });
});

describe('countries of origin', () => {
  it('are read from "from X", "made in X", "origin XX"', () => {
    expect(originIn('coffee beans from Brazil worth $2,000')).toMatchObject({ code: 'BR' });
    expect(originIn('gloves made in Viet Nam')).toMatchObject({ code: 'VN' });
    expect(originIn('bolts, origin CN')).toMatchObject({ code: 'CN' });
    expect(originIn('tiles from South Korea')).toMatchObject({ code: 'KR' });
    expect(originIn('boxes from in the back')).toBeUndefined();
    expect(originIn('goods from Atlantis')).toBeUndefined();
  });

  it('map between names and codes', () => {
    expect(countryCode('china')).toBe('CN');
    expect(countryCode('the Netherlands')).toBe('NL');
    expect(countryCode('de')).toBe('DE');
    expect(countryCode('Narnia')).toBeUndefined();
    expect(countryName('MY')).toBe('Malaysia');
    expect(countryName('XX')).toBe('XX');
  });
});

function shipment(fields: Partial<Shipment> & { number: string }): Shipment {
  return {
    id: Number(fields.number.slice(3)),
    direction: 'inbound',
    status: 'at_customs',
    mode: 'sea',
    carrier: null,
    originCountry: null,
    originPort: null,
    warehouse: 'WH-B',
    warehouseName: 'Dallas',
    warehouseCity: 'Dallas',
    warehouseCountry: 'US',
    supplier: null,
    po: null,
    eta: null,
    lines: [],
    ...fields,
  };
}

describe('shipments by description', () => {
  const shipments = [
    shipment({ number: 'SH-2001', mode: 'sea', carrier: 'Maersk', originCountry: 'DE', originPort: 'Hamburg' }),
    shipment({ number: 'SH-2003', mode: 'sea', carrier: 'COSCO Shipping', originCountry: 'CN', originPort: 'Shenzhen' }),
    shipment({ number: 'SH-2004', mode: 'air', carrier: 'Cathay Cargo', originCountry: 'HK', originPort: 'Hong Kong' }),
  ];
  const pick = (text: string) => {
    const m = matchShipments(shipments, text);
    return m.status === 'one' ? m.shipment.number : m.status === 'many' ? m.shipments.map((s) => s.number) : 'none';
  };

  it('finds the one a description names', () => {
    expect(pick('did the Shenzhen container clear customs?')).toBe('SH-2003');
    expect(pick('the shenzen container')).toBe('SH-2003'); // a typo
    expect(pick('has the Hong Kong shipment cleared?')).toBe('SH-2004');
    expect(pick('the Maersk one')).toBe('SH-2001');
    expect(pick('the flight')).toBe('SH-2004');
    expect(pick('the Chinese... I mean the China container')).toBe('SH-2003');
  });

  it('lists the candidates when only the mode is given, and knows when nothing fits', () => {
    expect(pick('the container')).toEqual(['SH-2001', 'SH-2003']);
    expect(pick('the Atlantis container')).toBe('none');
    expect(pick('has it cleared customs yet?')).toBe('none');
  });
});

const entity = (text: string, type: string, value: unknown, fragment: string): SkillEntity => {
  const start = text.indexOf(fragment);
  return { type, value, text: fragment, start, end: start + fragment.length };
};

describe('reading customs slots', () => {
  it('file_declaration: a shipment id, a description, HS-code answers and "skip"', () => {
    const t = 'file a declaration for SH-2003';
    expect(extractFileDeclaration({ text: t, entities: [entity(t, 'shipment', 'SH-2003', 'SH-2003')] }, {})).toEqual({ shipment: 'SH-2003' });
    expect(extractFileDeclaration({ text: 'file a declaration for the Shenzhen container', entities: [] }, {})).toEqual({
      shipmentHint: 'file a declaration for the Shenzhen container',
    });
    expect(extractFileDeclaration({ text: 'I need to file a customs declaration', entities: [] }, {})).toEqual({});
    expect(extractFileDeclaration({ text: '2003', entities: [], expecting: 'shipment' }, {})).toEqual({ shipment: 'SH-2003' });
    expect(extractFileDeclaration({ text: 'it is 8504.40', entities: [], expecting: 'hs:SKU-1006' }, { shipment: 'SH-2004' })).toEqual({
      shipment: 'SH-2004',
      hsCodes: { 'SKU-1006': '850440' },
    });
    expect(extractFileDeclaration({ text: 'skip it', entities: [], expecting: 'hs:SKU-1006' }, {})).toEqual({ hsCodes: { 'SKU-1006': 'none' } });
    expect(extractFileDeclaration({ text: '12345', entities: [], expecting: 'hs:SKU-1006' }, {})).toEqual({ hsInvalid: '12345' });
    const fix = 'use 8504.40 for SKU-1006';
    expect(extractFileDeclaration({ text: fix, entities: [entity(fix, 'sku', 'SKU-1006', 'SKU-1006')], expecting: 'edit' }, { shipment: 'SH-2004' })).toEqual({
      shipment: 'SH-2004',
      hsCodes: { 'SKU-1006': '850440' },
    });
  });

  it('declaration_status: ids, "cleared?" questions and descriptions', () => {
    const t = 'has CD-3001 cleared?';
    expect(extractDeclarationStatus({ text: t, entities: [entity(t, 'declaration', 'CD-3001', 'CD-3001')] }, {})).toEqual({
      question: 'cleared',
      declaration: 'CD-3001',
    });
    expect(extractDeclarationStatus({ text: 'did the Shenzhen container clear customs?', entities: [] }, {})).toEqual({
      question: 'cleared',
      description: 'did the Shenzhen container clear customs?',
    });
    expect(extractDeclarationStatus({ text: '2003', entities: [], expecting: 'shipment' }, { description: 'the container' })).toEqual({ shipment: 'SH-2003' });
  });

  it('classify_goods: description, value, currency and origin; markup is dropped', () => {
    const t = 'HS code for coffee beans from Brazil worth $2,000';
    expect(extractClassifyGoods({ text: t, entities: [entity(t, 'money', { amount: 2000, currency: 'USD' }, '$2,000')] }, {})).toEqual({
      value: 2000,
      currency: 'USD',
      origin: 'BR',
      description: 'coffee beans',
    });
    expect(extractClassifyGoods({ text: "what's the HS code for nitrile gloves", entities: [] }, {})).toEqual({ description: 'nitrile gloves' });
    const x = 'HS code for <script>alert(1)</script> gloves';
    const d = extractClassifyGoods({ text: x, entities: [] }, {});
    expect(String(d.description)).not.toMatch(/[<>()]/);
    expect(extractClassifyGoods({ text: 'what is the HS code', entities: [] }, {})).toEqual({});
  });
});

describe('the simulated customs authority', () => {
  const rules = { ...DEFAULT_CUSTOMS_RULES, inspectionThreshold: 10_000, restrictedOrigins: ['MY'] };
  const declaration = (lines: { hsCode: string | null; originCountry: string | null; value: number }[]) => ({
    declaration: 'CD-1',
    kind: 'import',
    currency: 'USD',
    customsValue: lines.reduce((s, l) => s + l.value, 0),
    lines: lines.map((l, i) => ({ lineNo: i + 1, description: `goods ${i + 1}`, ...l })),
  });

  it('clears a clean declaration and assesses the table’s duty', () => {
    expect(customsDecision(declaration([{ hsCode: '848210', originCountry: 'CN', value: 1800 }, { hsCode: '850760', originCountry: 'CN', value: 1890 }]), rules)).toEqual({
      status: 'cleared',
      dutyAssessed: 195.03,
    });
  });

  it('holds a declaration with a missing, invalid or unknown HS code, or without an origin', () => {
    for (const hsCode of [null, '770000', '010121']) {
      const d = customsDecision(declaration([{ hsCode, originCountry: 'CN', value: 100 }]), rules);
      expect(d.status, String(hsCode)).toBe('held');
      expect(d.reason).toMatch(/^line 1 \(goods 1\): (no HS code|7700\.00 is not a valid HS code|HS code 0101\.21 is not in the simulated authority's nomenclature)/);
    }
    expect(customsDecision(declaration([{ hsCode: '848210', originCountry: null, value: 100 }]), rules)).toMatchObject({ status: 'held', reason: /no country of origin/ });
  });

  it('holds a declaration over the threshold for inspection, and rejects restricted origins first', () => {
    expect(customsDecision(declaration([{ hsCode: '848210', originCountry: 'CN', value: 10_000.01 }]), rules)).toMatchObject({
      status: 'held',
      reason: 'selected for physical inspection: customs value 10,000.01 USD is over 10,000.00 USD',
    });
    expect(customsDecision(declaration([{ hsCode: '770000', originCountry: 'MY', value: 50_000 }]), rules)).toMatchObject({
      status: 'rejected',
      reason: 'goods of origin MY are not admissible (restricted origin)',
    });
  });

  it('acknowledges submissions after the connector delay and decides after the review time', () => {
    const request = {
      jobId: 7,
      action: 'customs.file_declaration',
      operation: 'submit_customs_declaration',
      idempotencyKey: 'k',
      callbackUrl: 'http://x',
      payload: declaration([{ hsCode: '848210', originCountry: 'CN', value: 10 }]),
      requestedBy: { id: 'u' },
      attempt: 1,
    };
    expect(playCustomsAuthority(request, { outcome: 'confirm', ackDelayMs: 50, rules })).toMatchObject({
      delayMs: 50,
      result: { status: 'succeeded', data: { authorityReference: 'SIM-CUS-1', status: 'under_review' } },
    });
    expect(playCustomsAuthority(request, { outcome: 'reject', ackDelayMs: 50, rules }).result.status).toBe('failed');
    expect(playCustomsAuthority({ ...request, operation: 'await_customs_decision' }, { outcome: 'confirm', ackDelayMs: 50, rules })).toMatchObject({
      delayMs: 50 + rules.reviewMs,
      result: { status: 'succeeded', data: { status: 'cleared', dutyAssessed: 0.8 } },
    });
  });
});

describe('the customs skill', () => {
  it('answers the three customs intents, and its actions are LangChain tools with JSON schemas', () => {
    const skill = customsSkill();
    expect(Object.keys(skill.intents).sort()).toEqual(['customs.classify_goods', 'customs.declaration_status', 'customs.file_declaration']);
    expect(skill.jobHandlers.map((h) => h.action)).toEqual(['customs.file_declaration', 'customs.await_decision']);
    const tools = skillTools(new SkillRegistry([skill]));
    expect(tools.map((t) => t.name).sort()).toEqual(['customs_classify_goods', 'customs_declaration_status', 'customs_file_declaration']);
    for (const t of tools) {
      const json = z.toJSONSchema(t.schema as z.ZodType) as { type: string; properties: Record<string, unknown> };
      expect(json.type).toBe('object');
      expect(t.description.length).toBeGreaterThan(20);
    }
    const file = tools.find((t) => t.name === 'customs_file_declaration')!;
    expect((z.toJSONSchema(file.schema as z.ZodType) as { required: string[] }).required).toEqual(['shipment']);
  });
});
