import { copyFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApp } from '../../../src/app.js';
import { artifactPath, browserSkip, launchBrowser, type Browser } from '../../helpers/browser.js';
import { freshPgliteDataDir } from '../../helpers/databases.js';
import { freePort, startPlayground, type Playground } from '../../helpers/playground.js';
import { startTestApp } from '../../helpers/testApp.js';

/**
 * The bot as Teams shows it, through Microsoft 365 Agents Playground (a Teams-like client that runs
 * offline) in headless Chromium, driven like a user: an order in the personal chat, Confirm clicked
 * on the card, the card replaced in place by "Confirmed by …", then the proactive "PO-… is placed"
 * once the job is done; and in the group chat a message that @mentions the bot gets its answer.
 * The real server with the shipped NLU model and the demo data; screenshots go to test/artifacts/,
 * and with UPDATE_DOCS_SCREENSHOTS=1 one also to docs/channels/teams-playground.png (so that a run
 * does not rewrite a committed file).
 */

const ORDER = 'order 20 units of SKU-1001 from Acme Corp';
const USER = 'Alex Wilber'; // the Playground's signed-in user
const BOT = 'Test Bot'; // the Playground's name for the bot under test
const DOCS_SCREENSHOT = fileURLToPath(new URL('../../../docs/channels/teams-playground.png', import.meta.url));

describe.skipIf(browserSkip)('Teams through the Agents Playground in headless Chromium', () => {
  let app: RunningApp;
  let dataDir: string;
  let playground: Playground;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    dataDir = await freshPgliteDataDir();
    // The Playground's port is fixed before the bot starts: its connector origin is the one the bot may reply to.
    const port = await freePort();
    app = await startTestApp(
      { DATA_DIR: dataDir },
      { SIMULATOR_DELAY_MS: '0', SERVICE_URL_ALLOWLIST: `http://127.0.0.1:${port}` },
      { recognizer: undefined }, // the shipped model
    );
    playground = await startPlayground(`${app.url}/api/messages`, port);
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    // Offline as in CI: the page's only outside requests are web fonts and an animation from Microsoft's CDN.
    await page.route(/^https?:\/\/(?!127\.0\.0\.1[:/]|localhost[:/])/, (route) => route.abort());
    await page.goto(playground.url);
    // The log panel repeats every message's text; hide it so text matches only the chat itself.
    await page.getByTitle('Toggle Log Panel').click({ timeout: 30_000 });
    await page.getByText('Log Panel', { exact: true }).waitFor({ state: 'hidden', timeout: 10_000 });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await playground?.close();
    await app?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  /** A message in the open conversation (not its preview in the side bar). */
  const message = (text: string | RegExp) => page.getByRole('paragraph').filter({ hasText: text });

  /** Types into the Playground's compose box (a rich-text editor) and sends with Enter. */
  async function send(text: string): Promise<void> {
    const box = page.getByRole('textbox');
    await box.click();
    await box.pressSequentially(text);
    await box.press('Enter');
  }

  it('personal chat: order, Confirm on the card, the card replaced by "Confirmed by", then the proactive "placed"', async () => {
    await message(/Hello! I.m the operations assistant/).first().waitFor({ timeout: 30_000 });
    await send(ORDER);

    const orderCard = page.locator('.ac-adaptiveCard', { hasText: 'Create this purchase order?' });
    const confirm = orderCard.getByRole('button', { name: 'Confirm' });
    await confirm.waitFor({ timeout: 30_000 });
    await expect(orderCard.textContent()).resolves.toContain('SKU-1001');
    await page.screenshot({ path: artifactPath('playground-order-card.png') });

    await confirm.click();
    await orderCard.getByText(`Confirmed by ${USER}`).waitFor({ timeout: 30_000 });
    // Replaced in place: still one such card, and its buttons are gone.
    expect(await orderCard.count()).toBe(1);
    expect(await orderCard.getByRole('button').count()).toBe(0);

    // The job places the order with the simulated supplier, and the bot says so on its own.
    const placed = message(/PO-\d+ is placed/);
    await placed.waitFor({ timeout: 60_000 });
    expect(await placed.textContent()).toMatch(/PO-\d+ is placed: Acme Corp confirmed it/);
    // A tall window so that the picture shows the whole exchange, from the order to the outcome card.
    await page.setViewportSize({ width: 1280, height: 1400 });
    await placed.scrollIntoViewIfNeeded();
    await page.screenshot({ path: artifactPath('playground-placed.png') });
    if (process.env.UPDATE_DOCS_SCREENSHOTS) copyFileSync(artifactPath('playground-placed.png'), DOCS_SCREENSHOT);
    await page.setViewportSize({ width: 1280, height: 900 });
  }, 150_000);

  /** Sends "@Test Bot <text>": typing "@" opens the Playground's mention picker, as in Teams; picking the bot inserts the mention. */
  async function sendMentioning(text: string, box = page.getByRole('textbox')): Promise<void> {
    await box.click();
    // The keyboard types into the focused box (the locator may stop matching once the box has text).
    await page.keyboard.type('@Test');
    await page.getByRole('menuitem', { name: BOT }).click({ timeout: 15_000 });
    await page.keyboard.type(` ${text}`);
    await page.keyboard.press('Enter');
  }

  it('group chat: a message that @mentions the bot gets an answer', async () => {
    await page.getByRole('treeitem', { name: 'Group Chat' }).click();
    await sendMentioning('what is the status of PO-1002');
    await message(/PO-1002 with Globex is confirmed/).waitFor({ timeout: 30_000 });
    await page.screenshot({ path: artifactPath('playground-group-chat.png') });
    expect(pageErrors).toEqual([]);
  }, 90_000);

  it('team channel: a message that @mentions the bot gets an answer', async () => {
    await page.getByRole('treeitem', { name: 'My Team - General' }).click();
    // A channel has a box per thread; this one starts a new post.
    await sendMentioning('status of PO-1001', page.getByRole('group').filter({ hasText: 'Start a new' }).getByRole('textbox'));
    await message(/PO-1001 with Acme Corp is/).waitFor({ timeout: 30_000 });
    await page.screenshot({ path: artifactPath('playground-team-channel.png') });
    expect(pageErrors).toEqual([]);
  }, 90_000);
});
