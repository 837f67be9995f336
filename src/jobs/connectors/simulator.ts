import { isCustomsOperation, playCustomsAuthority, type CustomsAuthorityRules } from '../../skills/customs/simulator.js';
import type { ConnectorResult } from '../types.js';
import type { Connector, ConnectorRequest, DispatchResult } from './types.js';

export type SimulatorOutcome = 'confirm' | 'reject' | 'error';

export interface SimulatedReply {
  jobId: number;
  idempotencyKey: string;
  result: ConnectorResult;
}

export interface SimulatorOptions {
  delayMs: number;
  outcome: SimulatorOutcome;
  /** How the simulated customs authority reviews declarations (customs operations only). */
  customs?: CustomsAuthorityRules;
  /** Delivers `reply` after `delayMs` durably (a pg-boss job), so it survives a restart. */
  schedule(reply: SimulatedReply, delayMs: number): Promise<void>;
}

/**
 * SIMULATED supplier / RPA side, for demos and tests: nothing leaves the process. It accepts each
 * step, and after `SIMULATOR_DELAY_MS` answers through the same completion path a real callback
 * takes: `confirm` (the supplier confirms, with a `SIM-…` reference), `reject` (the supplier
 * declines: the job fails) or `error` (the "endpoint" is down: every attempt throws, so the job is
 * retried with backoff and then dead-lettered). Customs operations are played by the simulated
 * customs authority instead (review time and rules: `customs`).
 */
export class SupplierSimulator implements Connector {
  readonly name = 'simulator';

  constructor(private readonly options: SimulatorOptions) {}

  async dispatch(request: ConnectorRequest): Promise<DispatchResult> {
    const { outcome, delayMs } = this.options;
    if (outcome === 'error') {
      throw new Error('simulated RPA endpoint unavailable (HTTP 503; SIMULATOR_OUTCOME=error)');
    }
    if (isCustomsOperation(request.operation)) {
      // Customs steps go to the simulated customs authority (src/skills/customs/simulator.ts).
      const played = playCustomsAuthority(request, { outcome, ackDelayMs: delayMs, rules: this.options.customs });
      await this.options.schedule({ jobId: request.jobId, idempotencyKey: request.idempotencyKey, result: played.result }, played.delayMs);
      return { kind: 'accepted', message: played.message };
    }
    const supplier = typeof request.payload.supplier === 'string' ? request.payload.supplier : 'The supplier';
    const cancel = request.operation === 'cancel_purchase_order';
    const result: ConnectorResult =
      outcome === 'confirm' && cancel
        ? { status: 'succeeded', data: { simulated: true, cancelled: true } }
        : outcome === 'confirm'
        ? {
            status: 'succeeded',
            data: {
              simulated: true,
              confirmed: true,
              supplierReference: `SIM-${supplier.replace(/[^A-Za-z]/g, '').slice(0, 6).toUpperCase()}-${request.jobId}`,
            },
          }
        : { status: 'failed', data: { simulated: true }, error: `${supplier} declined (simulated: SIMULATOR_OUTCOME=reject)` };
    await this.options.schedule({ jobId: request.jobId, idempotencyKey: request.idempotencyKey, result }, delayMs);
    const when = delayMs === 0 ? 'at once' : `in about ${delayMs >= 1000 ? `${Math.round(delayMs / 100) / 10} s` : `${delayMs} ms`}`;
    return {
      kind: 'accepted',
      message: `Simulator: "${request.operation}" handed to the simulated supplier portal; it answers ${when}.`,
    };
  }
}
