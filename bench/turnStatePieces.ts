/**
 * The per-turn state and dialog set-up of a turn, in process, SDK way vs this server's way, rounds
 * interleaved so both see the same machine: load the conversation state (a realistic document:
 * turn counter, recent entities, an action dialog waiting at its confirmation card), change the
 * counter, build the DialogContext, save. Storage is an in-memory stand-in (a structured clone per
 * read), so the database is not part of the number. Then the inbound activity check: the zod schema
 * vs the hand-written check that now runs first (http/activityFastCheck.ts), on the bench's activity.
 *
 *   npx tsx bench/turnStatePieces.ts [--turns 20000] [--rounds 5]
 */
import { parseArgs } from 'node:util';
import { ConversationState, TestAdapter, TurnContext, type BotState, type Storage, type StoreItems } from 'botbuilder';
import type { Activity } from 'botbuilder';
import { Dialog, DialogSet, WaterfallDialog } from 'botbuilder-dialogs';
import { shareDialogStateConfig } from '../src/bot/dialogs/dialogStateConfig.js';
import { passesActivityFastCheck } from '../src/bot/http/activityFastCheck.js';
import { inboundActivitySchema } from '../src/bot/http/activitySchema.js';
import { LeanConversationState } from '../src/bot/state/leanConversationState.js';

const DOCUMENT = {
  conversationData: {
    turns: 12,
    lastIntent: 'procurement.create_order',
    recentEntities: [
      { type: 'purchase_order', value: 'PO-2026-0042', turn: 10, at: 1_765_000_000_000 },
      { type: 'sku', value: 'SKU-1001', turn: 11, at: 1_765_000_001_000 },
    ],
  },
  lastConfirmation: { key: 'teams:c1:act-9:nonce', at: 1_765_000_002_000 },
  dialogState: {
    dialogStack: [
      {
        id: 'action',
        state: {
          dialogs: {
            dialogStack: [
              {
                id: 'action.confirm',
                state: { options: { action: 'procurement.create_order', slots: { supplier: 'Globex', sku: 'SKU-1001', quantity: 40, need_by: '2026-12-20' } }, values: { instanceId: 'b1f3' }, stepIndex: 0 },
              },
            ],
          },
          options: { action: 'procurement.create_order', ref: 'act-9', initial: { text: 'order 40 SKU-1001 from Globex by the 20th', entities: [] } },
        },
      },
    ],
  },
};

class CloneStorage implements Storage {
  async read(keys: string[]): Promise<StoreItems> {
    return Object.fromEntries(keys.map((k) => [k, { ...structuredClone(DOCUMENT), eTag: 'e1' }]));
  }
  async write(): Promise<void> {}
  async delete(): Promise<void> {}
}

const activity = { type: 'message', text: 'yes', channelId: 'test', conversation: { id: 'c1' }, from: { id: 'u1', name: 'User' }, recipient: { id: 'bot', name: 'Bot' } } as Partial<Activity>;

function setUp(state: BotState, share: boolean) {
  const dialogs = new DialogSet(state.createProperty('dialogState'));
  dialogs.add(new WaterfallDialog('action', [async () => Dialog.EndOfTurn]));
  const data = state.createProperty<{ turns: number }>('conversationData');
  const adapter = new TestAdapter();
  return async (): Promise<void> => {
    const ctx = new TurnContext(adapter, { ...activity });
    if (share) shareDialogStateConfig(ctx);
    const d = await data.get(ctx, { turns: 0 });
    d.turns += 1;
    await dialogs.createContext(ctx);
    await state.saveChanges(ctx, false);
  };
}

async function timeTurns(turn: () => Promise<void>, n: number): Promise<number> {
  const t0 = process.cpuUsage();
  for (let i = 0; i < n; i++) await turn();
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / n;
}

const { values } = parseArgs({ options: { turns: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '5' } } });
const n = Number(values.turns);
const sdk = setUp(new ConversationState(new CloneStorage()), false);
const lean = setUp(new LeanConversationState(new CloneStorage()), true);
await timeTurns(sdk, 2000);
await timeTurns(lean, 2000);
const rows: Array<[number, number]> = [];
for (let r = 0; r < Number(values.rounds); r++) rows.push([await timeTurns(sdk, n), await timeTurns(lean, n)]);
for (const [a, b] of rows) console.log(`SDK ${a.toFixed(1)} µs/turn   lean ${b.toFixed(1)} µs/turn   saved ${(a - b).toFixed(1)} µs (${((1 - b / a) * 100).toFixed(0)}%)`);
const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
console.log(`median: SDK ${med(rows.map((r) => r[0])).toFixed(1)} µs, lean ${med(rows.map((r) => r[1])).toFixed(1)} µs, saved ${med(rows.map((r) => r[0] - r[1])).toFixed(1)} µs/turn`);

const inbound = (i: number) => ({
  type: 'message',
  id: `a-${i}`,
  channelId: 'bench',
  serviceUrl: 'http://127.0.0.1:39000',
  conversation: { id: `c${i % 50}` },
  from: { id: 'u1', name: 'User One' },
  recipient: { id: 'bot', name: 'RPA Assistant' },
  text: 'order 40 SKU-1001 from Globex by the 20th',
  timestamp: '2026-12-07T04:00:00.000Z',
});
const urlOk = new Set<string>();
const serviceUrlOk = (u: string) => urlOk.has(u) || (inboundActivitySchema.shape.serviceUrl.safeParse(u).success && !!urlOk.add(u));
async function timeChecks(check: (b: unknown) => boolean, count: number): Promise<number> {
  const t0 = process.cpuUsage();
  for (let i = 0; i < count; i++) if (!check(inbound(i))) throw new Error('refused');
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / count;
}
const zodCheck = (b: unknown) => inboundActivitySchema.safeParse(b).success;
const fastCheck = (b: unknown) => passesActivityFastCheck(b, serviceUrlOk, 16_000);
const checks: Array<[number, number]> = [];
for (let r = 0; r < Number(values.rounds); r++) checks.push([await timeChecks(zodCheck, n), await timeChecks(fastCheck, n)]);
console.log(`activity check, median: zod ${med(checks.map((c) => c[0])).toFixed(2)} µs, fast check ${med(checks.map((c) => c[1])).toFixed(2)} µs per activity`);
