import type { DataSource } from 'typeorm';
import { statusLabel } from '../format.js';
import { listOrders, orderLines, type OrderFilter } from '../procurement/orders.js';
import type { SkillFile } from '../types.js';
import { EXCEL_LIMITS } from './limits.js';
import { xlsxFile, type ExportSheet } from './writer.js';

/** The .xlsx exports: purchase orders (with their lines) and stock on hand. */

/** "export", "excel", "spreadsheet", "xlsx", "download … as a file": the user wants the file, not a list. */
export const EXPORT_WORDS = /\b(export|excel|spreadsheet|xlsx|download)\b/i;

export interface OrdersExport {
  file: SkillFile;
  orders: number;
  /** More orders matched than an export holds. */
  truncated: boolean;
}

const day = (d: Date) => d.toISOString().slice(0, 10);

/** Every order matching `filter` (up to the export limit), one row per order plus a sheet of their lines. */
export async function ordersExport(db: DataSource, filter: Omit<OrderFilter, 'limit'>, baseName: string, now: Date): Promise<OrdersExport> {
  const { orders, total } = await listOrders(db, { ...filter, limit: EXCEL_LIMITS.maxExportRows });
  const linesByOrder = await orderLines(db, orders.map((o) => o.id));
  // The orders' own order (newest first), then line by line.
  const lines = orders.flatMap((o) => (linesByOrder.get(o.id) ?? []).map((l) => ({ order: o.number, ...l })));
  const sheets: ExportSheet[] = [
    {
      name: 'Orders',
      columns: [
        { header: 'Order', width: 11 },
        { header: 'Status', width: 18 },
        { header: 'Supplier', width: 22 },
        { header: 'Ship to', width: 10 },
        { header: 'Need by', width: 12, numFmt: 'yyyy-mm-dd' },
        { header: 'Lines', width: 7 },
        { header: 'Total', width: 14, numFmt: '#,##0.00' },
        { header: 'Currency', width: 9 },
        { header: 'Requested by', width: 22 },
        { header: 'Created', width: 12, numFmt: 'yyyy-mm-dd' },
        { header: 'Supplier ref', width: 16 },
      ],
      rows: orders.map((o) => [
        o.number,
        statusLabel(o.status),
        o.supplier,
        o.shipTo,
        o.needBy ? new Date(`${o.needBy}T00:00:00Z`) : null,
        o.lineCount,
        o.total,
        o.currency,
        o.requestedByName ?? o.requestedBy,
        new Date(`${day(o.createdAt)}T00:00:00Z`),
        o.supplierReference,
      ]),
    },
    {
      name: 'Lines',
      columns: [
        { header: 'Order', width: 11 },
        { header: 'Line', width: 6 },
        { header: 'SKU', width: 11 },
        { header: 'Product', width: 30 },
        { header: 'Quantity', width: 10, numFmt: '#,##0.###' },
        { header: 'Unit', width: 8 },
        { header: 'Unit price', width: 12, numFmt: '#,##0.00' },
        { header: 'Amount', width: 14, numFmt: '#,##0.00' },
        { header: 'Received', width: 10, numFmt: '#,##0.###' },
      ],
      rows: lines.map((l) => [l.order, l.lineNo, l.sku, l.productName, l.quantity, l.unit, l.unitPrice, l.amount, l.receivedQuantity]),
    },
  ];
  return { file: await xlsxFile(`${baseName}-${day(now)}.xlsx`, sheets), orders: orders.length, truncated: total > orders.length };
}

/** A bin's stock, as the storage skill reads it (`stockBalances`). */
export interface StockLine {
  warehouse: string;
  warehouseName?: string;
  bin: string;
  sku: string;
  productName: string;
  unit: string;
  quantity: number;
  updatedAt: Date;
}

export async function stockExport(lines: readonly StockLine[], baseName: string, now: Date): Promise<SkillFile> {
  return xlsxFile(`${baseName}-${day(now)}.xlsx`, [
    {
      name: 'Stock',
      columns: [
        { header: 'Warehouse', width: 11 },
        { header: 'Warehouse name', width: 16 },
        { header: 'Bin', width: 10 },
        { header: 'SKU', width: 11 },
        { header: 'Product', width: 30 },
        { header: 'Quantity', width: 11, numFmt: '#,##0.###' },
        { header: 'Unit', width: 8 },
        { header: 'Updated', width: 18, numFmt: 'yyyy-mm-dd hh:mm' },
      ],
      rows: lines
        .slice(0, EXCEL_LIMITS.maxExportRows)
        .map((l) => [l.warehouse, l.warehouseName ?? null, l.bin, l.sku, l.productName, l.quantity, l.unit, new Date(l.updatedAt)]),
    },
  ]);
}
