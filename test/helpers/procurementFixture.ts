/**
 * Shared set-up for the skills/procurement/jobs tests: the real server on a test database (both
 * targets), seeded with the demo data, short job timings, and the shipped NLU model when there is
 * one — otherwise the intent-table recognizer (a test double for the intent classifier only; see
 * intentTable.ts).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll } from 'vitest';
import { ConnectorReceiver } from '../../src/chat/connectorReceiver.js';
import { allText, type ChatUser } from './chatUser.js';
import type { BotRecognizer } from '../../src/bot/bots/recognizer.js';
import type { MasterData } from '../../src/nlu/entities/masterData.js';
import { loadNlu, type NluPipeline } from '../../src/nlu/NluPipeline.js';
import type { RunningApp, StartOptions } from '../../src/app.js';
import type { DatabaseConfig } from '../../src/db/database.js';
import { execute } from '../../src/db/sql.js';
import type { DatabaseTarget, TestDatabase } from './databases.js';
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
  // Excel exports (test/excel.*): the export branch of these actions.
  'export my open orders': 'procurement.list_orders',
  'export stock for WH-B': 'storage.stock_level',
  // storage (test/storage.skill.*.test.ts)
  'receive goods for PO-1007': 'storage.receive_goods',
  'receive PO-99999': 'storage.receive_goods',
  'receive PO-1001': 'storage.receive_goods',
  'receive PO-1004': 'storage.receive_goods',
  'receive PO-1003': 'storage.receive_goods',
  'receive goods from SH-2001': 'storage.receive_goods',
  'receive 40 SKU-1002 against PO-1002': 'storage.receive_goods',
  'receive 5 SKU-1009 against PO-1007': 'storage.receive_goods',
  'receive SH-2003 into WH-Z': 'storage.receive_goods',
  'receive goods from SH-2003': 'storage.receive_goods',
  'receive 30 SKU-1002 from SH-2001': 'storage.receive_goods',
  'how many SKU-1001 do we have in WH-A': 'storage.stock_level',
  'how many SKU-1001 do we have': 'storage.stock_level',
  'what stock do we have in WH-A': 'storage.stock_level',
  'what stock do we have': 'storage.stock_level',
  'how much copy paper is in Rotterdam': 'storage.stock_level',
  'how many SKU-9999 do we have': 'storage.stock_level',
  'stock in WH-Z': 'storage.stock_level',
  'move 100 SKU-1001 from WH-A to WH-B': 'storage.transfer_stock',
  'transfer 5000 SKU-1001 from WH-A to WH-B': 'storage.transfer_stock',
  'move 50 SKU-1001 from bin A-01-01 to bin A-03-01': 'storage.transfer_stock',
  'move 1000 SKU-1001 from WH-A to WH-C': 'storage.transfer_stock',
  'move 20 pallets from WH-B to WH-C': 'storage.transfer_stock',
  // customs (test/customs.*.test.ts)
  'file a declaration for the Shenzhen container': 'customs.file_declaration',
  'file a customs declaration for SH-2004': 'customs.file_declaration',
  'file a declaration for SH-2002': 'customs.file_declaration',
  'file a declaration for SH-2901': 'customs.file_declaration',
  'file a declaration for SH-2902': 'customs.file_declaration',
  'file a declaration for SH-2903': 'customs.file_declaration',
  'file a declaration for SH-99999': 'customs.file_declaration',
  'file a declaration for SH-2003; DROP TABLE shipments': 'customs.file_declaration',
  'I need to file a customs declaration': 'customs.file_declaration',
  'did the Shenzhen container clear customs?': 'customs.declaration_status',
  'has SH-2902 cleared?': 'customs.declaration_status',
  'has SH-2002 cleared?': 'customs.declaration_status',
  'what is the status of CD-3001': 'customs.declaration_status',
  'what is the status of CD-99999': 'customs.declaration_status',
  'customs status of SH-2001': 'customs.declaration_status',
  'what is the status of the customs declaration for SH-99999': 'customs.declaration_status',
  'has the Frankfurt shipment cleared?': 'customs.declaration_status',
  "what's the customs status of the container": 'customs.declaration_status',
  "what's the customs status of the Atlantis container": 'customs.declaration_status',
  "status of CD-3001'; UPDATE customs_declarations SET status='cleared';--": 'customs.declaration_status',
  "what's the HS code for nitrile gloves": 'customs.classify_goods',
  'HS code for tyres': 'customs.classify_goods',
  "what's the HS code for lithium-ion battery packs worth $5,000 from China": 'customs.classify_goods',
  'HS code for coffee beans from Brazil worth $2,000': 'customs.classify_goods',
  'HS code for solar inverters': 'customs.classify_goods',
  'HS code for widgets': 'customs.classify_goods',
  'what is the duty on 10,000,000,000,000 dollars of solar inverters from China': 'customs.classify_goods',
  'HS code for <script>alert(1)</script> gloves': 'customs.classify_goods',
  // Stands in for a message the classifier gives up on, so the LLM fallback path runs (the shipped
  // model actually reads this one as procurement.create_order; the table's answer wins, see below).
  'hands are getting dirty, get globex to send 20 boxes of gloves': 'out_of_scope',
};

/** Utterances with ids only known at run time. */
export const TEST_INTENT_PATTERNS: [RegExp, string][] = [
  [/^what is the status of PO-\d+$/i, 'procurement.order_status'],
  [/^cancel PO-\d+$/i, 'procurement.cancel_order'],
  [/^approve PO-\d+$/i, 'procurement.approve_order'],
  [/^what is the status of CD-\d+$/i, 'customs.declaration_status'],
  [/^receive \d+ SKU-\d+ against PO-\d+$/i, 'storage.receive_goods'],
  [/^receive goods for PO-\d+$/i, 'storage.receive_goods'],
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

/** What `useSkillApp` / `useChatDatabase` set up for one describe block; read it inside hooks and tests. */
export interface SkillAppFixture {
  /** The fresh database (its own handle is closed: the app opens the database itself). */
  readonly db: TestDatabase;
  /** The channel the chat users' replies and proactive notifications arrive at. */
  readonly receiver: ConnectorReceiver;
  /** The running server (`useSkillApp` only). */
  readonly app: RunningApp;
}

/**
 * Registers beforeAll/afterAll for a describe block on one database target: a fresh database, a
 * ConnectorReceiver, and — when `start` is given — the app, then `afterStart`. The app is closed
 * before the receiver stops and the database is disposed. Nothing happens on a skipped target.
 */
function registerFixture(
  target: DatabaseTarget,
  start?: (db: TestDatabase) => Promise<RunningApp>,
  afterStart?: (app: RunningApp) => Promise<void>,
): SkillAppFixture {
  let db: TestDatabase | undefined;
  let receiver: ConnectorReceiver | undefined;
  let app: RunningApp | undefined;
  beforeAll(async () => {
    if (target.skip) return;
    db = await target.create();
    await db.db.close(); // one PGlite process per directory: the app opens it again
    receiver = new ConnectorReceiver();
    await receiver.start();
    if (start) app = await start(db);
    if (app && afterStart) await afterStart(app);
  });
  afterAll(async () => {
    await app?.close();
    await receiver?.stop();
    await db?.dispose();
  });
  return {
    get db() {
      return db!;
    },
    get receiver() {
      return receiver!;
    },
    get app() {
      return app!;
    },
  };
}

/**
 * The demo-data server for one describe block (see startProcurementApp); `env` may be a function
 * when it depends on something started in an earlier beforeAll. `afterStart` runs extra set-up
 * (e.g. seeding) once the app is up.
 *
 *   describe.each(targets)('… on $name', (target) => {
 *     const fixture = useSkillApp(target, { USER_ROLES: ROLES });
 *     it.skipIf(target.skip)('…', async () => { new ChatUser(() => fixture.app.url, fixture.receiver, …) });
 *   });
 */
export function useSkillApp(
  target: DatabaseTarget,
  env: Record<string, string> | (() => Record<string, string>) = {},
  options: StartOptions = {},
  afterStart?: (app: RunningApp) => Promise<void>,
): SkillAppFixture {
  return registerFixture(target, (db) => startProcurementApp(db.config, typeof env === 'function' ? env() : env, options), afterStart);
}

/** The database and receiver only, for tests that start (and close) an app of their own each. */
export function useChatDatabase(target: DatabaseTarget): Omit<SkillAppFixture, 'app'> {
  return registerFixture(target);
}

/** `buyer` orders 80 × SKU-1005 from Acme (over the approval limit) and confirms; resolves to the PO waiting for approval. */
export async function orderAwaitingApproval(buyer: ChatUser): Promise<string> {
  const asked = allText(await buyer.say('order 80 units of SKU-1005 from Acme Corp'));
  if (!/Approval: needed/.test(asked)) throw new Error(`expected an order that needs approval, got: ${asked}`);
  await buyer.click('Confirm');
  const [waiting] = await buyer.waitForNotification(/PO-\d+ is created and waiting for approval/);
  return /PO-\d+/.exec(waiting!.text)![0];
}
