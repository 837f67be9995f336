import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import type { AppConfig } from '../../config/config.js';
import { recentTraces } from '../../tracing/traceQueries.js';
import { HttpError } from '../http/httpErrors.js';
import { readRawBody } from '../http/readJsonBody.js';
import { sendJson } from '../http/respond.js';
import { parseDuration, type Handler, type RouteInstaller } from '../server.js';
import { CONTENT_TYPES, PAGE_CSP, STATIC_DIR, packageRoot, securityHeaders, sendStaticFile } from '../webchat/assets.js';
import { channelThroughput, dashboardRange, intentMix, jobsPanel, latencySeries, overview, type DashboardRange } from './queries.js';
import { DashboardSessions } from './session.js';
import { fitWindow, oldestTurnAt } from './fitWindow.js';
import type { Admission } from '../http/admission.js';

/**
 * GET /dashboard and the JSON behind it (/api/dashboard/*). Access is the server's one operator
 * guard (src/bot/http/operatorGuard.ts: bearer ADMIN_TOKEN or the sign-in form's session cookie;
 * without ADMIN_TOKEN a loopback-bound server and a loopback Host header).
 */
export interface DashboardDeps {
  config: Pick<AppConfig, 'host' | 'adminToken'>;
  dataSource: DataSource;
  /** The server's operator guard (http/operatorGuard.ts); it accepts `sessions.verify` too. */
  isOperator: (req: IncomingMessage) => boolean;
  /** Present when ADMIN_TOKEN is set. */
  sessions?: DashboardSessions;
  /** This process's turn admission figures (http/admission.ts), shown as key figures. */
  admission?: () => ReturnType<Admission['stats']>;
  now?: () => Date;
}

const DEFAULT_WINDOW_MS = 24 * 60 * 60_000;

export function createDashboardRoutes(deps: DashboardDeps): RouteInstaller {
  const now = deps.now ?? (() => new Date());
  const allowed = deps.isOperator;
  const guarded =
    (handler: Handler): Handler =>
    async (req, res) => {
      if (!allowed(req)) throw new HttpError(403, 'forbidden', 'Operator access required.');
      res.setHeader('cache-control', 'no-store');
      await handler(req, res);
    };
  const page = (name: string) => ({ path: join(STATIC_DIR, 'dashboard', name), contentType: CONTENT_TYPES.html, csp: PAGE_CSP });
  const asset = (name: string, contentType: string) => ({ path: join(STATIC_DIR, 'dashboard', name), contentType });
  const uplot = packageRoot('uplot');

  const rangeOf = (req: IncomingMessage): DashboardRange => {
    const params = new URL(req.url ?? '/', 'http://localhost').searchParams;
    const windowRaw = params.get('window');
    const windowMs = windowRaw === null ? DEFAULT_WINDOW_MS : parseDuration(windowRaw);
    if (windowMs === undefined) throw new HttpError(400, 'invalid_parameter', 'window must look like 15m, 24h or 7d (max 30d).');
    const bucketRaw = params.get('bucket');
    const bucketMs = bucketRaw === null ? undefined : parseDuration(bucketRaw);
    if (bucketMs === undefined && bucketRaw !== null) throw new HttpError(400, 'invalid_parameter', 'bucket must look like 1m, 15m or 1h.');
    try {
      return dashboardRange(windowMs, now(), bucketMs);
    } catch (err) {
      throw new HttpError(400, 'invalid_parameter', (err as Error).message);
    }
  };

  return (server, { safe }) => {
    server.get(
      '/dashboard',
      safe(async (req, res) => {
        if (allowed(req)) return sendStaticFile(res, page('index.html'));
        if (deps.sessions) return sendStaticFile(res, page('login.html'), 401);
        throw new HttpError(403, 'forbidden', 'Operator access required.');
      }),
    );
    server.get('/dashboard/app.js', safe(async (_req, res) => sendStaticFile(res, asset('app.js', CONTENT_TYPES.js))));
    server.get('/dashboard/app.css', safe(async (_req, res) => sendStaticFile(res, asset('app.css', CONTENT_TYPES.css))));
    server.get('/dashboard/login.js', safe(async (_req, res) => sendStaticFile(res, asset('login.js', CONTENT_TYPES.js))));
    server.get(
      '/dashboard/vendor/uPlot.iife.min.js',
      safe(async (_req, res) => sendStaticFile(res, { path: join(uplot, 'dist', 'uPlot.iife.min.js'), contentType: CONTENT_TYPES.js, immutable: true })),
    );
    server.get(
      '/dashboard/vendor/uPlot.min.css',
      safe(async (_req, res) => sendStaticFile(res, { path: join(uplot, 'dist', 'uPlot.min.css'), contentType: CONTENT_TYPES.css, immutable: true })),
    );
    server.post(
      '/dashboard/login',
      safe(async (req, res) => {
        if (!deps.sessions) throw new HttpError(404, 'not_found', 'No sign-in on this server (set ADMIN_TOKEN).');
        const form = new URLSearchParams((await readRawBody(req, 4096)).toString('utf8'));
        const token = form.get('token') ?? '';
        if (!deps.sessions.tokenMatches(token)) return redirect(res, '/dashboard?signin=failed');
        const secure = String(req.headers['x-forwarded-proto'] ?? '').startsWith('https') || 'encrypted' in req.socket;
        res.setHeader('set-cookie', deps.sessions.cookie(deps.sessions.issue(), secure));
        redirect(res, '/dashboard');
      }),
    );
    server.post(
      '/dashboard/logout',
      safe(async (_req, res) => {
        res.setHeader('set-cookie', DashboardSessions.clearCookie());
        redirect(res, '/dashboard');
      }),
    );

    const api = (path: string, handler: (req: IncomingMessage) => Promise<unknown>) =>
      server.get(
        `/api/dashboard/${path}`,
        safe(guarded(async (req, res) => sendJson(res, 200, await handler(req)))),
      );
    api('overview', (req) => overview(deps.dataSource, rangeOf(req)));
    api('latency', (req) => latencySeries(deps.dataSource, rangeOf(req)));
    api('channels', (req) => channelThroughput(deps.dataSource, rangeOf(req)));
    api('intents', async (req) => ({ intents: await intentMix(deps.dataSource, rangeOf(req)) }));
    api('jobs', (req) => jobsPanel(deps.dataSource, rangeOf(req)));
    // What the page needs before it asks for data: the window that fits the data, whether a
    // sign-in is in use (no "Sign out" without one), and the admission figures.
    api('context', async (req) => {
      const oldest = await oldestTurnAt(deps.dataSource);
      return {
        window: fitWindow(oldest, now()),
        oldestTurnAt: oldest?.toISOString() ?? null,
        signedIn: deps.sessions?.verify(req) ?? false,
        admission: deps.admission?.() ?? null,
      };
    });
    api('recent', async (req) => {
      const raw = new URL(req.url ?? '/', 'http://localhost').searchParams.get('limit');
      const limit = raw === null ? 25 : Number(raw);
      if (!Number.isInteger(limit) || limit < 1 || limit > 200) throw new HttpError(400, 'invalid_parameter', 'limit must be 1 to 200.');
      return { turns: await recentTraces(deps.dataSource, limit) };
    });
  };
}

function redirect(res: ServerResponse, location: string): void {
  securityHeaders(res);
  res.writeHead(303, { location, 'content-length': '0', 'cache-control': 'no-store' });
  res.end();
}
