import type { IncomingMessage, ServerResponse } from 'node:http';
import restify from 'restify';
import type { Logger } from '../logger.js';
import type { ShutdownDrain } from './http/drain.js';
import { HttpError } from './http/httpErrors.js';
import { sendError, sendJson } from './http/respond.js';

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, unknown>;
}

export interface TraceApi {
  recent(limit: number): Promise<unknown[]>;
  summary(windowMs: number): Promise<unknown>;
}

export interface HttpServerDeps {
  logger: Logger;
  messages: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  readiness: () => Promise<ReadinessReport>;
  traces: TraceApi;
  /** Guards operator endpoints; returns false to refuse. */
  isOperator: (req: IncomingMessage) => boolean;
  /** More routes (web chat, dashboard…), installed after the built-in ones with the same guards. */
  routes?: RouteInstaller[];
  /** Prometheus exposition for GET /metrics (operator endpoint); absent → no route. */
  metrics?: MetricsSource;
  /** Graceful shutdown: refuses new turns and closes keep-alive connections once it begins. */
  drain?: ShutdownDrain;
}

export interface MetricsSource {
  contentType: string;
  text(): Promise<string>;
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export interface RouteHelpers {
  /** Wraps a handler so no error reaches restify (HttpError → its status; anything else → 500). */
  safe: (handler: Handler) => (req: restify.Request, res: restify.Response) => Promise<void>;
  /** Refuses (403) unless the request passes the operator check. */
  operatorOnly: (handler: Handler) => Handler;
}

export type RouteInstaller = (server: restify.Server, helpers: RouteHelpers) => void;

/**
 * The restify server and its routes. Handlers never let an error reach restify: its default
 * formatter would put the error message in the response.
 */
export function createHttpServer(deps: HttpServerDeps): restify.Server {
  const server = restify.createServer({ name: 'rpa-assistant', handleUncaughtExceptions: false });
  // First of all `pre` handlers: a draining server refuses a turn before admission or routing.
  const drain = deps.drain;
  if (drain) server.pre(drain.pre);
  const safe =
    (handler: Handler) =>
    async (req: restify.Request, res: restify.Response): Promise<void> => {
      try {
        await handler(req, res);
      } catch (err) {
        if (err instanceof HttpError) {
          sendError(res, err.status, err.code, err.publicMessage);
          return;
        }
        deps.logger.error({ err, url: req.url }, 'unhandled error in route');
        sendError(res, 500, 'internal_error', 'Internal error.');
      }
    };
  const operatorOnly =
    (handler: Handler): Handler =>
    async (req, res) => {
      if (!deps.isOperator(req)) throw new HttpError(403, 'forbidden', 'Operator access required.');
      await handler(req, res);
    };

  server.post('/api/messages', safe(deps.messages));
  server.get('/healthz', safe(async (_req, res) => sendJson(res, 200, { status: 'ok' })));
  server.get(
    '/readyz',
    safe(async (_req, res) => {
      // A draining server is not ready: load balancers stop sending before it goes away.
      if (drain?.isDraining) return sendJson(res, 503, { ready: false, checks: { draining: true } });
      const report = await deps.readiness();
      sendJson(res, report.ready ? 200 : 503, report);
    }),
  );
  server.get(
    '/api/traces',
    safe(
      operatorOnly(async (req, res) => {
        const limit = intParam(req, 'limit', 50, 1, 1000);
        sendJson(res, 200, { traces: await deps.traces.recent(limit) });
      }),
    ),
  );
  server.get(
    '/api/traces/summary',
    safe(
      operatorOnly(async (req, res) => {
        const windowMs = durationParam(req, 'window', 15 * 60_000);
        sendJson(res, 200, await deps.traces.summary(windowMs));
      }),
    ),
  );
  const metrics = deps.metrics;
  if (metrics) {
    server.get(
      '/metrics',
      safe(
        operatorOnly(async (_req, res) => {
          const body = await metrics.text();
          res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' });
          res.end(body);
        }),
      ),
    );
  }
  for (const install of deps.routes ?? []) install(server, { safe, operatorOnly });
  return server;
}

function query(req: IncomingMessage): URLSearchParams {
  return new URL(req.url ?? '/', 'http://localhost').searchParams;
}

function intParam(req: IncomingMessage, name: string, fallback: number, min: number, max: number): number {
  const raw = query(req).get(name);
  if (raw === null) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new HttpError(400, 'invalid_parameter', `${name} must be an integer from ${min} to ${max}.`);
  }
  return n;
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses durations like `90s`, `15m`, `24h`, `7d` (at most 30 days). */
export function parseDuration(raw: string): number | undefined {
  const match = /^(\d{1,6})([smhd])$/.exec(raw.trim());
  if (!match) return undefined;
  const ms = Number(match[1]) * (UNIT_MS[match[2] as string] ?? 0);
  return ms > 0 && ms <= 30 * 86_400_000 ? ms : undefined;
}

function durationParam(req: IncomingMessage, name: string, fallback: number): number {
  const raw = query(req).get(name);
  if (raw === null) return fallback;
  const ms = parseDuration(raw);
  if (ms === undefined) throw new HttpError(400, 'invalid_parameter', `${name} must look like 30s, 15m, 24h or 7d (max 30d).`);
  return ms;
}
