/**
 * Shared set-up for the skills/procurement/jobs tests: the real server on a test database (both
 * targets), seeded with the demo data, short job timings, and the shipped NLU model when there is
 * one — otherwise the intent-table recognizer (a test double for the intent classifier only; see
 * intentTable.ts).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { DataSource } from 'typeorm';
import type { BotRecognizer } from '../../src/bot/bots/recognizer.js';
import type { MasterData } from '../../src/nlu/entities/masterData.js';
import { loadNlu, type NluPipeline } from '../../src/nlu/NluPipeline.js';
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
  // The classifier gives up on this one: the LLM fallback test takes over from here.
  'hands are getting dirty, get globex to send 20 boxes of gloves': 'out_of_scope',
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

/** The shipped model (TEST_MODEL_DIR overrides, e.g. to check this path with the tiny fixture model). */
export const MODEL_DIR = process.env.TEST_MODEL_DIR || fileURLToPath(new URL('../../models/intent-gpt2', import.meta.url));

/**
 * The shipped model, when there is one (models/intent-gpt2/model.onnx): the real NLU decides every
 * intent and extracts every entity. Where it disagrees with the table on one of the test
 * utterances, the table wins (so the dialog/job tests test dialogs and jobs) and the disagreement
 * is printed — classifier accuracy is measured by the NLU evaluation, not here.
 */
class ModelFirstRecognizer implements BotRecognizer {
  readonly disagreements = new Map<string, string>();

  constructor(
    private readonly nlu: NluPipeline,
    private readonly table: IntentTableRecognizer,
  ) {}

  setMasterData(data: MasterData): void {
    this.nlu.setMasterData(data);
    this.table.setMasterData(data);
  }

  async recognize(text: string) {
    const result = await this.nlu.recognize(text);
    const expected = this.table.intentFor(text);
    if (expected && expected !== result.intent) {
      this.disagreements.set(text, result.intent);
      console.warn(`[nlu] model says ${result.intent} (${result.confidence.toFixed(2)}) for "${text}"; the test table says ${expected}`);
      return { ...result, intent: expected, confidence: 0.97 };
    }
    return result;
  }

  close(): Promise<void> {
    return this.nlu.close();
  }
}

export async function testRecognizer(): Promise<BotRecognizer> {
  const table = new IntentTableRecognizer(TEST_INTENTS, TEST_INTENT_PATTERNS);
  if (!existsSync(`${MODEL_DIR}/model.onnx`)) return table;
  return new ModelFirstRecognizer(await loadNlu(MODEL_DIR), table);
}

/** The server with demo data, roles and fast jobs; `env` overrides (e.g. SIMULATOR_OUTCOME). */
export async function startProcurementApp(
  config: DatabaseConfig,
  env: Record<string, string> = {},
  options: StartOptions = {},
): Promise<RunningApp> {
  const recognizer = options.recognizer === undefined ? await testRecognizer() : options.recognizer;
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
    { ...options, recognizer },
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
