/**
 * The storage skill's pieces that need no database: reading receipts, transfers and stock
 * questions out of what people write (with the real entity extractor), the shipment rules and the
 * over-delivery policy.
 */
import { describe, expect, it } from 'vitest';
import { EntityExtractor } from '../../../src/nlu/entities/EntityExtractor.js';
import { extractReceipt, extractStockQuery, extractTransfer } from '../../../src/skills/storage/extract.js';
import { maxReceivable, receiveBlock, shipmentLeft, type Shipment } from '../../../src/skills/storage/receipts.js';
import type { Draft } from '../../../src/skills/types.js';

const extractor = new EntityExtractor();
const input = (text: string, expecting?: string) => ({ text, entities: extractor.extract(text), expecting });

describe('reading a goods receipt', () => {
  it.each<[string, Draft]>([
    ['receive goods for PO-1007', { po: 'PO-1007' }],
    ['receive 40 SKU-1002 against PO-1002', { po: 'PO-1002', lines: [{ sku: 'SKU-1002', quantity: 40 }] }],
    ['receive 400 SKU-1001 and 10 battery packs for PO-1007', { po: 'PO-1007', lines: [{ sku: 'SKU-1001', quantity: 400 }, { sku: 'SKU-1005', quantity: 10 }] }],
    ['receive SH-2001 into WH-C', { shipment: 'SH-2001', warehouse: 'WH-C' }],
    ['receive 40 SKU-1002 against PO-1002 into bin C-03-01', { po: 'PO-1002', lines: [{ sku: 'SKU-1002', quantity: 40 }], bin: 'C-03-01' }],
    ['receive all goods from SH-2003', { shipment: 'SH-2003', all: true }],
  ])('%s', (text, expected) => {
    expect(extractReceipt(input(text), {})).toEqual(expected);
  });

  it('answers fill the slot that was asked for, corrections change the last line', () => {
    expect(extractReceipt(input('everything', 'lines'), { po: 'PO-1007' })).toEqual({ po: 'PO-1007', all: true });
    expect(extractReceipt(input('40', 'lines'), { po: 'PO-1002' })).toEqual({ po: 'PO-1002', lines: [{ quantity: 40 }] });
    expect(extractReceipt(input('1007', 'po'), {})).toEqual({ po: 'PO-1007' });
    const draft = { po: 'PO-1101', lines: [{ sku: 'SKU-1009', quantity: 5 }] };
    expect(extractReceipt(input('15 SKU-1001', 'sku:0'), draft)).toEqual({ po: 'PO-1101', lines: [{ sku: 'SKU-1001', quantity: 15 }] });
    expect(extractReceipt(input('7', 'quantity:0'), { po: 'PO-1101', lines: [{ sku: 'SKU-1001', quantity: 10 }] })).toEqual({
      po: 'PO-1101',
      lines: [{ sku: 'SKU-1001', quantity: 7 }],
    });
    expect(extractReceipt(input('make it 30', 'edit'), { po: 'PO-1002', lines: [{ sku: 'SKU-1002', quantity: 40 }] })).toEqual({
      po: 'PO-1002',
      lines: [{ sku: 'SKU-1002', quantity: 30 }],
    });
    // A bin code's digits are not a quantity.
    expect(extractReceipt(input('into bin A-03-01', 'edit'), { po: 'PO-1101', lines: [{ sku: 'SKU-1001', quantity: 20 }] })).toEqual({
      po: 'PO-1101',
      lines: [{ sku: 'SKU-1001', quantity: 20 }],
      bin: 'A-03-01',
    });
  });
});

describe('reading a transfer', () => {
  it.each<[string, Draft]>([
    ['move 100 SKU-1001 from WH-A to WH-B', { sku: 'SKU-1001', quantity: 100, fromWarehouse: 'WH-A', toWarehouse: 'WH-B' }],
    ['move 100 SKU-1001 to WH-B from WH-A', { sku: 'SKU-1001', quantity: 100, fromWarehouse: 'WH-A', toWarehouse: 'WH-B' }],
    ['move 50 SKU-1001 from bin A-01-01 to bin A-03-01', { sku: 'SKU-1001', quantity: 50, fromBin: 'A-01-01', toBin: 'A-03-01' }],
    ['move 20 pallets from WH-B to WH-C', { quantity: 20, unitHint: 'pallet', fromWarehouse: 'WH-B', toWarehouse: 'WH-C' }],
    ['transfer 30 gloves from Rotterdam to Dallas', { sku: 'SKU-1003', quantity: 30, fromWarehouse: 'WH-C', toWarehouse: 'WH-B' }],
  ])('%s', (text, expected) => {
    expect(extractTransfer(input(text), {})).toEqual(expected);
  });

  it('answers fill the slot that was asked for', () => {
    const draft = { sku: 'SKU-1001', quantity: 100 };
    expect(extractTransfer(input('WH-A', 'from'), draft)).toEqual({ ...draft, fromWarehouse: 'WH-A' });
    expect(extractTransfer(input('WH-C', 'to'), { ...draft, fromWarehouse: 'WH-A' })).toEqual({ ...draft, fromWarehouse: 'WH-A', toWarehouse: 'WH-C' });
    expect(extractTransfer(input('A-03-01', 'toBin'), draft)).toEqual({ ...draft, toBin: 'A-03-01' });
    expect(extractTransfer(input('250', 'quantity'), draft)).toEqual({ ...draft, quantity: 250 });
  });
});

describe('reading a stock question', () => {
  it.each<[string, Draft]>([
    ['how many SKU-1001 do we have in WH-A', { sku: 'SKU-1001', warehouse: 'WH-A' }],
    ['how much copy paper is in Rotterdam', { sku: 'SKU-1002', warehouse: 'WH-C' }],
    ['what stock do we have in WH-B', { warehouse: 'WH-B' }],
    ['stock of SKU-1001 in all warehouses', { sku: 'SKU-1001' }],
  ])('%s', (text, expected) => {
    expect(extractStockQuery(input(text), {})).toEqual(expected);
  });
});

describe('shipments and the over-delivery policy', () => {
  const shipment = (patch: Partial<Shipment>): Shipment => ({
    id: 1,
    number: 'SH-1',
    direction: 'inbound',
    status: 'cleared',
    po: 'PO-1',
    warehouse: 'WH-A',
    warehouseCountry: 'US',
    originCountry: 'DE',
    eta: '2030-01-01',
    carrier: null,
    declaration: null,
    lines: [{ sku: 'SKU-1', quantity: 40, received: 0 }],
    ...patch,
  });

  it.each<[Partial<Shipment>, string | undefined]>([
    [{ status: 'cleared' }, undefined],
    [{ status: 'at_customs', declaration: { number: 'CD-1', status: 'held' } }, 'SH-1 is still held at customs (declaration CD-1 is held)'],
    [{ status: 'at_customs' }, 'SH-1 is still held at customs (no declaration filed yet)'],
    [{ status: 'in_transit' }, 'SH-1 is still in transit (ETA 2030-01-01) and has not cleared customs yet'],
    // Domestic: no border, no customs.
    [{ status: 'in_transit', originCountry: 'US' }, undefined],
    [{ status: 'planned' }, 'SH-1 has not left the supplier yet'],
    [{ status: 'delivered' }, 'SH-1 was already received'],
    [{ status: 'cancelled' }, 'SH-1 was cancelled'],
  ])('%o → %s', (patch, expected) => {
    expect(receiveBlock(shipment(patch))).toBe(expected);
  });

  it('a shipment is open until receipts have booked all it carries', () => {
    expect(shipmentLeft(shipment({}), [{ sku: 'SKU-1', quantity: 30 }])).toEqual([{ sku: 'SKU-1', quantity: 10 }]);
    expect(shipmentLeft(shipment({ lines: [{ sku: 'SKU-1', quantity: 40, received: 30 }] }))).toEqual([{ sku: 'SKU-1', quantity: 10 }]);
    expect(shipmentLeft(shipment({ lines: [{ sku: 'SKU-1', quantity: 40, received: 30 }] }), [{ sku: 'SKU-1', quantity: 10 }])).toEqual([]);
  });

  it('accepts at most 10% over the ordered quantity, in whole units', () => {
    expect(maxReceivable(20)).toBe(22);
    expect(maxReceivable(40)).toBe(44);
    expect(maxReceivable(5)).toBe(5);
    expect(maxReceivable(1000)).toBe(1100);
  });
});
