import { describe, expect, it } from 'vitest';
import { EntityExtractor } from '../../src/nlu/entities/EntityExtractor.js';
import { findWordNumbers, parseNumber } from '../../src/nlu/entities/numbers.js';
import { editDistance } from '../../src/nlu/entities/nameMatcher.js';
import type { MasterData } from '../../src/nlu/entities/masterData.js';
import type { Entity, EntityValue } from '../../src/nlu/types.js';

// Wednesday 7 May 2025, 10:00 local time.
const NOW = new Date(2025, 4, 7, 10, 0, 0);
const extractor = new EntityExtractor({ now: () => NOW });

type Expect = [type: Entity['type'], value: EntityValue, text: string];

function check(text: string, expected: Expect[]): void {
  const got = extractor.extract(text);
  // Every span indexes the original text.
  for (const e of got) {
    expect(text.slice(e.start, e.end), JSON.stringify(e)).toBe(e.text);
    expect(e.start).toBeLessThan(e.end);
  }
  // Sorted, non-overlapping.
  for (let i = 1; i < got.length; i++) expect(got[i]!.start).toBeGreaterThanOrEqual(got[i - 1]!.end);
  expect(got.map((e) => [e.type, e.value, e.text])).toEqual(expected);
}

const q = (amount: number, unit: string | null = null) => ({ amount, unit });
const money = (amount: number, currency: string | null) => ({ amount, currency });

describe('ids', () => {
  it.each<[string, Expect[]]>([
    ['where is PO-10452?', [['purchase_order', 'PO-10452', 'PO-10452']]],
    ['status of purchase order 10452', [['purchase_order', 'PO-10452', 'purchase order 10452']]],
    ['po 10452 please', [['purchase_order', 'PO-10452', 'po 10452']]],
    ['PO10452', [['purchase_order', 'PO-10452', 'PO10452']]],
    ['p.o. 10502 and PO#20018', [['purchase_order', 'PO-10502', 'p.o. 10502'], ['purchase_order', 'PO-20018', 'PO#20018']]],
    ['PO nr 30456', [['purchase_order', 'PO-30456', 'PO nr 30456']]],
    ['purchase order no. 12345', [['purchase_order', 'PO-12345', 'purchase order no. 12345']]],
    ['purchase order PO-10499', [['purchase_order', 'PO-10499', 'purchase order PO-10499']]],
    ['order #10477 status', [['purchase_order', 'PO-10477', 'order #10477']]],
    ['has order 10453 shipped?', [['purchase_order', 'PO-10453', 'order 10453']]],
    ['shipment 20931', [['shipment', 'SH-20931', 'shipment 20931']]],
    ['SH-20931, sh 21007, SH20944', [['shipment', 'SH-20931', 'SH-20931'], ['shipment', 'SH-21007', 'sh 21007'], ['shipment', 'SH-20944', 'SH20944']]],
    ['consignment 20512', [['shipment', 'SH-20512', 'consignment 20512']]],
    ['declaration 1188', [['declaration', 'CD-1188', 'declaration 1188']]],
    ['CD-1188 / cd 1377 / CD1204', [['declaration', 'CD-1188', 'CD-1188'], ['declaration', 'CD-1377', 'cd 1377'], ['declaration', 'CD-1204', 'CD1204']]],
    ['customs declaration 1055', [['declaration', 'CD-1055', 'customs declaration 1055']]],
    ['entry 0993', [['declaration', 'CD-0993', 'entry 0993']]],
    ['sku 4471', [['sku', 'SKU-4471', 'sku 4471']]],
    ['SKU-4471 and SKU1005 and SKU#6613', [['sku', 'SKU-4471', 'SKU-4471'], ['sku', 'SKU-1005', 'SKU1005'], ['sku', 'SKU-6613', 'SKU#6613']]],
    ['item 1002, part no 5520', [['sku', 'SKU-1002', 'item 1002'], ['sku', 'SKU-5520', 'part no 5520']]],
    ['stock in WH-A', [['warehouse', 'WH-A', 'WH-A']]],
    ['from wh b to WHC', [['warehouse', 'WH-B', 'wh b'], ['warehouse', 'WH-C', 'WHC']]],
    ['move it to warehouse C', [['warehouse', 'WH-C', 'warehouse C']]],
    ['PO-10452 日本 😀 SH-20931', [['purchase_order', 'PO-10452', 'PO-10452'], ['shipment', 'SH-20931', 'SH-20931']]],
  ])('%j', check);

  it('"order 10000 boxes" is a quantity, not a purchase order', () => {
    check('order 10000 boxes of gloves', [['quantity', q(10000, 'box'), '10000 boxes'], ['sku', 'SKU-1003', 'gloves']]);
  });

  it('"po 10 boxes" is a quantity, not PO-10', () => {
    check('raise a po 10 boxes of gloves', [['quantity', q(10, 'box'), '10 boxes'], ['sku', 'SKU-1003', 'gloves']]);
  });

  it('"dec 2025" is December, not a declaration', () => {
    expect(extractor.extract('due dec 2025').some((e) => e.type === 'declaration')).toBe(false);
  });
});

describe('quantities', () => {
  it.each<[string, Expect[]]>([
    ['500 units', [['quantity', q(500, 'unit'), '500 units']]],
    ['20 boxes', [['quantity', q(20, 'box'), '20 boxes']]],
    ['3 pallets', [['quantity', q(3, 'pallet'), '3 pallets']]],
    ['1,000 pcs', [['quantity', q(1000, 'piece'), '1,000 pcs']]],
    ['2.5 kg', [['quantity', q(2.5, 'kg'), '2.5 kg']]],
    ['a dozen', [['quantity', q(12), 'a dozen']]],
    ['a dozen boxes', [['quantity', q(12, 'box'), 'a dozen boxes']]],
    ['2 dozen', [['quantity', q(24), '2 dozen']]],
    ['two hundred units', [['quantity', q(200, 'unit'), 'two hundred units']]],
    ['twenty-five cartons', [['quantity', q(25, 'carton'), 'twenty-five cartons']]],
    ['qty 500', [['quantity', q(500), 'qty 500']]],
    ['reorder SKU-1003 x 300', [['sku', 'SKU-1003', 'SKU-1003'], ['quantity', q(300), 'x 300']]],
    // a bare number counts only when a product follows
    ['we need 40 lithium-ion battery packs', [['quantity', q(40), '40'], ['sku', 'SKU-1005', 'lithium-ion battery packs']]],
    ['order 50 euro pallets', [['quantity', q(50), '50'], ['sku', 'SKU-1004', 'euro pallets']]],
    ['300 of the gloves', [['quantity', q(300), '300'], ['sku', 'SKU-1003', 'gloves']]],
    ['call me at 555 1234', []],
    ['ten', []],
  ])('%j', check);

  it('"500" inside "PO-500" is not a quantity', () => {
    check('cancel PO-500', [['purchase_order', 'PO-500', 'PO-500']]);
    check('cancel PO-500 boxes', [['purchase_order', 'PO-500', 'PO-500']]);
  });

  it('digits glued to letters are not quantities ("A4", "M8")', () => {
    check('A4 paper', [['sku', 'SKU-1002', 'A4 paper']]);
    expect(extractor.extract('M8 bolts x2').filter((e) => e.type === 'quantity').map((e) => e.text)).toEqual(['x2']);
  });
});

describe('money', () => {
  it.each<[string, Expect[]]>([
    ['$4,500', [['money', money(4500, 'USD'), '$4,500']]],
    ['1200 EUR', [['money', money(1200, 'EUR'), '1200 EUR']]],
    ['USD 3,400', [['money', money(3400, 'USD'), 'USD 3,400']]],
    ['€15,000 and £2,300', [['money', money(15000, 'EUR'), '€15,000'], ['money', money(2300, 'GBP'), '£2,300']]],
    ['$99.50', [['money', money(99.5, 'USD'), '$99.50']]],
    ['$1.2k', [['money', money(1200, 'USD'), '$1.2k']]],
    ['5k USD', [['money', money(5000, 'USD'), '5k USD']]],
    ['CNY 30,000', [['money', money(30000, 'CNY'), 'CNY 30,000']]],
    ['300 dollars', [['money', money(300, 'USD'), '300 dollars']]],
    ['a budget of 20k', [['money', money(20000, null), '20k']]],
    // "try" is a word, not the Turkish lira, unless written TRY
    ['try 500 boxes', [['quantity', q(500, 'box'), '500 boxes']]],
  ])('%j', check);

  it('a currency word loses to a product name ("50 euro pallets")', () => {
    check('50 euro pallets', [['quantity', q(50), '50'], ['sku', 'SKU-1004', 'euro pallets']]);
  });
});

describe('dates (reference: Wed 2025-05-07 10:00)', () => {
  it.each<[string, Expect[]]>([
    ['need it tomorrow', [['date', '2025-05-08', 'tomorrow']]],
    ['by Friday', [['date', '2025-05-09', 'Friday']]],
    ['next Friday', [['date', '2025-05-16', 'next Friday']]],
    ['last Thursday', [['date', '2025-05-01', 'last Thursday']]],
    ['on 2025-05-14', [['date', '2025-05-14', '2025-05-14']]],
    ['March 12', [['date', '2026-03-12', 'March 12']]],
    ['3rd of April', [['date', '2026-04-03', '3rd of April']]],
    ['in 10 days', [['date', '2025-05-17', 'in 10 days']]],
    ['by the 5th', [['date', '2025-06-05', 'the 5th']]],
    ['by the 21st', [['date', '2025-05-21', 'the 21st']]],
    ['by EOD', [['date', '2025-05-07', 'EOD']]],
    ['end of the week', [['date', '2025-05-09', 'end of the week']]],
    ['tomorrow at 3pm', [['date', new Date(2025, 4, 8, 15).toISOString(), 'tomorrow at 3pm']]],
  ])('%j', check);

  it('ids and numbers are not dates', () => {
    check('SKU-1001 from 2024', [['sku', 'SKU-1001', 'SKU-1001']]);
    check('dec 1190', [['declaration', 'CD-1190', 'dec 1190']]);
    check('send 3 pallets at 5', [['quantity', q(3, 'pallet'), '3 pallets']]);
  });
});

describe('names from master data, tolerant of misspellings', () => {
  it.each<[string, Expect[]]>([
    ['from Acme', [['supplier', 'Acme Corp', 'Acme']]],
    ['from acme corp', [['supplier', 'Acme Corp', 'acme corp']]],
    ['from Acme Crop', [['supplier', 'Acme Corp', 'Acme Crop']]],
    ['Globx', [['supplier', 'Globex', 'Globx']]],
    ['from Initech', [['supplier', 'Initech', 'Initech']]],
    ['Northwind', [['supplier', 'Northwind Traders', 'Northwind']]],
    ['nortwind traders', [['supplier', 'Northwind Traders', 'nortwind traders']]],
    ['the bearings', [['sku', 'SKU-1001', 'bearings']]],
    ['steel bearings', [['sku', 'SKU-1001', 'steel bearings']]],
    ['nitrile glove', [['sku', 'SKU-1003', 'nitrile glove']]],
    ['lithum-ion battery packs', [['sku', 'SKU-1005', 'lithum-ion battery packs']]],
    ['send it to Dallas', [['warehouse', 'WH-B', 'Dallas']]],
    ['the Dallas warehouse', [['warehouse', 'WH-B', 'Dallas warehouse']]],
    ['Rotterdm', [['warehouse', 'WH-C', 'Rotterdm']]],
    ['WH-B Dallas', [['warehouse', 'WH-B', 'WH-B Dallas']]],
    ['the main warehouse', [['warehouse', 'WH-A', 'main warehouse']]],
    // short or common words must match exactly / need context
    ["what's the main issue", []],
    ['an acne cream', []],
    ['I came home', []],
  ])('%j', check);

  it('uses the master data it is given (the database provides it later)', () => {
    const data: MasterData = {
      suppliers: [{ name: 'Contoso Supplies' }],
      products: [{ sku: 'SKU-7042', name: 'stretch wrap' }],
      warehouses: [{ code: 'WH-D', name: 'Hamburg' }],
    };
    const x = new EntityExtractor({ masterData: data, now: () => NOW });
    const got = x.extract('order stretch wrap from Contoso for Hamburg, not from Acme');
    expect(got.map((e) => [e.type, e.value, e.text])).toEqual([
      ['sku', 'SKU-7042', 'stretch wrap'],
      ['supplier', 'Contoso Supplies', 'Contoso'],
      ['warehouse', 'WH-D', 'Hamburg'],
    ]);
    x.setMasterData({ suppliers: [{ name: 'Acme Corp' }], products: [], warehouses: [] });
    expect(x.extract('from Acme').map((e) => e.value)).toEqual(['Acme Corp']);
  });
});

describe('whole messages', () => {
  it('a purchase request', () => {
    check('Hi, could you please raise a purchase order for 500 boxes of nitrile gloves from Acme, we need them by Friday', [
      ['quantity', q(500, 'box'), '500 boxes'],
      ['sku', 'SKU-1003', 'nitrile gloves'],
      ['supplier', 'Acme Corp', 'Acme'],
      ['date', '2025-05-09', 'Friday'],
    ]);
  });

  it('a transfer', () => {
    check('move 3 pallets of copy paper from WH-A to Dallas tomorrow', [
      ['quantity', q(3, 'pallet'), '3 pallets'],
      ['sku', 'SKU-1002', 'copy paper'],
      ['warehouse', 'WH-A', 'WH-A'],
      ['warehouse', 'WH-B', 'Dallas'],
      ['date', '2025-05-08', 'tomorrow'],
    ]);
  });

  it('spans stay right after astral characters (UTF-16 offsets)', () => {
    const text = '👍👍 approve PO-10452 for $4,500 📦';
    const got = extractor.extract(text);
    expect(got.map((e) => [e.text, e.start])).toEqual([
      ['PO-10452', 13],
      ['$4,500', 26],
    ]);
  });

  it('empty and whitespace text give nothing', () => {
    expect(extractor.extract('')).toEqual([]);
    expect(extractor.extract('   \n')).toEqual([]);
  });
});

describe('number helpers', () => {
  it('parseNumber', () => {
    expect(parseNumber('1,000')).toBe(1000);
    expect(parseNumber('1.2', 'k')).toBe(1200);
    expect(parseNumber('99.50')).toBe(99.5);
    expect(parseNumber('3', 'm')).toBe(3_000_000);
  });

  it.each([
    ['ten', 10],
    ['twenty five', 25],
    ['twenty-five', 25],
    ['a hundred', 100],
    ['two hundred and fifty', 250],
    ['one thousand two hundred', 1200],
    ['a dozen', 12],
    ['two dozen', 24],
  ])('%s = %i', (text, value) => {
    expect(findWordNumbers(text).map((w) => w.value)).toEqual([value]);
  });
});

describe('editDistance', () => {
  it.each([
    ['corp', 'corp', 0],
    ['corp', 'crop', 1],
    ['globex', 'globx', 1],
    ['kitten', 'sitting', 3],
    ['', 'abc', 3],
    ['ab', 'ba', 1],
  ])('%s ↔ %s = %i', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
    expect(editDistance(b, a)).toBe(d);
  });
});
