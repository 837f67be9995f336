/**
 * The main-thread CPU (user + system, `process.cpuUsage`) of a turn's database work on PostgreSQL,
 * piece by piece, rounds interleaved (turncost4, issue 16):
 *
 *   round trip, simple protocol    one `SELECT 1` on a pg.Client (what each lock script costs as a round trip)
 *   round trip, extended protocol  `SELECT $1::int` on a pg.Client
 *   pool.query                     the same through the pg pool under TypeORM
 *   typeorm execute                the same through src/db/sql.ts `execute` (QueryRunner per statement)
 *   lock + state turn              PostgresConversationLock with the state read under the lock,
 *                                  LeanConversationState load, one change, save (commit + unlock): 2 round trips
 *   lock only                      the same lock (try-lock + unlock, extended protocol), no state: 2 round trips
 *   state only                     the same state work on botbuilder's MemoryStorage: no database
 *   reference upsert               ConversationReferenceStore.remember of a new conversation (pool, TypeORM)
 *
 * over loopback TCP and, when the server has one, the Unix socket (`--unix /var/run/postgresql`).
 * A fresh database on TEST_POSTGRES_URL's server (default the local one), dropped at the end.
 *
 *   npx tsx bench/turnDbCost.ts [--ops 2000] [--rounds 5] [--unix /var/run/postgresql] [--only 'lock + state']
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { MemoryStorage, TestAdapter, TurnContext, type Activity } from 'botbuilder';
import { ConversationReferenceStore } from '../src/bot/proactive/conversationReferences.js';
import { PostgresConversationLock } from '../src/bot/state/conversationLock.js';
import { LeanConversationState } from '../src/bot/state/leanConversationState.js';
import { PostgresStorage } from '../src/bot/state/PostgresStorage.js';
import { openDatabase } from '../src/db/database.js';
import { execute } from '../src/db/sql.js';

const { values } = parseArgs({ options: { ops: { type: 'string', default: '2000' }, rounds: { type: 'string', default: '5' }, unix: { type: 'string' }, only: { type: 'string' } } });
const OPS = Number(values.ops);
const ROUNDS = Number(values.rounds);
const adminUrl = process.env.TEST_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
const name = `rpa_turndb_${randomUUID().slice(0, 8)}`;
await admin.query(`CREATE DATABASE ${name}`);
const tcpUrl = Object.assign(new URL(adminUrl), { pathname: `/${name}` }).toString();
const urls: [string, string][] = [['tcp', tcpUrl]];
if (values.unix) urls.push(['unix', `postgres://postgres@localhost/${name}?host=${encodeURIComponent(values.unix)}`]);

const adapter = new TestAdapter();
const activity = (id: string): Partial<Activity> => ({
  type: 'message', id: randomUUID(), text: 'yes', channelId: 'emulator', serviceUrl: 'http://127.0.0.1:3978/', locale: 'en-US',
  conversation: { id } as Activity['conversation'], from: { id: 'user-1', name: 'Ann Buyer' }, recipient: { id: 'bot', name: 'rpa' },
});

try {
  const db = await openDatabase({ mode: 'postgres', url: tcpUrl }, { poolSize: 10 }); // migrates
  await db.close();
  type Piece = { label: string; op: () => Promise<unknown>; close: () => Promise<void> };
  const pieces: Piece[] = [];
  for (const [via, url] of urls) {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const opened = await openDatabase({ mode: 'postgres', url }, { poolSize: 10, migrate: false });
    const pool = (opened.dataSource.driver as unknown as { master: pg.Pool }).master;
    const lock = new PostgresConversationLock({ url, timeoutMs: 10_000, connections: Number(process.env.LOCK_CONNECTIONS ?? 4) });
    const state = new LeanConversationState(new PostgresStorage(opened.dataSource));
    const data = state.createProperty<{ turns: number; recent: unknown[] }>('conversationData');
    const dialog = state.createProperty('dialogState');
    const refs = new ConversationReferenceStore(opened.dataSource);
    const convs = Array.from({ length: 50 }, (_, i) => `conv-${i}-${randomUUID()}`);
    let t = 0;
    const lockTurn = async () => {
      const id = convs[t++ % convs.length]!;
      const context = new TurnContext(adapter, activity(id));
      await lock.run(
        `emulator/conversations/${id}`,
        async () => {
          const d = await data.get(context, { turns: 0, recent: [] });
          d.turns += 1;
          d.recent = [{ type: 'purchase_order', value: 'PO-2026-0042', turn: d.turns }, { type: 'sku', value: 'SKU-1001', turn: d.turns - 1 }];
          await dialog.set(context, { dialogStack: [{ id: 'action', state: { options: { action: 'procurement.create_order', slots: { supplier: 'Globex', sku: 'SKU-1001', quantity: 40 } }, values: { instanceId: 'b1f3' }, stepIndex: 0 } }] });
          await state.saveChanges(context);
        },
        { stateKey: state.getStorageKey(context) },
      );
    };
    // The same turn without the database (in-memory storage), and the lock without the state.
    const memState = new LeanConversationState(new MemoryStorage());
    const memData = memState.createProperty<{ turns: number; recent: unknown[] }>('conversationData');
    const memDialog = memState.createProperty('dialogState');
    const stateOnlyTurn = async () => {
      const id = convs[t++ % convs.length]!;
      const context = new TurnContext(adapter, activity(id));
      const d = await memData.get(context, { turns: 0, recent: [] });
      d.turns += 1;
      d.recent = [{ type: 'purchase_order', value: 'PO-2026-0042', turn: d.turns }, { type: 'sku', value: 'SKU-1001', turn: d.turns - 1 }];
      await memDialog.set(context, { dialogStack: [{ id: 'action', state: { options: { action: 'procurement.create_order', slots: { supplier: 'Globex', sku: 'SKU-1001', quantity: 40 } }, values: { instanceId: 'b1f3' }, stepIndex: 0 } }] });
      await memState.saveChanges(context);
    };
    const lockOnlyTurn = async () => {
      const id = convs[t++ % convs.length]!;
      await lock.run(`emulator/conversations/${id}`, async () => {});
    };
    const closeAll = async () => {
      await client.end();
      await lock.close();
      await opened.close();
    };
    pieces.push(
      { label: `${via}: round trip, simple protocol`, op: () => client.query('SELECT 1'), close: async () => {} },
      { label: `${via}: round trip, extended protocol`, op: () => client.query('SELECT $1::int', [1]), close: async () => {} },
      { label: `${via}: pool.query (extended)`, op: () => pool.query('SELECT $1::int', [1]), close: async () => {} },
      { label: `${via}: typeorm execute (extended)`, op: () => execute(opened.dataSource, 'SELECT $1::int', [1]), close: async () => {} },
      { label: `${via}: lock + state turn (2 round trips)`, op: lockTurn, close: async () => {} },
      { label: `${via}: lock only, no state (2 round trips)`, op: lockOnlyTurn, close: async () => {} },
      { label: `${via}: state only, in-memory storage`, op: stateOnlyTurn, close: async () => {} },
      { label: `${via}: reference upsert, new conversation`, op: () => refs.remember(activity(`new-${randomUUID()}`)), close: closeAll },
    );
  }
  const measure = async (op: () => Promise<unknown>): Promise<[number, number]> => {
    const c0 = process.cpuUsage();
    for (let i = 0; i < OPS; i++) await op();
    const c = process.cpuUsage(c0);
    return [(c.user + c.system) / OPS, c.system / OPS];
  };
  if (values.only) for (const p of pieces.filter((x) => !x.label.includes(values.only!))) p.op = async () => {};
  for (const p of pieces) for (let i = 0; i < 200; i++) await p.op(); // warm-up
  const results = new Map<string, [number, number][]>();
  for (let r = 0; r < ROUNDS; r++) for (const p of pieces) results.set(p.label, [...(results.get(p.label) ?? []), await measure(p.op)]);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(`${new Date().toISOString()} ${OPS} ops × ${ROUNDS} rounds; µs of CPU per op, median (range) [system part]`);
  for (const [label, rs] of results) {
    const cpu = rs.map((x) => x[0]);
    console.log(`  ${label.padEnd(46)} ${median(cpu).toFixed(1).padStart(6)} (${Math.min(...cpu).toFixed(0)}–${Math.max(...cpu).toFixed(0)}) [sys ${median(rs.map((x) => x[1])).toFixed(1)}]`);
  }
  for (const p of pieces) await p.close();
} finally {
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
}
