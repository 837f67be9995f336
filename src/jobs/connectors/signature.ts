import { createHmac, timingSafeEqual } from 'node:crypto';

/** Header carrying the HMAC of the raw body, both ways: `X-Signature-256: sha256=<hex>`. */
export const SIGNATURE_HEADER = 'x-signature-256';

/** `sha256=<hex HMAC-SHA256(secret, body)>`. */
export function sign(secret: string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Constant-time check of a signature header against the raw body. */
export function verifySignature(secret: string, body: Buffer, header: string | string[] | undefined): boolean {
  if (typeof header !== 'string') return false;
  const expected = Buffer.from(sign(secret, body));
  const given = Buffer.from(header.trim());
  // timingSafeEqual needs equal lengths; comparing against itself keeps the time the same.
  if (given.length !== expected.length) {
    timingSafeEqual(expected, expected);
    return false;
  }
  return timingSafeEqual(given, expected);
}
