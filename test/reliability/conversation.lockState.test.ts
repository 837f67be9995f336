/**
 * The conversation's state row handled with its lock (src/bot/state/turnStateSession.ts,
 * conversationLock.ts, PostgresStorage.ts; issue 16): on PostgreSQL the lock reads the row in the
 * round trip that takes the lock, and the state save commits and releases the lock in one round
 * trip. Each turn still sees the previous turn's state, whatever process ran it; a conflicting or
 * failing save still releases the lock.
 */
import { randomUUID } from 'node:crypto';
import { ConversationState, TestAdapter, TurnContext, type Activity } from 'botbuilder';
import { describe, expect, it, vi } from 'vitest';
import { lockShard, PostgresConversationLock } from '../../src/bot/state/conversationLock.js';
import { ETagConflictError, PostgresStorage } from '../../src/bot/state/PostgresStorage.js';
import { turnStateFor } from '../../src/bot/state/turnStateSession.js';
import { execute } from '../../src/db/sql.js';
import { databaseTargets } from '../helpers/databases.js';
import { usePostgresLocks } from '../helpers/postgresLocks.js';

const postgres = (await databaseTargets()).find((t) => t.kind === 'postgres')!;
const tick = () => new Promise((r) => setTimeout(r, 1 + Math.random() * 3));

function conversation(): Partial<Activity> {
  return { type: 'message', channelId: 'test', conversation: { id: `c-${randomUUID()}` } as Activity['conversation'], from: { id: 'u', name: 'u' }, recipient: { id: 'b', name: 'b' } };
}

describe.skipIf(postgres.skip)('conversation state read and written with the turn lock (PostgreSQL)', () => {
  const fx = usePostgresLocks(postgres);
  const newLock = (timeoutMs?: number) => fx.newLock(timeoutMs);

  it('two processes, 40 turns of one conversation: every turn sees the last one\'s state, none through the pool', async () => {
    const adapter = new TestAdapter();
    const activity = conversation();
    // Two "processes": a lock session and a Storage / ConversationState each.
    const sides = [0, 1].map(() => {
      const state = new ConversationState(new PostgresStorage(fx.db.db.dataSource));
      return { lock: newLock(), state, counter: state.createProperty<number>('count') };
    });
    const probe = new TurnContext(adapter, { ...activity });
    const lockKey = `test/conversations/${activity.conversation!.id}`;
    const stateKey = sides[0]!.state.getStorageKey(probe)!;
    const pool = vi.spyOn(fx.db.db.dataSource, 'createQueryRunner');
    const before = pool.mock.calls.length;

    const turn = (side: (typeof sides)[number]) =>
      side.lock.run(
        lockKey,
        async () => {
          const context = new TurnContext(adapter, { ...activity });
          const seen = await side.counter.get(context, 0);
          await tick();
          await side.counter.set(context, seen + 1);
          await side.state.saveChanges(context);
        },
        { stateKey },
      );
    await Promise.all(sides.flatMap((side) => Array.from({ length: 20 }, () => turn(side))));

    const poolRunners = pool.mock.calls.length - before;
    pool.mockRestore();
    const { rows } = await execute<{ document: { count: number } }>(fx.db.db.dataSource, 'SELECT document FROM bot_state WHERE key = $1', [stateKey]);
    expect(rows[0]?.document.count).toBe(40);
    expect(poolRunners).toBe(0);
  });

  it('a save that conflicts (the row changed under the turn) is refused and still releases the lock', async () => {
    const adapter = new TestAdapter();
    const activity = conversation();
    const state = new ConversationState(new PostgresStorage(fx.db.db.dataSource));
    const counter = state.createProperty<number>('count');
    const lockKey = `test/conversations/${activity.conversation!.id}`;
    const stateKey = state.getStorageKey(new TurnContext(adapter, { ...activity }))!;
    const first = new TurnContext(adapter, { ...activity });
    await counter.set(first, 1);
    await state.saveChanges(first);

    const lock = newLock();
    await expect(
      lock.run(
        lockKey,
        async () => {
          const context = new TurnContext(adapter, { ...activity });
          await counter.set(context, (await counter.get(context, 0)) + 1);
          // Someone writes the row without the lock (a lost lock connection, an operator).
          await execute(fx.db.db.dataSource, `UPDATE bot_state SET document = '{"count": 7}'::jsonb, etag = 'theirs' WHERE key = $1`, [stateKey]);
          await state.saveChanges(context);
        },
        { stateKey },
      ),
    ).rejects.toBeInstanceOf(ETagConflictError);
    // Free at once for another process (a 300 ms wait would time out if the lock were still held).
    await expect(newLock(300).run(lockKey, async () => 'next turn ran')).resolves.toBe('next turn ran');
    const { rows } = await execute<{ document: { count: number } }>(fx.db.db.dataSource, 'SELECT document FROM bot_state WHERE key = $1', [stateKey]);
    expect(rows[0]?.document.count).toBe(7);
  });

  it('state with quotes, backslashes, JSON look-alikes, NUL and lone surrogates goes through the lock\'s scripts and comes back as stored', async () => {
    // The conversation id (lock and state key) and the document travel as literals in the lock's
    // scripts (no parameters): what the next turn reads must be what a parameterised write stores.
    const adapter = new TestAdapter();
    const activity = { ...conversation(), conversation: { id: `c-'\\-${randomUUID()}-\\'` } as Activity['conversation'] };
    const state = new ConversationState(new PostgresStorage(fx.db.db.dataSource));
    const note = state.createProperty<Record<string, unknown>>('note');
    const lockKey = `test/conversations/${activity.conversation!.id}`;
    const stateKey = state.getStorageKey(new TurnContext(adapter, { ...activity }))!;
    const tricky = { quote: "it's", back: 'C:\\temp\\', both: "\\'\\''", json: '{"a":"b\\"c"}', escaped: '\\u0000 \\ud800', nul: 'a\u0000b', lone: 'x\uD800y', pair: '\uD83D\uDE00', ["k'\\ey"]: 'v' };
    const lock = newLock();
    const pool = vi.spyOn(fx.db.db.dataSource, 'createQueryRunner');
    const before = pool.mock.calls.length;
    for (let turn = 0; turn < 2; turn++) {
      await lock.run(
        lockKey,
        async () => {
          const context = new TurnContext(adapter, { ...activity });
          const seen = await note.get(context, {});
          if (turn === 1) expect(seen).toEqual({ ...tricky, nul: 'ab', lone: 'x\uFFFDy', turn: 0 });
          await note.set(context, { ...tricky, turn });
          await state.saveChanges(context);
        },
        { stateKey },
      );
    }
    const poolRunners = pool.mock.calls.length - before;
    pool.mockRestore();
    expect(poolRunners).toBe(0);
    // The same document written through the pool (parameters) reads back equal.
    const reference = new PostgresStorage(fx.db.db.dataSource);
    await reference.write({ [`${stateKey}/param`]: { note: { ...tricky, turn: 1 } } });
    const { rows } = await execute<{ key: string; document: unknown }>(fx.db.db.dataSource, 'SELECT key, document FROM bot_state WHERE key = ANY($1::text[]) ORDER BY key', [[stateKey, `${stateKey}/param`]]);
    expect(rows.map((r) => r.key)).toEqual([stateKey, `${stateKey}/param`]);
    expect(rows[0]!.document).toEqual(rows[1]!.document);
  });

  it('a save that fails in the database ends the lock connection: the lock is free and the next turn locks again', async () => {
    const lockKey = `test/conversations/${randomUUID()}`;
    const stateKey = `${lockKey}/`;
    const lock = newLock();
    await expect(
      lock.run(lockKey, () => turnStateFor(stateKey)!.commitAndRelease(() => 'SELECT 1/0')!, { stateKey }),
    ).rejects.toThrow(/division by zero/);
    await expect(newLock(300).run(lockKey, async () => 'other process')).resolves.toBe('other process');
    await expect(lock.run(lockKey, async () => 'same process, new connection', { stateKey })).resolves.toBe('same process, new connection');
  });

  it('a slow state write holds only the conversations of its own lock connection', async () => {
    // Two conversations: the first one's state write takes 2 s in the database; the second asks for its lock meanwhile.
    const race = async (connections: number): Promise<string[]> => {
      const lock = new PostgresConversationLock({ url: fx.url, timeoutMs: 10_000, connections });
      const keyOn = (shard: number, not?: string): string => {
        for (;;) {
          const key = `test/conversations/${randomUUID()}`;
          if (key !== not && lockShard(key, connections) === shard) return key;
        }
      };
      const slowKey = keyOn(0);
      const otherKey = keyOn(connections > 1 ? 1 : 0, slowKey);
      const order: string[] = [];
      try {
        let entered!: () => void;
        const inSlow = new Promise<void>((r) => (entered = r));
        const slow = lock.run(
          slowKey,
          async () => {
            entered();
            await turnStateFor(`${slowKey}/`)!.commitAndRelease(() => 'SELECT pg_sleep(2)');
            order.push('slow');
          },
          { stateKey: `${slowKey}/` },
        );
        await inSlow;
        const other = lock.run(otherKey, async () => void order.push('other'), { stateKey: `${otherKey}/` });
        await Promise.all([slow, other]);
        return order;
      } finally {
        await lock.close();
      }
    };
    expect(await race(4)).toEqual(['other', 'slow']);
    // On one connection the other conversation's lock waits behind the slow write: the case sharding removes.
    expect(await race(1)).toEqual(['slow', 'other']);
  });
});
