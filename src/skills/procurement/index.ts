import type { Skill } from '../types.js';
import { cancelOrderAction } from './actions/cancelOrder.js';
import { createOrderAction } from './actions/createOrder.js';
import { approveOrderAction, rejectOrderAction } from './actions/decideOrder.js';
import { listOrdersAction } from './actions/listOrders.js';
import { orderStatusAction } from './actions/orderStatus.js';
import { productPriceAction } from './actions/productPrice.js';
import { procurementJobHandlers, type ProcurementJobDeps } from './jobs.js';

/** Purchasing: raise, look up, list, cancel, approve and reject purchase orders. */
export function procurementSkill(deps: ProcurementJobDeps): Skill {
  return {
    name: 'procurement',
    intents: {
      'procurement.create_order': 'procurement.create_order',
      'procurement.order_status': 'procurement.order_status',
      'procurement.cancel_order': 'procurement.cancel_order',
      'procurement.list_orders': 'procurement.list_orders',
      'procurement.approve_order': 'procurement.approve_order',
      // Not a model label: price questions the NLU keeps out of scope (nlu/decision.ts routedIntent).
      'procurement.product_price': 'procurement.product_price',
    },
    actions: [
      createOrderAction(),
      orderStatusAction(),
      cancelOrderAction(),
      listOrdersAction(),
      approveOrderAction(),
      rejectOrderAction(),
      productPriceAction(),
    ],
    jobHandlers: procurementJobHandlers(deps),
  };
}
