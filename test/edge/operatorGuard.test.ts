/**
 * One operator guard for every operator route (issue 13, item 2): traces, summaries, metrics, the
 * dashboard and its JSON answer 403 to a foreign Host header (DNS rebinding) on the open loopback
 * server, and open with the admin token when one is set.
 *
 * The routes are enumerated from the running server, not listed here: every route that is not on
 * the PUBLIC list below (each with the reason it may answer anyone) must refuse a foreign Host, so
 * a new operator route cannot be forgotten — it fails this test until it is guarded.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApp } from '../../src/app.js';
import { createOperatorGuard } from '../../src/bot/http/operatorGuard.js';
import { freshPgliteDataDir } from '../helpers/databases.js';
import { startTestApp } from '../helpers/testApp.js';

/** Routes anyone may call, and why; everything else is an operator route. */
const PUBLIC: Record<string, string> = {
  'POST /api/messages': 'channels (Bot Framework JWT when configured; edge checks)',
  'GET /healthz': 'liveness, no data',
  'GET /readyz': 'readiness, no user data',
  'POST /api/automations/:id/callback': 'RPA callback, HMAC-signed',
  'GET /files/:token': 'export download by unguessable link',
  'GET /': 'web chat page',
  'GET /webchat': 'web chat page',
  'GET /webchat/app.js': 'static',
  'GET /webchat/app.css': 'static',
  'GET /webchat/vendor/webchat.js': 'static',
  'GET /webchat/files/:fileId': 'upload by unguessable id',
  'POST /v3/directline/tokens/generate': 'web chat token (WEBCHAT_TOKEN or loopback Host)',
  'POST /v3/directline/tokens/refresh': 'conversation token',
  'POST /v3/directline/conversations': 'conversation token / start rules',
  'GET /v3/directline/conversations/:conversationId': 'conversation token',
  'GET /v3/directline/session/getsessionid': 'conversation token',
  'GET /v3/directline/conversations/:conversationId/activities': 'conversation token',
  'POST /v3/directline/conversations/:conversationId/activities': 'conversation token',
  'POST /v3/directline/conversations/:conversationId/upload': 'conversation token',
  'POST /webchat/connector/:secret/v3/conversations/:conversationId/activities': 'secret path',
  'POST /webchat/connector/:secret/v3/conversations/:conversationId/activities/:activityId': 'secret path',
  'PUT /webchat/connector/:secret/v3/conversations/:conversationId/activities/:activityId': 'secret path',
  'GET /dashboard/app.js': 'static',
  'GET /dashboard/app.css': 'static',
  'GET /dashboard/login.js': 'static',
  'GET /dashboard/vendor/uPlot.iife.min.js': 'static',
  'GET /dashboard/vendor/uPlot.min.css': 'static',
  'POST /dashboard/login': 'sign-in form (needs the admin token)',
  'POST /dashboard/logout': 'clears the cookie',
};

/** Operator routes this test must find on the server (so the enumeration itself cannot come back empty). */
const KNOWN_OPERATOR = ['GET /api/traces', 'GET /api/traces/summary', 'GET /metrics', 'GET /dashboard', 'GET /api/dashboard/overview'];

function send(url: string, method: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

const concrete = (path: string) => path.replace(/:[A-Za-z]+/g, 'x');

function operatorRoutes(app: RunningApp): { method: string; path: string; key: string }[] {
  return app
    .routes()
    .map((r) => ({ ...r, key: `${r.method} ${r.path}` }))
    .filter((r) => !(r.key in PUBLIC));
}

describe('operator routes on the open loopback server', () => {
  let app: RunningApp;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await freshPgliteDataDir();
    app = await startTestApp({ DATA_DIR: dataDir });
  });

  afterAll(async () => {
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('finds the operator routes on the server', () => {
    const keys = operatorRoutes(app).map((r) => r.key);
    for (const known of KNOWN_OPERATOR) expect(keys).toContain(known);
  });

  it('every operator route answers 403 to a foreign Host, without data', async () => {
    for (const route of operatorRoutes(app)) {
      for (const host of ['evil.example', `evil.example:${app.port}`, `127.0.0.1.evil.example:${app.port}`]) {
        const res = await send(`${app.url}${concrete(route.path)}`, route.method, { host });
        expect(res.status, `${route.key} with Host ${host}`).toBe(403);
        expect(res.body).not.toMatch(/conversationId|userId|process_cpu/);
      }
    }
  });

  it('the same routes answer a loopback Host (the guard is not simply closed)', async () => {
    for (const route of operatorRoutes(app)) {
      for (const host of [`127.0.0.1:${app.port}`, `localhost:${app.port}`]) {
        const res = await send(`${app.url}${concrete(route.path)}`, route.method, { host });
        expect(res.status, `${route.key} with Host ${host}`).not.toBe(403);
      }
    }
  });
});

describe('operator routes with ADMIN_TOKEN', () => {
  const ADMIN_TOKEN = 'edge-admin-token-0123456789';
  let app: RunningApp;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await freshPgliteDataDir();
    app = await startTestApp({ DATA_DIR: dataDir }, { ADMIN_TOKEN });
  });

  afterAll(async () => {
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses every operator route without the token (any Host), opens it with the token (any Host)', async () => {
    const routes = operatorRoutes(app);
    expect(routes.length).toBeGreaterThanOrEqual(KNOWN_OPERATOR.length);
    for (const route of routes) {
      const url = `${app.url}${concrete(route.path)}`;
      for (const host of ['evil.example', `127.0.0.1:${app.port}`]) {
        const refused = await send(url, route.method, { host });
        // GET /dashboard answers its sign-in form (401); everything else 403.
        expect([401, 403], `${route.key} Host ${host} without token`).toContain(refused.status);
        expect(refused.body).not.toMatch(/conversationId|userId|process_cpu/);
        const wrong = await send(url, route.method, { host, authorization: `Bearer ${ADMIN_TOKEN}x` });
        expect([401, 403], `${route.key} with a wrong token`).toContain(wrong.status);
        const opened = await send(url, route.method, { host, authorization: `Bearer ${ADMIN_TOKEN}` });
        expect([401, 403], `${route.key} Host ${host} with the token`).not.toContain(opened.status);
      }
    }
  });
});

describe('the guard itself', () => {
  const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

  it('needs a loopback bind and a loopback Host without a token', () => {
    const open = createOperatorGuard({ host: '127.0.0.1' });
    expect(open(req({ host: '127.0.0.1:3978' }))).toBe(true);
    expect(open(req({ host: 'localhost' }))).toBe(true);
    expect(open(req({ host: '[::1]:3978' }))).toBe(true);
    expect(open(req({ host: 'evil.example' }))).toBe(false);
    expect(open(req({ host: 'localhost.evil.example' }))).toBe(false);
    expect(open(req({}))).toBe(false);
    // A server bound elsewhere (only possible with MicrosoftAppId) has no open operator routes.
    expect(createOperatorGuard({ host: '0.0.0.0' })(req({ host: '127.0.0.1:3978' }))).toBe(false);
  });

  it('with a token: the exact bearer token or a valid session, whatever the Host', () => {
    const sessions = { verify: (r: IncomingMessage) => r.headers.cookie === 'ok' };
    const guard = createOperatorGuard({ host: '127.0.0.1', adminToken: 'token-0123456789abcdef' }, sessions);
    expect(guard(req({ host: 'evil.example', authorization: 'Bearer token-0123456789abcdef' }))).toBe(true);
    expect(guard(req({ host: 'evil.example', cookie: 'ok' }))).toBe(true);
    expect(guard(req({ host: '127.0.0.1', authorization: 'Bearer token-0123456789abcdeX' }))).toBe(false);
    expect(guard(req({ host: '127.0.0.1' }))).toBe(false);
  });
});
