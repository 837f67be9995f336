import type { Connector, ConnectorRequest, DispatchResult } from './types.js';
import { PermanentConnectorError } from './types.js';
import { SIGNATURE_HEADER, sign, signedHeaders } from './signature.js';
import type { ConnectorResult } from '../types.js';

export interface WebhookOptions {
  url: string;
  secret: string;
  timeoutMs: number;
  fetch?: typeof fetch;
}

/**
 * POSTs each job step as JSON to one URL (UiPath Orchestrator, Power Automate HTTP trigger, n8n
 * webhook, …) signed with `X-RPA-Timestamp` + `X-RPA-Signature: v1=HMAC(secret, jobId.timestamp.body)`
 * (and the older body-only `X-Signature-256`), with an `Idempotency-Key` derived from the business
 * operation (e.g. `file:CD-3101`), the same on every retry. Results come back on the job's
 * `callbackUrl`, signed the same way (docs/rpa-callbacks.md).
 * - 2xx with `{"status":"succeeded"|"failed", …}`: the step is done (synchronous tools);
 * - other 2xx (typically 202): accepted; the result comes to `callbackUrl` later;
 * - 408, 429, 5xx, network errors, timeouts: retried with backoff, then dead-lettered;
 * - other 4xx: the request is wrong; failed at once.
 */
export class WebhookConnector implements Connector {
  readonly name = 'webhook';
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: WebhookOptions) {
    this.fetchImpl = options.fetch ?? fetch;
  }

  async dispatch(request: ConnectorRequest): Promise<DispatchResult> {
    const body = JSON.stringify({
      jobId: request.jobId,
      action: request.action,
      operation: request.operation,
      idempotencyKey: request.idempotencyKey,
      callbackUrl: request.callbackUrl,
      attempt: request.attempt,
      requestedBy: request.requestedBy,
      payload: request.payload,
    });
    let response: Response;
    try {
      response = await this.fetchImpl(this.options.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'idempotency-key': request.idempotencyKey,
          // v1 binds job and time (what callbacks must carry too); the body-only one stays for older RPA flows.
          ...signedHeaders(this.options.secret, request.jobId, body),
          [SIGNATURE_HEADER]: sign(this.options.secret, body),
          'user-agent': 'rpa-assistant',
        },
        body,
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (err) {
      throw new Error(`webhook unreachable: ${err instanceof Error ? err.message : String(err)}`);
    }
    const text = await response.text().catch(() => '');
    if (response.status === 408 || response.status === 429 || response.status >= 500) {
      throw new Error(`webhook answered HTTP ${response.status}`);
    }
    if (response.status >= 300) {
      throw new PermanentConnectorError(`webhook refused the job: HTTP ${response.status}`);
    }
    const sync = parseResult(text);
    if (sync) return { kind: 'completed', result: sync };
    return { kind: 'accepted', message: `Handed to the RPA tool (HTTP ${response.status}); waiting for its callback.` };
  }
}

/** A body that reports a finished step; anything else means "accepted". */
export function parseResult(text: string): ConnectorResult | undefined {
  if (!text) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!json || typeof json !== 'object') return undefined;
  const o = json as Record<string, unknown>;
  if (o.status !== 'succeeded' && o.status !== 'failed') return undefined;
  return {
    status: o.status,
    data: o.data && typeof o.data === 'object' ? (o.data as Record<string, unknown>) : undefined,
    error: typeof o.error === 'string' ? o.error.slice(0, 2000) : undefined,
  };
}
