import { request as httpRequest } from 'node:http';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApp } from '../../src/app.js';
import { DashboardSessions, SESSION_COOKIE } from '../../src/bot/dashboard/session.js';
import { freshPgliteDataDir } from '../helpers/databases.js';
import { makeActivity, post, startTestApp } from '../helpers/testApp.js';

/** Who may see the dashboard and its JSON, and how a browser signs in with ADMIN_TOKEN. */

const ENDPOINTS = ['overview', 'latency', 'channels', 'intents', 'jobs', 'recent'];

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'GET', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('dashboard on an open loopback server', () => {
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

  it('serves the page (strict CSP, uPlot from node_modules) and every JSON endpoint', async () => {
    const page = await fetch(`${app.url}/dashboard`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await page.text();
    expect(html).toContain('/dashboard/vendor/uPlot.iife.min.js');
    expect(html).not.toMatch(/https?:\/\//);
    expect((await fetch(`${app.url}/dashboard/vendor/uPlot.iife.min.js`)).status).toBe(200);
    for (const name of ENDPOINTS) {
      const res = await fetch(`${app.url}/api/dashboard/${name}?window=1h`);
      expect(res.status, name).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
    }
  });

  it('counts turns that arrive over HTTP', async () => {
    const activity = makeActivity({ serviceUrl: 'http://127.0.0.1:65535/', text: 'hi', deliveryMode: 'expectReplies', channelId: 'terminal' });
    expect((await post(`${app.url}/api/messages`, activity)).status).toBe(200);
    await app.traceWriter.flush();
    const o = (await (await fetch(`${app.url}/api/dashboard/overview?window=1h`)).json()) as { current: { turns: number } };
    expect(o.current.turns).toBeGreaterThanOrEqual(1);
    const c = (await (await fetch(`${app.url}/api/dashboard/channels?window=1h`)).json()) as { series: Record<string, number[]> };
    expect(c.series.terminal?.reduce((a, b) => a + b, 0)).toBe(1);
  });

  it('rejects bad parameters with 400', async () => {
    for (const query of ['window=forever', 'window=90d', 'window=1h&bucket=1ms', 'window=30d&bucket=1s']) {
      expect((await fetch(`${app.url}/api/dashboard/latency?${query}`)).status, query).toBe(400);
    }
    expect((await fetch(`${app.url}/api/dashboard/recent?limit=0`)).status).toBe(400);
  });

  it('refuses a non-loopback Host name (DNS rebinding) → 403', async () => {
    const page = await get(`${app.url}/dashboard`, { host: 'attacker.example' });
    expect(page.status).toBe(403);
    const data = await get(`${app.url}/api/dashboard/overview`, { host: 'attacker.example' });
    expect(data.status).toBe(403);
    expect((await get(`${app.url}/api/dashboard/overview`, { host: `localhost:${app.port}` })).status).toBe(200);
  });
});

describe('dashboard with ADMIN_TOKEN', () => {
  const ADMIN_TOKEN = 'admin-token-0123456789abcdef';
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

  const signIn = (token: string) =>
    fetch(`${app.url}/dashboard/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }).toString(),
      redirect: 'manual',
    });

  it('shows the sign-in form and refuses the data without credentials', async () => {
    const page = await fetch(`${app.url}/dashboard`);
    expect(page.status).toBe(401);
    expect(await page.text()).toContain('action="/dashboard/login"');
    for (const name of ENDPOINTS) expect((await fetch(`${app.url}/api/dashboard/${name}`)).status, name).toBe(403);
  });

  it('accepts the bearer token', async () => {
    const res = await fetch(`${app.url}/api/dashboard/overview`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(res.status).toBe(200);
  });

  it('a wrong token sets no cookie', async () => {
    const res = await signIn('not-the-admin-token');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/dashboard?signin=failed');
    expect(res.headers.get('set-cookie')).toBeNull();
  });

  it('the right token sets an HttpOnly, SameSite=Strict session cookie that opens the dashboard', async () => {
    const res = await signIn(ADMIN_TOKEN);
    expect(res.status).toBe(303);
    const setCookie = res.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(new RegExp(`^${SESSION_COOKIE}=`));
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    expect(setCookie).not.toContain(ADMIN_TOKEN);
    const cookie = setCookie.split(';')[0] ?? '';
    expect((await fetch(`${app.url}/dashboard`, { headers: { cookie } })).status).toBe(200);
    for (const name of ENDPOINTS) expect((await fetch(`${app.url}/api/dashboard/${name}`, { headers: { cookie } })).status, name).toBe(200);

    const tampered = cookie.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    expect((await fetch(`${app.url}/api/dashboard/overview`, { headers: { cookie: tampered } })).status).toBe(403);

    const out = await fetch(`${app.url}/dashboard/logout`, { method: 'POST', redirect: 'manual' });
    expect(out.headers.get('set-cookie')).toContain('Max-Age=0');
  });
});

describe('DashboardSessions', () => {
  const sessions = new DashboardSessions('admin-token-0123456789abcdef', 60_000);
  const req = (cookie: string) => ({ headers: { cookie } }) as never;

  it('expires, and dies with a changed admin token', () => {
    const value = sessions.issue(1_000_000);
    expect(sessions.verify(req(`${SESSION_COOKIE}=${value}`), 1_000_000 + 59_000)).toBe(true);
    expect(sessions.verify(req(`other=1; ${SESSION_COOKIE}=${value}`), 1_000_000 + 59_000)).toBe(true);
    expect(sessions.verify(req(`${SESSION_COOKIE}=${value}`), 1_000_000 + 61_000)).toBe(false);
    const rotated = new DashboardSessions('another-admin-token-0123456789', 60_000);
    expect(rotated.verify(req(`${SESSION_COOKIE}=${value}`), 1_000_000)).toBe(false);
    expect(sessions.verify(req(`${SESSION_COOKIE}=9999999999999.abc`), 0)).toBe(false);
  });
});
