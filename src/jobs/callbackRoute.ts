import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { Log } from '../db/log.js';
import { HttpError } from '../bot/http/httpErrors.js';
import { readRawBody } from '../bot/http/readJsonBody.js';
import { sendError, sendJson } from '../bot/http/respond.js';
import { SIGNATURE_HEADER, verifySignature } from './connectors/signature.js';
import type { ConnectorResult } from './types.js';

export interface CallbackDeps {
  /** HMAC secret shared with the RPA side; unset → the route answers 404. */
  secret?: string;
  maxBodyBytes: number;
  logger: Log;
  complete(jobId: number, result: ConnectorResult, source: string): Promise<'applied' | 'duplicate' | 'not_found'>;
}

const callbackBody = z.object({
  jobId: z.union([z.number().int(), z.string().regex(/^\d+$/)]).optional(),
  status: z.enum(['succeeded', 'failed']),
  data: z.record(z.string(), z.unknown()).optional(),
  error: z.string().max(2000).optional(),
});

/**
 * POST /api/automations/:id/callback — the RPA tool reports a job's result. The raw body must
 * carry `X-Signature-256: sha256=HMAC-SHA256(WEBHOOK_SECRET, body)` (checked in constant time
 * before anything is parsed); a bad or missing signature is a 401 and changes nothing. Only the
 * first result for a job is applied; repeats answer 200 `duplicate`.
 */
export function createCallbackHandler(deps: CallbackDeps) {
  return async (req: IncomingMessage & { params?: Record<string, string> }, res: ServerResponse): Promise<void> => {
    try {
      if (!deps.secret) throw new HttpError(404, 'not_found', 'Automation callbacks are not enabled.');
      const rawId = req.params?.id ?? /\/api\/automations\/([^/]+)\/callback/.exec(req.url ?? '')?.[1] ?? '';
      const jobId = /^\d{1,15}$/.test(rawId) ? Number(rawId) : NaN;
      const raw = await readRawBody(req, deps.maxBodyBytes);
      if (!verifySignature(deps.secret, raw, req.headers[SIGNATURE_HEADER])) {
        deps.logger.warn({ jobId: rawId }, 'automation callback with a bad signature rejected');
        throw new HttpError(401, 'invalid_signature', 'Signature missing or invalid.');
      }
      if (!Number.isSafeInteger(jobId) || jobId <= 0) throw new HttpError(404, 'not_found', 'No such job.');
      let parsed;
      try {
        parsed = callbackBody.safeParse(JSON.parse(raw.toString('utf8')));
      } catch {
        throw new HttpError(400, 'invalid_json', 'Request body is not valid JSON.');
      }
      if (!parsed.success) throw new HttpError(400, 'invalid_body', 'Expected {"status":"succeeded"|"failed", "data"?, "error"?}.');
      if (parsed.data.jobId !== undefined && Number(parsed.data.jobId) !== jobId) {
        throw new HttpError(400, 'job_mismatch', 'jobId in the body does not match the URL.');
      }
      const { status, data, error } = parsed.data;
      const outcome = await deps.complete(jobId, { status, data, error }, 'callback');
      if (outcome === 'not_found') throw new HttpError(404, 'not_found', 'No such job.');
      sendJson(res, 200, { status: outcome });
    } catch (err) {
      if (err instanceof HttpError) {
        sendError(res, err.status, err.code, err.publicMessage);
        return;
      }
      deps.logger.error({ err }, 'automation callback failed');
      sendError(res, 500, 'internal_error', 'Internal error.');
    }
  };
}
