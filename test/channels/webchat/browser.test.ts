import { rmSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApp } from '../../../src/app.js';
import { GREETING_TEXT } from '../../../src/bot/bots/replies.js';
import type { BotRecognizer } from '../../../src/bot/bots/recognizer.js';
import { jobTablesExist } from '../../../src/bot/dashboard/queries.js';
import { execute } from '../../../src/db/sql.js';
import { artifactPath, browserSkip, launchBrowser, type Browser } from '../../helpers/browser.js';
import { freshPgliteDataDir, waitFor } from '../../helpers/databases.js';
import { testRecognizer } from '../../helpers/procurementFixture.js';
import { makeActivity, post, startTestApp } from '../../helpers/testApp.js';

/**
 * The web chat and the dashboard in a real headless Chromium: Microsoft's Web Chat bundle talking
 * to our Direct Line subset, a card button reaching the bot, a card update appearing in place, the
 * dashboard drawing its charts — and user text in the dashboard never running as HTML.
 * Screenshots go to test/artifacts/.
 */

const CONNECTOR_SECRET = 'browser-test-connector-secret-0123';
const XSS = '<img src=x onerror="window.__pwned=1">';

const ORDER = 'order 20 units of SKU-1001 from Acme Corp';

/**
 * Keyword intents for greetings and help (deterministic and cheap); an order goes to the real NLU
 * (the shipped model and entity extraction, see procurementFixture) so the card flow is the real one.
 */
function browserRecognizer(real: BotRecognizer): BotRecognizer {
  return {
    async recognize(text) {
      const t = text.toLowerCase();
      if (/\b(hi|hello|hey)\b/.test(t)) return { intent: 'assistant.greet', confidence: 0.97, entities: [] };
      if (t.includes('help')) return { intent: 'assistant.help', confidence: 0.95, entities: [] };
      if (text === ORDER) return real.recognize(text);
      return { intent: 'out_of_scope', confidence: 0.2, entities: [] };
    },
  };
}

describe.skipIf(browserSkip)('in headless Chromium', () => {
  let app: RunningApp;
  let dataDir: string;
  let browser: Browser;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    dataDir = await freshPgliteDataDir();
    const recognizer = browserRecognizer(await testRecognizer());
    app = await startTestApp({ DATA_DIR: dataDir, SIMULATOR_DELAY_MS: '0' }, {}, { recognizer, webchat: { connectorSecret: CONNECTOR_SECRET } });
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  async function open(path: string): Promise<Page> {
    const page = await browser.context.newPage();
    page.on('pageerror', (err) => pageErrors.push(`${path}: ${err.message}`));
    page.on('console', (msg) => {
      // CSP violations are reported on the console; none may happen on our pages.
      if (msg.type() === 'error' && /Content Security Policy/i.test(msg.text())) pageErrors.push(`${path}: ${msg.text()}`);
    });
    await page.goto(`${app.url}${path}`);
    return page;
  }

  const webchatTraces = async (): Promise<{ conversationId: string; startedAt: string }[]> => {
    await app.traceWriter.flush();
    const res = await fetch(`${app.url}/api/traces?limit=1000`);
    const { traces } = (await res.json()) as { traces: { conversationId: string; channelId: string; startedAt: string }[] };
    return traces.filter((t) => t.channelId === 'webchat');
  };

  it('web chat: the welcome, a message and its reply; a card button reaches the bot and the card updates in place', async () => {
    const page = await open('/');
    // Web Chat typesets quotes (I'm → I’m), so match loosely.
    const bubble = (text: string | RegExp) => page.locator('.webchat__bubble__content', { hasText: text }).first();
    await bubble(/Hello! I.m the operations assistant/).waitFor({ timeout: 20_000 });

    const input = page.locator('[data-id="webchat-sendbox-input"]');
    await input.fill('hi there');
    await input.press('Enter');
    await bubble(GREETING_TEXT.slice(0, GREETING_TEXT.indexOf('?') + 1)).waitFor({ timeout: 15_000 });
    await bubble('hi there').waitFor();
    await page.screenshot({ path: artifactPath('webchat.png') });

    // A card from the bot, through the connector side of this channel, with an Action.Submit button.
    const [trace] = await webchatTraces();
    expect(trace).toBeDefined();
    const conversationId = trace!.conversationId;
    const connector = `${app.url}/webchat/connector/${CONNECTOR_SECRET}/v3/conversations/${encodeURIComponent(conversationId)}/activities`;
    const card = (text: string, buttons: boolean) => ({
      type: 'message',
      from: { id: 'rpa-assistant', name: 'RPA Assistant' },
      attachments: [
        {
          contentType: 'application/vnd.microsoft.card.adaptive',
          content: {
            type: 'AdaptiveCard',
            $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
            version: '1.5',
            body: [
              { type: 'TextBlock', text, weight: 'Bolder', wrap: true },
              { type: 'FactSet', facts: [{ title: 'Supplier', value: 'Acme Corp' }, { title: 'Total', value: 'USD 2,500.00' }] },
            ],
            actions: buttons ? [{ type: 'Action.Submit', title: 'Confirm order', data: { action: 'confirm', po: 'PO-TEST' } }] : [],
          },
        },
      ],
    });
    const posted = await post(connector, card('Order 500 × SKU-1002 from Acme Corp?', true));
    expect(posted.status).toBe(200);
    const cardId = (posted.json as { id: string }).id;
    const button = page.locator('button.ac-pushButton', { hasText: 'Confirm order' }); // the Adaptive Card's own button
    await button.waitFor({ timeout: 15_000 });

    const before = (await webchatTraces()).filter((t) => t.conversationId === conversationId).length;
    await button.click();
    // The click is a message whose `value` is the button's data: one more turn in this conversation.
    await waitFor(async () => (await webchatTraces()).filter((t) => t.conversationId === conversationId).length > before, 15_000, 'the Action.Submit turn');

    const update = await fetch(`${connector}/${encodeURIComponent(cardId)}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...card('Order PO-TEST confirmed ✓', false), id: cardId }),
    });
    expect(update.status).toBe(200);
    await bubble('Order PO-TEST confirmed ✓').waitFor({ timeout: 15_000 });
    await expect.poll(() => button.count(), { timeout: 10_000 }).toBe(0);
    expect(await page.locator('.webchat__bubble__content', { hasText: 'Order 500 × SKU-1002' }).count()).toBe(0); // replaced, not appended
    await page.screenshot({ path: artifactPath('webchat-card-updated.png') });
    await page.close();
    expect(pageErrors).toEqual([]);
  }, 90_000);

  it('web chat: an order through the real bot — the confirmation card is replaced by "Confirmed by …", then the result arrives', async () => {
    const page = await open('/');
    const bubble = (text: string | RegExp) => page.locator('.webchat__bubble__content', { hasText: text }).first();
    await bubble(/Hello! I.m the operations assistant/).waitFor({ timeout: 20_000 });
    const input = page.locator('[data-id="webchat-sendbox-input"]');
    await input.fill(ORDER);
    await input.press('Enter');
    const confirm = page.locator('button.ac-pushButton', { hasText: /^Confirm$/ });
    await confirm.waitFor({ timeout: 20_000 });
    await bubble(/Create this purchase order\?/).waitFor();
    await confirm.click();
    // The same bubble now shows the outcome, without buttons; the job's result follows as a new message.
    await bubble(/Confirmed by/).waitFor({ timeout: 20_000 });
    await expect.poll(() => confirm.count(), { timeout: 10_000 }).toBe(0);
    await bubble(/PO-\d+ is placed/).waitFor({ timeout: 30_000 });
    expect(await page.locator('.webchat__bubble__content', { hasText: /Confirmed by/ }).count()).toBe(1);
    await page.screenshot({ path: artifactPath('webchat-order-confirmed.png') });
    const { rows } = await execute<{ n: number }>(
      app.db.dataSource,
      `SELECT count(*)::int AS n FROM purchase_orders o JOIN purchase_order_lines l ON l.po_id = o.id
        WHERE l.sku = 'SKU-1001' AND l.quantity = 20 AND o.status IN ('sent', 'confirmed')`,
    );
    expect(rows[0]?.n).toBe(1);
    await page.close();
    expect(pageErrors).toEqual([]);
  }, 120_000);

  it('dashboard: renders tiles and charts; user text containing HTML is shown as text and never runs', async () => {
    // A turn whose user id and conversation id carry an HTML payload (the trace stores both).
    const activity = makeActivity({
      serviceUrl: 'http://127.0.0.1:65535/',
      text: XSS,
      userId: XSS,
      conversationId: `conv ${XSS}`,
      channelId: 'msteams',
      deliveryMode: 'expectReplies',
    });
    expect((await post(`${app.url}/api/messages`, activity)).status).toBe(200);
    await seedDemoData(app);
    await app.traceWriter.flush();

    const page = await open('/dashboard');
    await page.locator('body[data-loaded="true"]').waitFor({ timeout: 20_000 });
    expect(await page.locator('.tile').count()).toBeGreaterThanOrEqual(4);
    expect(await page.locator('#latency figure canvas').count()).toBeGreaterThanOrEqual(3);
    expect(await page.locator('#channels canvas').count()).toBe(1);
    expect(await page.locator('#intents .bar-row').count()).toBeGreaterThan(1);

    // The payload is on the page as text …
    await page.locator('#recent td', { hasText: XSS }).first().waitFor();
    if (await jobTablesExist(app.db.dataSource)) await page.locator('#failures td', { hasText: XSS }).first().waitFor();
    // … and never became an element, nor ran.
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as { __pwned?: unknown }).__pwned)).toBeUndefined();

    await page.screenshot({ path: artifactPath('dashboard.png'), fullPage: true });
    await page.screenshot({ path: artifactPath('dashboard-top.png'), fullPage: true, clip: { x: 0, y: 0, width: 1280, height: 1420 } });
    await page.close();
    expect(pageErrors).toEqual([]);
  }, 90_000);
});

/** Two days of plausible traffic (and jobs, when their tables exist) so the dashboard has something to draw and compare. */
async function seedDemoData(app: RunningApp): Promise<void> {
  const ds = app.db.dataSource;
  await execute(
    ds,
    `INSERT INTO turn_traces (turn_id, conversation_id, channel_id, user_id, started_at, total_ms, stages, intent, confidence, outcome)
     SELECT 'seed-' || g, 'conv-' || (g % 37), ch, 'user-' || (g % 11), ts, s.receive + s.nlu + s.dialog + s.send,
            jsonb_build_object('receive', s.receive, 'nlu', s.nlu, 'tokenize', s.nlu * 0.08, 'inference', s.nlu * 0.85,
                               'dialog', s.dialog, 'send', s.send),
            intent, 0.6 + (g % 40) / 100.0, CASE WHEN g % 97 = 0 THEN 'error' ELSE 'ok' END
       FROM generate_series(1, 960) AS g
       CROSS JOIN LATERAL (SELECT now() - (g * interval '3 minutes') AS ts,
                                  (ARRAY['msteams', 'msteams', 'webchat', 'terminal'])[1 + g % 4] AS ch,
                                  (ARRAY['procurement.create_order', 'procurement.order_status', 'assistant.greet', 'customs.declaration_status',
                                         'storage.stock_level', 'out_of_scope', 'assistant.help'])[1 + (g % 7 + g % 3) % 7] AS intent) AS x
       CROSS JOIN LATERAL (SELECT 0.3 + (g % 5) * 0.1 AS receive,
                                  8 + (g % 13) * 1.5 + CASE WHEN g % 50 = 0 THEN 60 ELSE 0 END + 6 * sin(g / 40.0) AS nlu,
                                  1 + (g % 7) * 0.4 AS dialog,
                                  5 + (g % 11) * 2 + CASE WHEN g % 31 = 0 THEN 90 ELSE 0 END AS send) AS s`,
  );
  if (!(await jobTablesExist(ds))) return;
  await execute(
    ds,
    `INSERT INTO automation_jobs (skill, action, status, idempotency_key, input, error, requested_by, channel_id, conversation_id,
                                  created_at, finished_at, updated_at)
     SELECT 'procurement', 'send_purchase_order', st, 'seed-job-' || g, '{}'::jsonb,
            CASE WHEN st IN ('failed', 'dead_letter') THEN (ARRAY['Supplier portal rejected the order: unknown SKU',
                                                                  'Timeout waiting for the supplier portal',
                                                                  $1])[1 + (g / 9) % 3] END,
            'user-' || (g % 11), 'msteams', 'conv-' || g, now() - g * interval '25 minutes',
            CASE WHEN st IN ('succeeded', 'failed', 'dead_letter') THEN now() - g * interval '25 minutes' + interval '40 seconds' END,
            now() - g * interval '25 minutes' + interval '40 seconds'
       FROM generate_series(1, 112) AS g
       CROSS JOIN LATERAL (SELECT (ARRAY['succeeded', 'succeeded', 'succeeded', 'succeeded', 'failed', 'succeeded', 'dead_letter',
                                         'succeeded', 'running'])[1 + g % 9] AS st) AS x`,
    [XSS],
  );
  // Funnel: confirmations (audit rows of submitted writes) and approvals (job events), as the skills record them.
  await execute(
    ds,
    `INSERT INTO audit_log (at, actor_id, action, outcome)
     SELECT now() - g * interval '20 minutes', 'user-' || (g % 11), 'procurement.create_order', 'submitted'
       FROM generate_series(1, 140) AS g
      WHERE g % 5 <> 0`,
  );
  await execute(
    ds,
    `INSERT INTO automation_job_events (job_id, at, kind, message)
     SELECT id, created_at + interval '5 seconds', 'approved', 'Approved automatically'
       FROM automation_jobs
      WHERE id % 3 <> 0`,
  );
}
