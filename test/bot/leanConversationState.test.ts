import { ConversationState, MemoryStorage, TestAdapter, TurnContext, type BotState, type StoreItems } from 'botbuilder';
import type { Activity } from 'botbuilder';
import { describe, expect, it } from 'vitest';
import { LeanConversationState } from '../../src/bot/state/leanConversationState.js';

/** MemoryStorage that counts writes (what the change check decides). */
class CountingStorage extends MemoryStorage {
  writes = 0;
  override async write(changes: StoreItems): Promise<void> {
    this.writes += 1;
    await super.write(changes);
  }
}

const activity = { type: 'message', text: 'hi', channelId: 'test', conversation: { id: 'c1' }, from: { id: 'u1', name: 'User' }, recipient: { id: 'bot', name: 'Bot' } } as Partial<Activity>;
const turnContext = () => new TurnContext(new TestAdapter(), { ...activity });

interface Data {
  turns: number;
  nested?: { list: string[] };
  eTag?: string;
}

/** One turn: load, let `change` edit the property, save (as AssistantBot.saveState does). */
async function turn(state: BotState, change: (d: Data, s: Record<string, unknown>) => void, force = false): Promise<Data> {
  const ctx = turnContext();
  const prop = state.createProperty<Data>('data');
  const data = await prop.get(ctx, { turns: 0 });
  change(data, state.get(ctx) as Record<string, unknown>);
  await state.saveChanges(ctx, force);
  return data;
}

/** The same scripted turns against a state class; returns the writes after each turn and the last data. */
async function script(make: (s: CountingStorage) => BotState): Promise<{ writes: number[]; last: Data }> {
  const storage = new CountingStorage();
  const state = make(storage);
  const writes: number[] = [];
  const steps: Array<[(d: Data, s: Record<string, unknown>) => void, boolean?]> = [
    [(d) => void (d.turns += 1)], // first turn: default value created → write
    [() => {}], // nothing changed → no write
    [(d) => void (d.nested = { list: ['a'] })], // new nested object → write
    [(d) => void d.nested!.list.push('b')], // change deep inside → write
    [(_d, s) => void (s.eTag = 'other')], // only the eTag differs → no write
    [() => {}, true], // force → write
    [(d) => void (d.turns += 1)],
  ];
  let last: Data = { turns: 0 };
  for (const [change, force] of steps) {
    last = await turn(state, change, force);
    writes.push(storage.writes);
  }
  return { writes, last };
}

describe('LeanConversationState', () => {
  it('writes exactly when the SDK ConversationState writes, and keeps the same data', async () => {
    const sdk = await script((s) => new ConversationState(s));
    const lean = await script((s) => new LeanConversationState(s));
    expect(sdk.writes).toEqual([1, 1, 2, 3, 3, 4, 5]);
    expect(lean.writes).toEqual(sdk.writes);
    expect(lean.last).toEqual(expect.objectContaining({ turns: 2, nested: { list: ['a', 'b'] } }));
  });

  it('a second save in the same turn with nothing new does not write again', async () => {
    const storage = new CountingStorage();
    const state = new LeanConversationState(storage);
    const ctx = turnContext();
    const data = await state.createProperty<Data>('data').get(ctx, { turns: 0 });
    data.turns = 5;
    await state.saveChanges(ctx);
    await state.saveChanges(ctx);
    expect(storage.writes).toBe(1);
    data.turns = 6;
    await state.saveChanges(ctx);
    expect(storage.writes).toBe(2);
  });

  it('keeps get / clear / load(force) working on the same per-turn cache as BotState', async () => {
    const storage = new CountingStorage();
    const state = new LeanConversationState(storage);
    await turn(state, (d) => void (d.turns = 3));
    const ctx = turnContext();
    await state.load(ctx);
    expect((state.get(ctx) as { data: Data }).data.turns).toBe(3);
    state.clear(ctx);
    await state.saveChanges(ctx);
    expect(storage.writes).toBe(2);
    const reread = await state.load(turnContext(), true);
    expect(reread.data).toBeUndefined();
  });
});
