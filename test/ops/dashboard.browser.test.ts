import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApp } from '../../src/app.js';
import { execute } from '../../src/db/sql.js';
import { HOUR_MS, rollUpTraces } from '../../src/tracing/rollups.js';
import { browserSkip, launchBrowser, type Browser } from '../helpers/browser.js';
import { freshPgliteDataDir } from '../helpers/databases.js';
import { startTestApp } from '../helpers/testApp.js';

/**
 * The dashboard page in headless Chromium, as an operator finds it on a fresh loopback server:
 * the window fits the data (40 minutes of traces → "last hour", and the turns are counted in it),
 * no "Sign out" without a sign-in, the admission figures shown; with ADMIN_TOKEN and the sign-in
 * form, "Sign out" is there.
 */

async function traces(app: RunningApp, minutesAgo: number[]): Promise<void> {
  for (const [i, m] of minutesAgo.entries()) {
    await execute(
      app.db.dataSource,
      `INSERT INTO turn_traces (turn_id, channel_id, user_id, started_at, total_ms, stages, intent, outcome)
       VALUES ($1, 'webchat', 'u', now() - make_interval(mins => $2), 12, '{"nlu": 5}'::jsonb, 'assistant.help', 'ok')`,
      [`browser-fit-${i}`, m],
    );
  }
  // These traces are back-dated, as no live trace is: the app's first rollup pass may already have
  // rolled those minutes while they were being inserted. Re-roll them as the hourly pass would.
  await rollUpTraces(app.db.dataSource, { retentionDays: 0, lookbackMs: 2 * HOUR_MS });
}

describe.skipIf(browserSkip)('dashboard page in headless Chromium', () => {
  let browser: Browser;
  const dirs: string[] = [];
  const apps: RunningApp[] = [];

  const start = async (env: Record<string, string> = {}) => {
    const dataDir = await freshPgliteDataDir();
    dirs.push(dataDir);
    const app = await startTestApp({ DATA_DIR: dataDir }, env);
    apps.push(app);
    return app;
  };

  beforeAll(async () => {
    browser = await launchBrowser();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    for (const app of apps) await app.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('open loopback server: the window fits 40 minutes of data, no "Sign out", admission figures shown', async () => {
    const app = await start();
    await traces(app, [40, 30, 20, 10, 1]);
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${app.url}/dashboard`);
    await page.locator('body[data-loaded="true"]').waitFor({ timeout: 20_000 });

    expect(await page.locator('#window option:checked').textContent()).toBe('fit the data (1h)');
    // All five turns are inside the fitted window (a 15-minute window would count two).
    expect(await page.locator('.tile[data-kpi="turns"] .value').textContent()).toBe('5');
    expect(await page.locator('#logout').isVisible()).toBe(false);
    expect(await page.getByRole('button', { name: 'Sign out' }).isVisible()).toBe(false);
    expect(await page.locator('#admission-panel').isVisible()).toBe(true);
    for (const kpi of ['admitted', 'shed', 'in-flight', 'limit']) {
      expect(await page.locator(`#admission .tile[data-kpi="${kpi}"] .value`).textContent(), kpi).toMatch(/^\d[\d,]*$/);
    }
    expect(await page.locator('#admission .tile[data-kpi="limit"] .value').textContent()).toBe('256');

    // An explicit choice still wins over the fitted window.
    await page.selectOption('#window', '15m');
    await expect.poll(() => page.locator('.tile[data-kpi="turns"] .value').textContent(), { timeout: 20_000 }).toBe('2');
    await page.close();
    expect(errors).toEqual([]);
  }, 90_000);

  it('with ADMIN_TOKEN: after the sign-in form, "Sign out" is shown and works', async () => {
    const token = 'admin-token-0123456789abcdef';
    const app = await start({ ADMIN_TOKEN: token });
    const page = await browser.context.newPage();
    await page.goto(`${app.url}/dashboard`);
    await page.locator('input[name="token"]').fill(token);
    await page.locator('form[action="/dashboard/login"] button, form[action="/dashboard/login"] [type="submit"]').first().click();
    await page.locator('body[data-loaded="true"]').waitFor({ timeout: 20_000 });
    expect(await page.getByRole('button', { name: 'Sign out' }).isVisible()).toBe(true);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('input[name="token"]').waitFor();
    await page.close();
  }, 90_000);
});
