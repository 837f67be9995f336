import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { Log } from '../db/log.js';
import { HttpError } from '../bot/http/httpErrors.js';
import { readRawBody } from '../bot/http/readJsonBody.js';
import { sendError, sendJson } from '../bot/http/respond.js';
import { verifyV1 } from './connectors/signature.js';
import type { ConnectorResult } from './types.js';

export interface CallbackDeps {
  /** HMAC secret shared with the RPA side; unset → the route answers 404. */
  secret?: string;
  maxBodyBytes: number;
  logger: Log;
  complete(jobId: number, result: ConnectorResult, source: string): Promise<'applied' | 'duplicate' | 'not_found'>;
  /** The clock the timestamp window is checked against (tests). */
  now?: () => number;
}

const callbackBody = z.object({
  jobId: z.union([z.number().int(), z.string().regex(/^\d{1,15}$/)]),
  status: z.enum(['succeeded', 'failed']),
  data: z.record(z.string(), z.unknown()).optional(),
  error: z.string().max(2000).optional(),
});

/**
 * POST /api/automations/:id/callback — the RPA tool reports a job's result (docs/rpa-callbacks.md).
 *
 * - `X-RPA-Timestamp: <unix s>` and `X-RPA-Signature: v1=<hex HMAC-SHA256(secret, "<id>.<ts>.<raw body>")>`
 *   where `<id>` is the job id of THIS url: checked in constant time before the body is parsed.
 *   Missing/bad → 401; a timestamp more than 5 minutes off → 401; a body signed for another job → 401.
 * - The body's `jobId` is required and must equal the url's (else 401 `job_mismatch`).
 * - Only the first result of a job is applied (the job row is locked and must not be final); a
 *   replay or any later result → 409 `already_applied`, with no change. Exception: a job that ended
 *   without a result (deadline, retries spent) takes one late result if its handler still has a
 *   use for it (`JobHandler.late`) → 200; a repeat of that → 409.
 */
export function createCallbackHandler(deps: CallbackDeps) {
  const now = deps.now ?? (() => Date.now());
  return async (req: IncomingMessage & { params?: Record<string, string> }, res: ServerResponse): Promise<void> => {
    try {
      if (!deps.secret) throw new HttpError(404, 'not_found', 'Automation callbacks are not enabled.');
      const rawId = req.params?.id ?? /\/api\/automations\/([^/]+)\/callback/.exec(req.url ?? '')?.[1] ?? '';
      const jobId = /^\d{1,15}$/.test(rawId) ? Number(rawId) : NaN;
      if (!Number.isSafeInteger(jobId) || jobId <= 0) {
        req.resume();
        throw new HttpError(404, 'not_found', 'No such job.');
      }
      const raw = await readRawBody(req, deps.maxBodyBytes);
      const check = verifyV1(deps.secret, jobId, raw, req.headers, now());
      if (!check.ok) {
        deps.logger.warn({ jobId, code: check.code }, 'automation callback rejected: signature');
        throw new HttpError(401, check.code, check.message);
      }
      let parsed;
      try {
        parsed = callbackBody.safeParse(JSON.parse(raw.toString('utf8')));
      } catch {
        throw new HttpError(400, 'invalid_json', 'Request body is not valid JSON.');
      }
      if (!parsed.success) {
        throw new HttpError(400, 'invalid_body', 'Expected {"jobId": <this job>, "status": "succeeded"|"failed", "data"?: {…}, "error"?: "…"}.');
      }
      if (Number(parsed.data.jobId) !== jobId) {
        deps.logger.warn({ jobId, bodyJobId: parsed.data.jobId }, 'automation callback rejected: job id mismatch');
        throw new HttpError(401, 'job_mismatch', 'jobId in the body does not match the job of this URL.');
      }
      const { status, data, error } = parsed.data;
      const outcome = await deps.complete(jobId, { status, data, error }, 'callback');
      if (outcome === 'not_found') throw new HttpError(404, 'not_found', 'No such job.');
      if (outcome === 'duplicate') {
        throw new HttpError(409, 'already_applied', `Job ${jobId} already has its result; this callback changed nothing.`);
      }
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
