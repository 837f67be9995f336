import { writeWorkbook, type ExportSheet } from './writer.js';

/**
 * The sample spreadsheets in docs/samples (`npm run samples`), on the demo data: what a buyer would
 * send. `orders.xlsx` is all good; `orders-with-mistakes.xlsx` shows the per-row report;
 * `receiving.xlsx` is a receiving list for the orders `orders.xlsx` creates.
 */

const ORDER_COLUMNS = [
  { header: 'SKU', width: 11 },
  { header: 'Product', width: 28 },
  { header: 'Quantity', width: 10 },
  { header: 'Supplier', width: 20 },
  { header: 'Ship to', width: 9 },
  { header: 'Need by', width: 12, numFmt: 'yyyy-mm-dd' },
];

const date = (iso: string) => new Date(`${iso}T00:00:00Z`);

export const SAMPLE_ORDER_ROWS = [
  ['SKU-1001', 'steel bearings 6204', 200, 'Acme Corp', 'WH-A', date('2027-01-15')],
  ['SKU-1002', 'A4 copy paper (box)', 40, 'Globex', 'WH-B', date('2027-01-08')],
  ['SKU-1003', 'nitrile gloves (box of 100)', 100, 'Northwind Traders', 'WH-A', null],
  ['SKU-1004', 'euro pallets', 25, 'Initech', 'WH-C', date('2027-02-01')],
];

export const SAMPLE_ORDER_MISTAKES = [
  ...SAMPLE_ORDER_ROWS.slice(0, 2),
  ['SKU-1010', 'hex bolts M8', 500, 'Acme Corp', 'WH-A', null],
  ['SKU-1003', 'nitrile gloves (box of 100)', 'twelve', 'Northwind Traders', 'WH-A', null],
  ['SKU-1004', 'euro pallets', 25, 'Initek', 'WH-C', null],
];

/**
 * What arrived for the orders that importing orders.xlsx creates on a fresh demo database
 * (PO-1101 … PO-1104, in its row order); the last row is over what PO-1104 ordered.
 */
export const SAMPLE_RECEIVING_ROWS = [
  ['PO-1101', 'SKU-1001', 200, 'WH-A', 'A-01-01'],
  ['PO-1102', 'SKU-1002', 40, 'WH-B', null],
  ['PO-1104', 'SKU-1004', 20, 'WH-C', null],
  ['PO-1104', 'SKU-1004', 900, 'WH-C', null],
];

const RECEIVING_COLUMNS = [
  { header: 'PO', width: 10 },
  { header: 'SKU', width: 11 },
  { header: 'Quantity', width: 10 },
  { header: 'Warehouse', width: 11 },
  { header: 'Bin', width: 10 },
];

export async function sampleWorkbooks(): Promise<Record<string, Buffer>> {
  const orders = (rows: unknown[][]): ExportSheet[] => [{ name: 'Orders', columns: ORDER_COLUMNS, rows: rows as ExportSheet['rows'] }];
  return {
    'orders.xlsx': await writeWorkbook(orders(SAMPLE_ORDER_ROWS)),
    'orders-with-mistakes.xlsx': await writeWorkbook(orders(SAMPLE_ORDER_MISTAKES)),
    'receiving.xlsx': await writeWorkbook([{ name: 'Receiving', columns: RECEIVING_COLUMNS, rows: SAMPLE_RECEIVING_ROWS as ExportSheet['rows'] }]),
  };
}
