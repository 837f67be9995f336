/**
 * The pieces of the skills framework that need no database: reading slots out of utterances
 * (with the real entity extractor), the registry, cards, signatures and role configuration.
 */
import { describe, expect, it } from 'vitest';
import { adaptiveCard, confirmationActions, replyActivity, supportsCards } from '../../src/bot/cards/adaptiveCard.js';
import { ServiceUrlPolicy } from '../../src/bot/http/serviceUrlPolicy.js';
import { createProactiveNotifier } from '../../src/bot/proactive/notifier.js';
import { createLogger } from '../../src/logger.js';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { sign, verifySignature } from '../../src/jobs/connectors/signature.js';
import { parseResult } from '../../src/jobs/connectors/webhook.js';
import { EntityExtractor } from '../../src/nlu/entities/EntityExtractor.js';
import { INTENT_LABELS } from '../../src/nlu/types.js';
import { closestSupplier, type MasterRecords } from '../../src/skills/data/masterData.js';
import { DEMO_PRODUCTS, DEMO_SUPPLIERS, DEMO_WAREHOUSES } from '../../src/skills/data/seed.js';
import { createSkillRegistry, RoleDirectory } from '../../src/skills/index.js';
import { extractCreateOrder, extractOrderFilters } from '../../src/skills/procurement/extract.js';
import type { Draft } from '../../src/skills/types.js';
import { PRICE_INTENT } from '../../src/nlu/decision.js';

const extractor = new EntityExtractor();
const read = (text: string, draft: Draft = {}, expecting?: string) =>
  extractCreateOrder({ text, entities: extractor.extract(text), expecting }, draft);

describe('reading an order out of what people write', () => {
  it.each<[string, Draft]>([
    ['order 20 units of SKU-1001 from Acme Corp', { lines: [{ sku: 'SKU-1001', quantity: 20 }], supplier: 'Acme Corp' }],
    ['12 boxes of copy paper and 30 boxes of gloves from Globex', { lines: [{ sku: 'SKU-1002', quantity: 12 }, { sku: 'SKU-1003', quantity: 30 }], supplier: 'Globex' }],
    ['we need 50 euro pallets delivered to Dallas', { lines: [{ sku: 'SKU-1004', quantity: 50 }], shipTo: 'WH-B' }],
    ['order SKU-1005 from Northwind', { lines: [{ sku: 'SKU-1005', quantity: undefined }], supplier: 'Northwind Traders' }],
    ['order 5 euro pallets from Acma', { lines: [{ sku: 'SKU-1004', quantity: 5 }], supplierRaw: 'Acma' }],
  ])('%s', (text, expected) => {
    expect(read(text)).toEqual(expected);
  });

  it('answers to questions fill the slot that was asked for', () => {
    expect(read('300', { lines: [{ sku: 'SKU-1003' }] }, 'quantity')).toEqual({ lines: [{ sku: 'SKU-1003', quantity: 300 }] });
    expect(read('the bearings', { lines: [{ quantity: 5 }] }, 'sku')).toEqual({ lines: [{ sku: 'SKU-1001', quantity: 5 }] });
    expect(read('Initech', {}, 'supplier')).toEqual({ supplier: 'Initech' });
    expect(read('Initek please', {}, 'supplier')).toEqual({ supplierRaw: 'Initek' });
  });

  it('corrections change what was said before', () => {
    const draft = { lines: [{ sku: 'SKU-1001', quantity: 20 }], supplier: 'Acme Corp' };
    expect(read('make it 300', draft)).toEqual({ ...draft, lines: [{ sku: 'SKU-1001', quantity: 300 }] });
    expect(read('actually gloves', draft)).toEqual({ ...draft, lines: [{ sku: 'SKU-1003', quantity: 20 }] });
    expect(read('from Globex instead', draft)).toEqual({ ...draft, supplier: 'Globex' });
    expect(read('and 10 battery packs', draft)).toEqual({ ...draft, lines: [{ sku: 'SKU-1001', quantity: 20 }, { sku: 'SKU-1005', quantity: 10 }] });
  });

  it('list filters', () => {
    const now = new Date('2025-06-12T10:00:00Z'); // a Thursday
    const filters = (text: string) => extractOrderFilters({ text, entities: extractor.extract(text) }, {}, now);
    expect(filters('my pending orders')).toEqual({ mine: true, statuses: ['pending_approval'] });
    expect(filters('open orders from Globex this week')).toMatchObject({ supplier: 'Globex', since: '2025-06-09' });
    expect(filters('cancelled orders today')).toEqual({ statuses: ['cancelled'], since: '2025-06-12' });
  });

  it('suggests the closest supplier for a misspelling, and nothing for gibberish', () => {
    const records: MasterRecords = {
      suppliers: DEMO_SUPPLIERS.map((s, i) => ({ id: i + 1, name: s.name, aliases: [...s.aliases], currency: 'USD' })),
      products: DEMO_PRODUCTS.map((p) => ({ sku: p.sku, name: p.name, aliases: [...p.aliases], unit: p.unit, unitPrice: p.unitPrice, currency: 'USD', hsCode: p.hsCode })),
      warehouses: DEMO_WAREHOUSES.map((w) => ({ code: w.code, name: w.name, aliases: [...w.aliases], city: w.city })),
    };
    expect(closestSupplier(records, 'Acma')?.name).toBe('Acme Corp');
    expect(closestSupplier(records, 'Nortwind Traders')?.name).toBe('Northwind Traders');
    expect(closestSupplier(records, 'Initek')?.name).toBe('Initech');
    expect(closestSupplier(records, 'Zebra Logistics')).toBeUndefined();
  });
});

describe('skill registry', () => {
  const registry = createSkillRegistry({ settings: { approvalThreshold: 10_000, currency: 'USD' }, roles: new RoleDirectory({ byUser: {}, defaults: ['buyer'] }) });

  it('answers every procurement, customs, storage and automation intent of the model, and nothing else', () => {
    const skillIntents = INTENT_LABELS.filter((i) => /^(procurement|customs|storage|automation)\./.test(i));
    expect(skillIntents).toHaveLength(12);
    // …plus the price answer, which no model label reaches: the NLU routes a price question there
    // (nlu/decision.ts PRICE_INTENT) instead of out of scope.
    expect(registry.intents.sort()).toEqual([...skillIntents, PRICE_INTENT].sort());
    expect(registry.forIntent(PRICE_INTENT)?.kind).toBe('read');
    // assistant.* and out_of_scope are the bot's own answers, never a skill action.
    for (const intent of INTENT_LABELS.filter((i) => !skillIntents.includes(i))) {
      expect(registry.forIntent(intent)).toBeUndefined();
    }
    for (const intent of skillIntents) expect(registry.forIntent(intent)?.name.split('.')[0]).toBe(intent.split('.')[0]);
  });

  it('has a job handler for every write action', () => {
    const handled = new Set(registry.jobHandlers.map((h) => h.action));
    for (const action of registry.actions.filter((a) => a.kind === 'write')) expect(handled.has(action.name), action.name).toBe(true);
  });
});

describe('cards', () => {
  it('are Adaptive Cards 1.5 whose buttons submit {verb, nonce, ref}', () => {
    const card = adaptiveCard({
      title: 'Create this purchase order?',
      facts: [{ title: 'Supplier', value: 'Acme Corp' }],
      table: { columns: ['SKU', 'Qty'], rows: [['SKU-1001', '20']] },
      actions: confirmationActions('n-1', 'a-1'),
    });
    expect(card).toMatchObject({ type: 'AdaptiveCard', version: '1.5' });
    expect(card.actions).toEqual([
      { type: 'Action.Submit', title: 'Confirm', style: 'positive', data: { verb: 'confirm', nonce: 'n-1', ref: 'a-1' } },
      { type: 'Action.Submit', title: 'Edit', data: { verb: 'edit', nonce: 'n-1', ref: 'a-1' } },
      { type: 'Action.Submit', title: 'Cancel', style: 'destructive', data: { verb: 'cancel', nonce: 'n-1', ref: 'a-1' } },
    ]);
  });

  it('channels without cards get the whole text instead', () => {
    const reply = { text: 'Full question with every line', cardText: 'Please confirm:', card: { title: 'T' } };
    expect(supportsCards('msteams')).toBe(true);
    expect(replyActivity(reply, 'msteams')).toMatchObject({ text: 'Please confirm:', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive' }] });
    expect(supportsCards('sms')).toBe(false);
    expect(replyActivity(reply, 'sms')).toEqual({ type: 'message', text: 'Full question with every line' });
  });
});

describe('webhook signatures', () => {
  const secret = 'a-shared-secret-of-some-length';
  it('accepts exactly the signed body', () => {
    const body = Buffer.from('{"status":"succeeded"}');
    expect(verifySignature(secret, body, sign(secret, body))).toBe(true);
    expect(verifySignature(secret, Buffer.from('{"status":"failed"}'), sign(secret, body))).toBe(false);
    expect(verifySignature('another-secret-of-some-length', body, sign(secret, body))).toBe(false);
    expect(verifySignature(secret, body, 'sha256=short')).toBe(false);
    expect(verifySignature(secret, body, undefined)).toBe(false);
    expect(verifySignature(secret, body, [sign(secret, body)])).toBe(false);
  });

  it('a synchronous RPA answer is read as a result; anything else means accepted', () => {
    expect(parseResult('{"status":"succeeded","data":{"supplierReference":"X"}}')).toEqual({ status: 'succeeded', data: { supplierReference: 'X' }, error: undefined });
    expect(parseResult('{"accepted":true}')).toBeUndefined();
    expect(parseResult('not json')).toBeUndefined();
  });
});

describe('automation and role configuration', () => {
  it('parses USER_ROLES and DEFAULT_ROLES', () => {
    const config = loadConfig({ USER_ROLES: '29:1aBc=approver, alice=buyer+approver', DEFAULT_ROLES: 'buyer' });
    const roles = new RoleDirectory(config.roles);
    expect(roles.rolesOf('29:1aBc')).toEqual(['approver']);
    expect(roles.rolesOf('alice')).toEqual(['buyer', 'approver']);
    expect(roles.rolesOf('someone')).toEqual(['buyer']);
    expect(roles.usersWith('approver')).toEqual(['29:1aBc', 'alice']);
  });

  it.each([
    [{ USER_ROLES: 'alice=boss' }, 'unknown role "boss"'],
    [{ USER_ROLES: 'alice' }, 'USER_ROLES'],
    [{ AUTOMATION_CONNECTOR: 'webhook' }, 'WEBHOOK_URL'],
    [{ AUTOMATION_CONNECTOR: 'webhook', WEBHOOK_URL: 'http://rpa.local/hook' }, 'WEBHOOK_SECRET'],
    [{ WEBHOOK_SECRET: 'short' }, 'WEBHOOK_SECRET'],
    [{ JOB_POLL_INTERVAL_S: '0.1' }, 'JOB_POLL_INTERVAL_S'],
  ])('rejects %j naming %s', (env, what) => {
    expect(() => loadConfig(env)).toThrowError(ConfigError);
    expect(() => loadConfig(env)).toThrowError(new RegExp(what.replace(/[()]/g, '\\$&')));
  });

  it('defaults: simulator, demo data with the embedded database only', () => {
    expect(loadConfig({}).automation.connector).toBe('simulator');
    expect(loadConfig({}).seedDemoData).toBe(true);
    expect(loadConfig({ DATABASE_URL: 'postgres://u@db/rpa' }).seedDemoData).toBe(false);
  });
});

describe('proactive notifier', () => {
  it('with auth off, never contacts a serviceUrl that is not on the allow-list', async () => {
    const sent: unknown[] = [];
    const stored = { channelId: 'test', serviceUrl: 'https://elsewhere.example', conversation: { id: 'c1' }, bot: { id: 'bot' } };
    const notifier = createProactiveNotifier({
      adapter: { continueConversationAsync: async (...args: unknown[]) => void sent.push(args) } as never,
      appId: '',
      references: { forConversation: async () => stored, latestForUser: async () => stored } as never,
      serviceUrlPolicy: new ServiceUrlPolicy(['localhost', '127.0.0.1']),
      logger: createLogger('silent'),
    });
    const result = await notifier({ id: 1, jobId: 1, kind: 'completed', channelId: 'test', conversationId: 'c1', userId: null, reply: { text: 'done' }, attempts: 0 });
    expect(result).toEqual({ delivered: false, reason: 'serviceUrl is not on the allow-list' });
    expect(sent).toEqual([]);
  });
});
