import type { IncomingMessage } from 'node:http';
import { HttpError } from './httpErrors.js';

/**
 * What the HTTP edge accepts on the turn routes (issue 13, item 1). A page on another site, open in
 * the same browser as a local trial, can POST to the loopback server: with `text/plain` or a form
 * body and `mode: 'no-cors'` the browser sends it without asking (no CORS preflight). Two checks
 * close that, before any body is read:
 *
 * - the body must be `application/json` (415 otherwise): a cross-site page cannot send that type
 *   without a preflight, which this server never answers;
 * - a request with an `Origin` header must come from an allowed origin (403 otherwise). Channels
 *   (Bot Framework, Slack, the terminal chat) are servers and send none; browsers always send one
 *   on a cross-site POST. The local web chat's page is allowed on its own Direct Line routes.
 */

/** `application/json`, with or without parameters (`; charset=utf-8`). */
export function isJsonContentType(header: string | undefined): boolean {
  const mediaType = (header ?? '').split(';', 1)[0]?.trim().toLowerCase();
  return mediaType === 'application/json';
}

export function requireJsonContentType(req: IncomingMessage): void {
  if (!isJsonContentType(req.headers['content-type'])) {
    throw new HttpError(415, 'unsupported_media_type', 'The request body must be application/json.');
  }
}

export class OriginPolicy {
  private readonly allowed: ReadonlySet<string>;

  constructor(allowedOrigins: readonly string[] = []) {
    this.allowed = new Set(allowedOrigins.map(normalizeOrigin).filter((o): o is string => o !== undefined));
  }

  /**
   * Throws 403 unless the request has no Origin, or an allowed one. `sameOrigin`: the page this
   * server serves itself (Origin's host and port equal the Host header) is allowed too.
   */
  check(req: IncomingMessage, options: { sameOrigin?: boolean } = {}): void {
    const raw = req.headers.origin;
    if (raw === undefined) return;
    const origin = normalizeOrigin(raw);
    if (origin !== undefined && (this.allowed.has(origin) || (options.sameOrigin === true && sameHost(origin, req.headers.host)))) return;
    throw new HttpError(403, 'origin_not_allowed', 'Requests from this origin are not accepted.');
  }
}

/** `scheme://host[:port]` in canonical form (lower case, default port dropped); undefined for `null` and non-URLs. */
function normalizeOrigin(value: string): string | undefined {
  try {
    const url = new URL(value.trim());
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    return url.origin;
  } catch {
    return undefined;
  }
}

function sameHost(origin: string, hostHeader: string | undefined): boolean {
  if (!hostHeader) return false;
  try {
    const scheme = new URL(origin).protocol;
    // The Host header has no scheme: read it with the Origin's, so default ports compare equal.
    return new URL(`${scheme}//${hostHeader}`).host === new URL(origin).host;
  } catch {
    return false;
  }
}
