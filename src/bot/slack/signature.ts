import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Slack's request signing (https://api.slack.com/authentication/verifying-requests-from-slack):
 * `x-slack-signature: v0=<hex HMAC-SHA256(signing secret, "v0:{x-slack-request-timestamp}:{raw body}")>`.
 * The body is the raw bytes as received, before any parsing. A timestamp more than five minutes
 * from now (either way) is refused, so a captured request cannot be replayed later.
 */
export type SignatureCheck =
  | { ok: true }
  | { ok: false; reason: 'missing_headers' | 'bad_timestamp' | 'stale_timestamp' | 'bad_signature' };

export interface SlackSignatureOptions {
  /** Largest accepted |now − timestamp|, seconds (Slack's guidance: 300). */
  toleranceSeconds?: number;
  /** Clock (ms since the epoch); tests move it. */
  now?: () => number;
}

const VERSION = 'v0';

export class SlackSignatureVerifier {
  private readonly toleranceSeconds: number;
  private readonly now: () => number;

  constructor(
    private readonly signingSecret: string,
    options: SlackSignatureOptions = {},
  ) {
    if (!signingSecret) throw new Error('SlackSignatureVerifier: empty signing secret');
    this.toleranceSeconds = options.toleranceSeconds ?? 300;
    this.now = options.now ?? Date.now;
  }

  /** The `x-slack-signature` value for this timestamp and body (what Slack sends; tests sign with it). */
  sign(timestamp: string | number, rawBody: Buffer | string): string {
    const hmac = createHmac('sha256', this.signingSecret);
    hmac.update(`${VERSION}:${timestamp}:`);
    hmac.update(typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody);
    return `${VERSION}=${hmac.digest('hex')}`;
  }

  verify(rawBody: Buffer, headers: { timestamp?: string | string[]; signature?: string | string[] }): SignatureCheck {
    const timestamp = single(headers.timestamp);
    const signature = single(headers.signature);
    if (timestamp === undefined || signature === undefined) return { ok: false, reason: 'missing_headers' };
    if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'bad_timestamp' };
    if (Math.abs(this.now() / 1000 - Number(timestamp)) > this.toleranceSeconds) return { ok: false, reason: 'stale_timestamp' };
    const expected = Buffer.from(this.sign(timestamp, rawBody), 'utf8');
    const given = Buffer.from(signature, 'utf8');
    // timingSafeEqual throws on different lengths: compare lengths first (a length is no secret).
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad_signature' };
    return { ok: true };
  }
}

function single(value: string | string[] | undefined): string | undefined {
  if (Array.isArray(value)) return value.length === 1 ? value[0] : undefined;
  return value;
}
