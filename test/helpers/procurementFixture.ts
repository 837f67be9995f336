/**
 * Shared set-up for the skills/procurement/jobs tests: the real server on a test database (both
 * targets), seeded with the demo data, with the intent-table recognizer (a test double for the
 * intent classifier only; see intentTable.ts) and short job timings.
 */
import type { DataSource } from 'typeorm';
import type { RunningApp, StartOptions } from '../../src/app.js';
import type { DatabaseConfig } from '../../src/db/database.js';
import { execute } from '../../src/db/sql.js';
import { IntentTableRecognizer } from './intentTable.js';
import { startTestApp } from './testApp.js';

/** Every utterance the tests say, with the intent the classifier is expected to give it. */
export const TEST_INTENTS: Record<string, string> = {
  hi: 'assistant.greet',
  hello: 'assistant.greet',
  help: 'assistant.help',
  'order 20 units of SKU-1001 from Acme Corp': 'procurement.create_order',
  'I want to place an order': 'procurement.create_order',
  'order 5 euro pallets from Acma': 'procurement.create_order',
  'order 5 units of SKU-1009 from Acme Corp': 'procurement.create_order',
  'order 80 units of SKU-1005 from Acme Corp': 'procurement.create_order',
  'order 60 units of SKU-1005 from Globex': 'procurement.create_order',
  'order 12 boxes of copy paper and 30 boxes of gloves from Globex': 'procurement.create_order',
  'what is the status of PO-1002': 'procurement.order_status',
  'what is the status of PO-99999': 'procurement.order_status',
  'where is my order': 'procurement.order_status',
  'cancel PO-99999': 'procurement.cancel_order',
  'cancel PO-1001': 'procurement.cancel_order',
  'approve PO-99999': 'procurement.approve_order',
  'approve PO-1001': 'procurement.approve_order',
  'approve an order': 'procurement.approve_order',
  'show me pending orders': 'procurement.list_orders',
  'my open orders': 'procurement.list_orders',
  'orders from Globex this week': 'procurement.list_orders',
  "what's still running?": 'automation.list_jobs',
  'show all jobs': 'automation.list_jobs',
  'my failed jobs': 'automation.list_jobs',
  'file a declaration for SH-2001': 'customs.file_declaration',
  'how many SKU-1001 in WH-B': 'storage.stock_level',
};

/** Utterances with ids only known at run time. */
export const TEST_INTENT_PATTERNS: [RegExp, string][] = [
  [/^what is the status of PO-\d+$/i, 'procurement.order_status'],
  [/^cancel PO-\d+$/i, 'procurement.cancel_order'],
  [/^approve PO-\d+$/i, 'procurement.approve_order'],
];

export const TEST_ROLES = 'bob=approver,carol=buyer+approver,dave=approver,erin=admin';

export const envFor = (config: DatabaseConfig): Record<string, string> =>
  config.mode === 'embedded' ? { DATA_DIR: config.dataDir } : { DATABASE_URL: config.url };

export function testRecognizer(): IntentTableRecognizer {
  return new IntentTableRecognizer(TEST_INTENTS, TEST_INTENT_PATTERNS);
}

/** The server with demo data, roles and fast jobs; `env` overrides (e.g. SIMULATOR_OUTCOME). */
export function startProcurementApp(
  config: DatabaseConfig,
  env: Record<string, string> = {},
  options: StartOptions = {},
): Promise<RunningApp> {
  return startTestApp(
    envFor(config),
    {
      SEED_DEMO_DATA: 'true',
      USER_ROLES: TEST_ROLES,
      SIMULATOR_DELAY_MS: '0',
      JOB_POLL_INTERVAL_S: '0.5',
      JOB_RETRY_DELAY_S: '0',
      WEBCHAT_ENABLED: 'false',
      ...env,
    },
    { recognizer: testRecognizer(), ...options },
  );
}

export async function rows<T = Record<string, unknown>>(db: DataSource, sql: string, params: unknown[] = []): Promise<T[]> {
  return (await execute<T>(db, sql, params)).rows;
}

/** Polls until `fn` returns a truthy value. */
export async function eventually<T>(fn: () => Promise<T | undefined | null | false>, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
