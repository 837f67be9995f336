import type { MasterData } from './masterData.js';

/** The demo company's suppliers, products and warehouses (the database replaces this later). */
export const DEMO_MASTER_DATA: MasterData = {
  suppliers: [
    { name: 'Acme Corp', aliases: ['Acme Corporation'] },
    { name: 'Globex', aliases: ['Globex Corporation', 'Globex Corp'] },
    { name: 'Initech' },
    { name: 'Northwind Traders', aliases: ['Northwind'] },
  ],
  products: [
    { sku: 'SKU-1001', name: 'steel bearings 6204', aliases: ['6204 bearings', 'bearings 6204', 'ball bearings', 'bearings'] },
    {
      sku: 'SKU-1002',
      name: 'A4 copy paper (box)',
      aliases: ['A4 copy paper', 'copy paper', 'A4 paper', 'printer paper', 'paper'],
    },
    { sku: 'SKU-1003', name: 'nitrile gloves (box of 100)', aliases: ['nitrile gloves', 'blue nitrile gloves', 'gloves'] },
    { sku: 'SKU-1004', name: 'euro pallets', aliases: ['EPAL pallets', 'euro pallet', 'pallets'] },
    {
      sku: 'SKU-1005',
      name: 'lithium-ion battery packs',
      aliases: ['li-ion battery packs', 'battery packs', 'li-ion batteries', 'lithium batteries', 'batteries'],
    },
  ],
  warehouses: [
    { code: 'WH-A', name: 'Main', aliases: ['main warehouse', 'main site', 'main DC'] },
    { code: 'WH-B', name: 'Dallas', aliases: ['Dallas DC', 'Dallas warehouse', 'Dallas site'] },
    { code: 'WH-C', name: 'Rotterdam', aliases: ['Rotterdam DC', 'Rotterdam warehouse', 'Rotterdam site'] },
  ],
};
