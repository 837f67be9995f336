import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Request signing between this server and the RPA side (docs/rpa-callbacks.md).
 *
 * v1, used for callbacks and added to every outgoing step: `X-RPA-Signature: v1=<hex>` where hex is
 * HMAC-SHA256(secret, `<jobId>.<X-RPA-Timestamp>.<raw body>`). Binding the job id and the time
 * into the MAC means a signed callback for one job can't be applied to another job, and a captured
 * one stops working after TIMESTAMP_TOLERANCE_S.
 *
 * Legacy: `X-Signature-256: sha256=<hex HMAC(secret, body)>` is still sent on outgoing steps for RPA
 * tools that verify it, but is no longer accepted on callbacks (it binds neither job nor time).
 */

export const TIMESTAMP_HEADER = 'x-rpa-timestamp';
export const V1_SIGNATURE_HEADER = 'x-rpa-signature';
/** How far a callback's timestamp may be from our clock, either way. */
export const TIMESTAMP_TOLERANCE_S = 300;

/** Header carrying the legacy body-only HMAC on outgoing steps: `X-Signature-256: sha256=<hex>`. */
export const SIGNATURE_HEADER = 'x-signature-256';

/** `sha256=<hex HMAC-SHA256(secret, body)>` (legacy, outgoing only). */
export function sign(secret: string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Constant-time check of a legacy signature header against the raw body. */
export function verifySignature(secret: string, body: Buffer, header: string | string[] | undefined): boolean {
  if (typeof header !== 'string') return false;
  return constantTimeEqual(header.trim(), sign(secret, body));
}

/** The string the v1 HMAC covers: `<jobId>.<timestamp>.<raw body>`. */
export function canonicalString(jobId: number | string, timestamp: number | string, body: Buffer | string): Buffer {
  return Buffer.concat([Buffer.from(`${jobId}.${timestamp}.`, 'utf8'), typeof body === 'string' ? Buffer.from(body, 'utf8') : body]);
}

/** `v1=<hex HMAC-SHA256(secret, jobId.timestamp.body)>`. */
export function signV1(secret: string, jobId: number | string, timestamp: number | string, body: Buffer | string): string {
  return `v1=${createHmac('sha256', secret).update(canonicalString(jobId, timestamp, body)).digest('hex')}`;
}

/** The headers a signed v1 request carries (callbacks from the RPA side; our outgoing steps). */
export function signedHeaders(secret: string, jobId: number, body: Buffer | string, nowMs = Date.now()): Record<string, string> {
  const timestamp = Math.floor(nowMs / 1000);
  return { [TIMESTAMP_HEADER]: String(timestamp), [V1_SIGNATURE_HEADER]: signV1(secret, jobId, timestamp, body) };
}

export type V1Check =
  | { ok: true; timestamp: number }
  | { ok: false; code: 'missing_signature' | 'invalid_signature' | 'stale_timestamp'; message: string };

/**
 * Verifies a v1 signature for `jobId` (the job of the URL the request came to): headers present and
 * well formed, the MAC right (constant time), then the timestamp within the window. The MAC is
 * checked before the window so an attacker learns nothing about our clock from unsigned requests.
 */
export function verifyV1(
  secret: string,
  jobId: number,
  body: Buffer,
  headers: Record<string, string | string[] | undefined>,
  nowMs = Date.now(),
): V1Check {
  const timestamp = headers[TIMESTAMP_HEADER];
  const signature = headers[V1_SIGNATURE_HEADER];
  if (typeof timestamp !== 'string' || typeof signature !== 'string') {
    return { ok: false, code: 'missing_signature', message: `Headers ${TIMESTAMP_HEADER} and ${V1_SIGNATURE_HEADER} are required (see docs/rpa-callbacks.md).` };
  }
  if (!/^\d{1,12}$/.test(timestamp.trim())) {
    return { ok: false, code: 'invalid_signature', message: `${TIMESTAMP_HEADER} must be Unix time in seconds.` };
  }
  const sent = timestamp.trim();
  const ts = Number(sent);
  // Several `v1=` values may be sent (secret rotation): any one that matches will do.
  const given = signature.split(',').map((s) => s.trim());
  const expected = signV1(secret, jobId, sent, body);
  const matches = given.map((g) => constantTimeEqual(g, expected)).some(Boolean);
  if (!matches) return { ok: false, code: 'invalid_signature', message: 'Signature invalid for this job, timestamp and body.' };
  if (Math.abs(nowMs / 1000 - ts) > TIMESTAMP_TOLERANCE_S) {
    return { ok: false, code: 'stale_timestamp', message: `${TIMESTAMP_HEADER} is more than ${TIMESTAMP_TOLERANCE_S} s from the server's clock.` };
  }
  return { ok: true, timestamp: ts };
}

function constantTimeEqual(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  // timingSafeEqual needs equal lengths; comparing against itself keeps the time the same.
  if (a.length !== b.length) {
    timingSafeEqual(b, b);
    return false;
  }
  return timingSafeEqual(a, b);
}
