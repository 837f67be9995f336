import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const SESSION_COOKIE = 'rpa_dashboard';
const DEFAULT_TTL_MS = 12 * 60 * 60_000;

/**
 * Browser sessions for the dashboard on a server with ADMIN_TOKEN: a browser cannot send a bearer
 * header on navigation, so the sign-in form trades the token for a cookie. The cookie holds an
 * expiry and an HMAC of it keyed by the admin token — stateless, never the token itself, invalid
 * once it expires or the token changes. HttpOnly + SameSite=Strict (no cross-site use).
 */
export class DashboardSessions {
  private readonly key: Buffer;
  private readonly tokenHash: Buffer;

  constructor(
    adminToken: string,
    readonly ttlMs = DEFAULT_TTL_MS,
  ) {
    this.key = createHmac('sha256', adminToken).update('rpa-assistant dashboard session v1').digest();
    this.tokenHash = sha256(adminToken);
  }

  /** Constant-time check of a submitted admin token. */
  tokenMatches(given: string): boolean {
    return timingSafeEqual(sha256(given), this.tokenHash);
  }

  issue(now = Date.now()): string {
    const expires = String(now + this.ttlMs);
    return `${expires}.${this.sign(expires)}`;
  }

  verify(req: IncomingMessage, now = Date.now()): boolean {
    const value = readCookie(req, SESSION_COOKIE);
    const match = value === undefined ? null : /^(\d{1,15})\.([A-Za-z0-9_-]{43})$/.exec(value);
    if (!match?.[1] || !match[2]) return false;
    if (Number(match[1]) <= now) return false;
    const expected = Buffer.from(this.sign(match[1]));
    const given = Buffer.from(match[2]);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /** Set-Cookie value; `secure` when the browser reached us over HTTPS (directly or via a proxy). */
  cookie(value: string, secure: boolean): string {
    return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${Math.floor(this.ttlMs / 1000)}${secure ? '; Secure' : ''}`;
  }

  static clearCookie(): string {
    return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;
  }

  private sign(expires: string): string {
    return createHmac('sha256', this.key).update(expires).digest('base64url');
  }
}

export function readCookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of String(req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
