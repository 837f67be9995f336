import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isLoopbackHost, type AppConfig } from '../../config/config.js';

/**
 * The one check every operator route uses (/api/traces, /api/traces/summary, /metrics, /dashboard,
 * /api/dashboard/*): traces and metrics name users and conversations, so
 *
 * - with ADMIN_TOKEN set: `Authorization: Bearer <ADMIN_TOKEN>`, or the dashboard's session cookie
 *   (a browser cannot send a bearer header on navigation);
 * - without it: only on a loopback-bound server, and only when the request's Host header is a
 *   loopback name too — a web page on another site that re-points its own name at 127.0.0.1 (DNS
 *   rebinding) reaches the socket, but its requests carry its own name in Host.
 */
export type OperatorGuard = (req: IncomingMessage) => boolean;

export interface SessionVerifier {
  verify(req: IncomingMessage): boolean;
}

export function createOperatorGuard(config: Pick<AppConfig, 'host' | 'adminToken'>, sessions?: SessionVerifier): OperatorGuard {
  if (config.adminToken) {
    const expected = sha256(`Bearer ${config.adminToken}`);
    return (req) => timingSafeEqual(sha256(String(req.headers.authorization ?? '')), expected) || (sessions?.verify(req) ?? false);
  }
  const loopbackBound = isLoopbackHost(config.host);
  return (req) => loopbackBound && hostHeaderIsLoopback(req);
}

/** True when the request's Host header names a loopback host (the DNS-rebinding guard). */
export function hostHeaderIsLoopback(req: IncomingMessage): boolean {
  const host = String(req.headers.host ?? '');
  const match = /^(\[[^\]]+\]|[^:]+)(?::\d+)?$/.exec(host);
  return match?.[1] !== undefined && isLoopbackHost(match[1]);
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
