import type { Skill } from '../types.js';
import { receiveGoodsAction } from './actions/receiveGoods.js';
import { stockLevelAction } from './actions/stockLevel.js';
import { transferStockAction } from './actions/transferStock.js';
import { storageJobHandlers } from './jobs.js';

export { receiveGoodsAction } from './actions/receiveGoods.js';
export { stockLevelAction } from './actions/stockLevel.js';
export { transferStockAction } from './actions/transferStock.js';
export { receiveGoodsSchema, stockLevelSchema, transferStockSchema } from './schemas.js';
export type { ReceiveGoodsSlots, StockLevelSlots, TransferStockSlots } from './schemas.js';
export { OVER_DELIVERY_TOLERANCE } from './receipts.js';
export { stockBalances, transferStock } from './stock.js';
export type { StockBalance, StockFilter } from './stock.js';

/**
 * The warehouse: receive goods against purchase orders or cleared shipments, answer stock levels
 * from the ledger, and move stock between warehouses and bins. Receiving and moving need the
 * `clerk` (or `admin`) role; anyone may ask what is on hand.
 */
export function storageSkill(): Skill {
  return {
    name: 'storage',
    intents: {
      'storage.receive_goods': 'storage.receive_goods',
      'storage.stock_level': 'storage.stock_level',
      'storage.transfer_stock': 'storage.transfer_stock',
    },
    actions: [receiveGoodsAction(), stockLevelAction(), transferStockAction()],
    jobHandlers: storageJobHandlers(),
  };
}
