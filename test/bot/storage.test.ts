import { randomUUID } from 'node:crypto';
import { ConversationState, MemoryStorage, TestAdapter, type Storage, type StoreItems } from 'botbuilder';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ETagConflictError, PostgresStorage } from '../../src/bot/state/PostgresStorage.js';
import { execute } from '../../src/db/sql.js';
import { databaseTargets, type TestDatabase } from '../helpers/databases.js';

const targets = await databaseTargets();

/** A fresh key per test so tests sharing a database do not see each other's items. */
const newKey = (label = 'item') => `test/${label}/${randomUUID()}`;

async function outcome(p: Promise<unknown>): Promise<'ok' | 'conflict'> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (err instanceof Error && /eTag conflict/.test(err.message)) return 'conflict';
    throw err;
  }
}

describe('PostgresStorage (no database needed)', () => {
  it('ETagConflictError carries the key and MemoryStorage-style message', () => {
    const err = new ETagConflictError('k');
    expect(err.key).toBe('k');
    expect(err.message).toBe('Storage: error writing "k" due to eTag conflict.');
  });
});

describe.each(targets)('PostgresStorage on $name', (target) => {
  describe.skipIf(target.skip)('storage', () => {
    let t: TestDatabase;
    let storage: PostgresStorage;
    beforeAll(async () => {
      t = await target.create();
      storage = new PostgresStorage(t.db.dataSource);
    });
    afterAll(() => t?.dispose());

    it('reads only existing keys; a missing key or empty list is not an error', async () => {
      expect(await storage.read([newKey(), newKey()])).toEqual({});
      expect(await storage.read([])).toEqual({});
      await expect(storage.delete([newKey()])).resolves.toBeUndefined();
    });

    it('round-trips write, read, update and delete', async () => {
      const key = newKey();
      await storage.write({ [key]: { count: 1, nested: { list: [1, 'two', null], flag: true }, eTag: '*' } });
      const first = (await storage.read([key]))[key];
      expect(first).toMatchObject({ count: 1, nested: { list: [1, 'two', null], flag: true } });
      expect(typeof first?.eTag).toBe('string');
      expect(first?.eTag).not.toBe('*');

      await storage.write({ [key]: { ...first, count: 2 } });
      const second = (await storage.read([key]))[key];
      expect(second?.count).toBe(2);
      expect(second?.eTag).not.toBe(first?.eTag);

      await storage.delete([key]);
      expect(await storage.read([key])).toEqual({});
    });

    it('reads several keys at once', async () => {
      const [a, b, missing] = [newKey('a'), newKey('b'), newKey('missing')];
      await storage.write({ [a]: { v: 'a' }, [b]: { v: 'b' } });
      const items = await storage.read([a, b, missing]);
      expect(Object.keys(items).sort()).toEqual([a, b].sort());
      expect(items[a]?.v).toBe('a');
      expect(items[b]?.v).toBe('b');
    });

    it('rejects a write with a stale eTag and keeps the stored item', async () => {
      const key = newKey();
      await storage.write({ [key]: { v: 1 } });
      const stale = (await storage.read([key]))[key]!;
      await storage.write({ [key]: { ...stale, v: 2 } });
      await expect(storage.write({ [key]: { ...stale, v: 3 } })).rejects.toBeInstanceOf(ETagConflictError);
      expect((await storage.read([key]))[key]?.v).toBe(2);
    });

    it("'*' and a missing eTag overwrite whatever is stored", async () => {
      const key = newKey();
      await storage.write({ [key]: { v: 1 } });
      await storage.write({ [key]: { v: 2, eTag: '*' } });
      expect((await storage.read([key]))[key]?.v).toBe(2);
      await storage.write({ [key]: { v: 3 } });
      expect((await storage.read([key]))[key]?.v).toBe(3);
    });

    it('concurrent writes holding the same eTag: exactly one wins, the others reject', async () => {
      const key = newKey();
      await storage.write({ [key]: { v: 'start' } });
      const { eTag } = (await storage.read([key]))[key]!;
      const writers = Array.from({ length: 8 }, (_, i) => storage.write({ [key]: { v: `writer-${i}`, eTag } }));
      const results = await Promise.allSettled(writers);
      const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
      expect(winners).toHaveLength(1);
      for (const r of results) {
        if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ETagConflictError);
      }
      expect((await storage.read([key]))[key]?.v).toBe(`writer-${winners[0]}`);
    });

    it('a write of several keys is all or nothing', async () => {
      const [a, b] = [newKey('a'), newKey('b')];
      await storage.write({ [a]: { v: 1 } });
      const stale = (await storage.read([a]))[a]!;
      await storage.write({ [a]: { v: 2 } });
      await expect(storage.write({ [b]: { v: 'new' }, [a]: { ...stale, v: 3 } })).rejects.toBeInstanceOf(ETagConflictError);
      const items = await storage.read([a, b]);
      expect(items[a]?.v).toBe(2);
      expect(items[b]).toBeUndefined();
    });

    it('writeItems returns the new eTags, which the next conditional write can use', async () => {
      const key = newKey();
      const first = await storage.writeItems({ [key]: { v: 1 } });
      expect((await storage.read([key]))[key]?.eTag).toBe(first[key]);
      const second = await storage.writeItems({ [key]: { v: 2, eTag: first[key] } });
      expect(second[key]).not.toBe(first[key]);
    });

    it('stores strings with NUL characters and lone surrogates (cleaned), in values and keys', async () => {
      const key = newKey();
      await storage.write({ [key]: { text: 'a\u0000b', ['k\u0000ey']: 'x\uD800y', list: ['\u0000'] } });
      const item = (await storage.read([key]))[key];
      expect(item).toMatchObject({ text: 'ab', key: 'x\uFFFDy', list: [''] });
    });

    it('behaves like MemoryStorage on the same sequence of operations', async () => {
      const run = async (s: Storage) => {
        const key = 'parity-key';
        const log: string[] = [];
        const read = async () => (await s.read([key]))[key];
        log.push(await outcome(s.write({ [key]: { v: 1, eTag: 'made-up' } }))); // missing key: stored
        const first = await read();
        log.push(await outcome(s.write({ [key]: { ...first, v: 2 } }))); // current eTag
        log.push(await outcome(s.write({ [key]: { ...first, v: 3 } }))); // stale eTag
        log.push(await outcome(s.write({ [key]: { v: 4, eTag: '*' } }))); // wildcard
        log.push(await outcome(s.write({ [key]: { v: 5, eTag: '' } }))); // empty = none
        log.push(String((await read())?.v));
        await s.delete([key]);
        log.push(String(await read()));
        log.push(await outcome(s.write({ [key]: { ...first, v: 6 } }))); // stale eTag, key deleted: stored
        log.push(String((await read())?.v));
        return log;
      };
      const expected = await run(new MemoryStorage());
      expect(expected).toEqual(['ok', 'ok', 'conflict', 'ok', 'ok', '5', 'undefined', 'ok', '6']);
      // A fresh key namespace for this run: the table is shared with other tests.
      await execute(t.db.dataSource, `DELETE FROM bot_state WHERE key = 'parity-key'`);
      expect(await run(storage)).toEqual(expected);
    });

    it('works as ConversationState storage in a bot turn', async () => {
      const state = new ConversationState(storage);
      const counter = state.createProperty<number>('count');
      const adapter = new TestAdapter(async (context) => {
        const n = (await counter.get(context, 0)) + 1;
        await counter.set(context, n);
        await state.saveChanges(context);
        await context.sendActivity(`count ${n}`);
      });
      await adapter.send('one').assertReply('count 1').send('two').assertReply('count 2').startTest();
    });

    it('state survives closing and reopening the database', async () => {
      const key = newKey('durable');
      const etags = await storage.writeItems({ [key]: { v: 'kept', when: '2026-01-01' } });
      await t.reopen();
      storage = new PostgresStorage(t.db.dataSource);
      const item = (await storage.read([key]))[key];
      expect(item).toEqual({ v: 'kept', when: '2026-01-01', eTag: etags[key] });
    });

    it('separate instances sharing the database see one consistent state (Postgres)', async (ctx) => {
      if (t.kind !== 'postgres') ctx.skip(); // one process per PGlite directory
      const other = await t.openAnother();
      const otherStorage = new PostgresStorage(other.dataSource);
      const key = newKey('shared');
      await storage.write({ [key]: { v: 0 } });
      const { eTag } = (await otherStorage.read([key]))[key]!;
      const results = await Promise.allSettled([
        storage.write({ [key]: { v: 'a', eTag } }),
        otherStorage.write({ [key]: { v: 'b', eTag } }),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const seen: StoreItems = await storage.read([key]);
      expect(['a', 'b']).toContain(seen[key]?.v);
      expect((await otherStorage.read([key]))[key]).toEqual(seen[key]);
      await other.close();
    });
  });
});
