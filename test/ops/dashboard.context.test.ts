/**
 * The dashboard's page context (GET /api/dashboard/context, src/bot/dashboard/routes.ts): the
 * default window fits the data the server holds, "Sign out" only with a sign-in in use, and the
 * turn admission figures of the running process — on both databases. Turns are held by a latch in
 * the recognizer, so "in flight" and "shed" are read while they are really so (no timing).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApp } from '../../src/app.js';
import type { BotRecognizer } from '../../src/bot/bots/recognizer.js';
import { fitWindow } from '../../src/bot/dashboard/fitWindow.js';
import type { DatabaseConfig } from '../../src/db/database.js';
import { execute } from '../../src/db/sql.js';
import { databaseTargets, type TestDatabase } from '../helpers/databases.js';
import { makeActivity, post, startTestApp } from '../helpers/testApp.js';

const targets = await databaseTargets();
const MINUTE = 60_000;

const envFor = (config: DatabaseConfig): Record<string, string> =>
  config.mode === 'embedded' ? { DATA_DIR: config.dataDir } : { DATABASE_URL: config.url };

interface Context {
  window: string;
  oldestTurnAt: string | null;
  signedIn: boolean;
  admission: { admitted: number; inFlight: number; limit: number; queued: number; shed: { full: number; queue_timeout: number } } | null;
}

describe('fitWindow', () => {
  const now = new Date('2026-01-10T12:00:00Z');
  const ago = (ms: number) => new Date(now.getTime() - ms);
  it('picks the smallest window that reaches back to the oldest trace', () => {
    expect(fitWindow(null, now)).toBe('15m');
    expect(fitWindow(ago(3 * MINUTE), now)).toBe('15m');
    expect(fitWindow(ago(15 * MINUTE), now)).toBe('15m');
    expect(fitWindow(ago(15 * MINUTE + 1), now)).toBe('1h');
    expect(fitWindow(ago(2 * 60 * MINUTE), now)).toBe('6h');
    expect(fitWindow(ago(20 * 60 * MINUTE), now)).toBe('24h');
    expect(fitWindow(ago(48 * 60 * MINUTE), now)).toBe('7d');
    expect(fitWindow(ago(90 * 24 * 60 * MINUTE), now)).toBe('30d');
  });
});

/** A recognizer whose calls block until `open()`. */
function latchedRecognizer() {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const state = { entered: 0 };
  const recognizer: BotRecognizer = {
    async recognize() {
      state.entered += 1;
      await gate;
      return { intent: 'assistant.help', confidence: 0.99, entities: [] };
    },
  };
  return { recognizer, state, open };
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.each(targets)('dashboard context on $name', (target) => {
  let t: TestDatabase;
  let app: RunningApp;
  const latch = latchedRecognizer();

  beforeAll(async () => {
    if (target.skip) return;
    t = await target.create();
    await t.db.close(); // the app opens it itself
    app = await startTestApp(
      envFor(t.config),
      { ADMISSION_MAX_INFLIGHT: '1', ADMISSION_QUEUE_MAX: '0', TURN_DEADLINE_MS: '14000' },
      { recognizer: latch.recognizer },
    );
  });
  afterAll(async () => {
    latch.open();
    await app?.close();
    await t?.dispose();
  });

  const context = async (): Promise<Context> => {
    const res = await fetch(`${app.url}/api/dashboard/context`);
    expect(res.status).toBe(200);
    return (await res.json()) as Context;
  };
  const trace = (ageMs: number) =>
    execute(
      app.db.dataSource,
      `INSERT INTO turn_traces (turn_id, channel_id, user_id, started_at, total_ms, stages, intent, outcome)
       VALUES ($1, 'test', 'u', $2, 5, '{}'::jsonb, 'assistant.help', 'ok')`,
      [`fit-${randomUUID()}`, new Date(Date.now() - ageMs)],
    );

  it.skipIf(target.skip)('the default window grows with the age of the oldest trace', async () => {
    expect(await context()).toMatchObject({ window: '15m', oldestTurnAt: null });
    await trace(40 * MINUTE);
    expect((await context()).window).toBe('1h');
    await trace(3 * 60 * MINUTE);
    expect((await context()).window).toBe('6h');
    await trace(3 * 24 * 60 * MINUTE);
    const c = await context();
    expect(c.window).toBe('7d');
    expect(Date.now() - new Date(c.oldestTurnAt ?? 0).getTime()).toBeGreaterThan(2 * 24 * 60 * MINUTE);
  });

  it.skipIf(target.skip)('no sign-in on an open loopback server: signedIn is false and the page hides "Sign out"', async () => {
    expect((await context()).signedIn).toBe(false);
    const html = await (await fetch(`${app.url}/dashboard`)).text();
    expect(html).toMatch(/<form[^>]*id="logout"[^>]*hidden/);
  });

  it.skipIf(target.skip)('admission figures: admitted, in flight, limit, and shed while the one slot is taken', async () => {
    const before = (await context()).admission;
    expect(before).toMatchObject({ limit: 1, inFlight: 0, queued: 0 });
    const held = post(`${app.url}/api/messages`, makeActivity({ serviceUrl: 'http://127.0.0.1:65535/', text: 'help', deliveryMode: 'expectReplies' }));
    await until('the held turn reaches the recognizer', () => latch.state.entered === 1);
    const during = (await context()).admission;
    expect(during?.inFlight).toBe(1);
    expect(during?.admitted).toBe((before?.admitted ?? 0) + 1);
    const shed = await post(`${app.url}/api/messages`, makeActivity({ serviceUrl: 'http://127.0.0.1:65535/', text: 'help', deliveryMode: 'expectReplies' }));
    expect(shed.status).toBe(503);
    expect((await context()).admission?.shed.full).toBe((before?.shed.full ?? 0) + 1);
    latch.open();
    expect((await held).status).toBe(200);
    await until('the slot is free again', async () => (await context()).admission?.inFlight === 0);
  });
});

describe('dashboard context with ADMIN_TOKEN', () => {
  const ADMIN_TOKEN = 'admin-token-0123456789abcdef';
  const target = targets[0]!;
  let t: TestDatabase;
  let app: RunningApp;

  beforeAll(async () => {
    t = await target.create();
    await t.db.close();
    app = await startTestApp(envFor(t.config), { ADMIN_TOKEN });
  });
  afterAll(async () => {
    await app?.close();
    await t?.dispose();
  });

  it('signedIn only with the sign-in cookie (a bearer caller has nothing to sign out of)', async () => {
    expect((await fetch(`${app.url}/api/dashboard/context`)).status).toBe(403);
    const bearer = await fetch(`${app.url}/api/dashboard/context`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(((await bearer.json()) as Context).signedIn).toBe(false);
    const login = await fetch(`${app.url}/dashboard/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: ADMIN_TOKEN }).toString(),
      redirect: 'manual',
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const res = await fetch(`${app.url}/api/dashboard/context`, { headers: { cookie } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as Context).signedIn).toBe(true);
  });
});
