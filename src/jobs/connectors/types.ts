import type { ConnectorResult } from '../types.js';

/**
 * The purchase-order operations the RPA side carries out. `cancel_purchase_order` is the
 * compensation of a send: payload `{order, supplier, supplierReference, reason}`, its own job and
 * `Idempotency-Key` (`cancel:PO-…`), sent only once the send has its outcome.
 */
export const PROCUREMENT_OPERATIONS = ['send_purchase_order', 'cancel_purchase_order'] as const;

/** One job step sent to the RPA side. */
export interface ConnectorRequest {
  jobId: number;
  /** The skill action, e.g. `procurement.create_order`. */
  action: string;
  /** What to do, e.g. `send_purchase_order` (see PROCUREMENT_OPERATIONS). */
  operation: string;
  /**
   * Names the operation (the step's `Dispatch.idempotencyKey`, e.g. `send:PO-1102`, else the job's
   * key), stable across retries: the RPA side must treat a repeat with the same key as the same request.
   */
  idempotencyKey: string;
  /** Where the RPA side reports the result (signed POST). */
  callbackUrl: string;
  payload: Record<string, unknown>;
  requestedBy: { id: string; name?: string };
  /** 1 on the first try. */
  attempt: number;
}

export type DispatchResult =
  /** Accepted; the result arrives later (callback, or the simulator's scheduled reply). */
  | { kind: 'accepted'; externalId?: string; message: string }
  /** Done synchronously. */
  | { kind: 'completed'; result: ConnectorResult };

/** Runs automation steps somewhere else: an RPA tool behind a webhook, or the simulator. */
export interface Connector {
  readonly name: string;
  /**
   * Throws to have the step retried (with backoff, then dead-lettered); throws
   * `PermanentConnectorError` when retrying cannot help (the job fails at once).
   */
  dispatch(request: ConnectorRequest): Promise<DispatchResult>;
}

/** The RPA side refused the request for good (HTTP 4xx): no retry. */
export class PermanentConnectorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentConnectorError';
  }
}
