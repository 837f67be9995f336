/**
 * The conversation lock itself (src/bot/state/conversationLock.ts) and the conditional state
 * writes behind it (src/bot/state/PostgresStorage.ts): mutual exclusion within a process and
 * across PostgreSQL sessions, bounded waits, a killed holder releasing its lock, a lost lock
 * connection, and BotState saves that no longer overwrite a newer state.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { ConversationState, TestAdapter, TurnContext, type Activity } from 'botbuilder';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_LOCK_CONNECTIONS,
  KeyedMutex,
  LocalConversationLock,
  TurnLockTimeoutError,
  type ConversationLock,
} from '../../src/bot/state/conversationLock.js';
import { ETagConflictError, PostgresStorage } from '../../src/bot/state/PostgresStorage.js';
import { execute } from '../../src/db/sql.js';
import { databaseTargets, type TestDatabase } from '../helpers/databases.js';
import { usePostgresLocks } from '../helpers/postgresLocks.js';

const targets = await databaseTargets();
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const tick = () => new Promise((r) => setTimeout(r, 1 + Math.random() * 3));

/** `n` tasks per lock on one key, each a read → pause → write of a shared counter; returns the count and the most tasks ever inside at once. */
async function contend(locks: ConversationLock[], key: string, n: number): Promise<{ count: number; maxInside: number }> {
  let count = 0;
  let inside = 0;
  let maxInside = 0;
  const task = async () => {
    inside += 1;
    maxInside = Math.max(maxInside, inside);
    const seen = count;
    await tick();
    count = seen + 1;
    inside -= 1;
  };
  await Promise.all(locks.flatMap((lock) => Array.from({ length: n }, () => lock.run(key, task))));
  return { count, maxInside };
}

describe('in-process conversation lock', () => {
  it('one task at a time per key, in arrival order; no update lost', async () => {
    const lock = new LocalConversationLock({ timeoutMs: 10_000 });
    expect(await contend([lock], 'k', 50)).toEqual({ count: 50, maxInside: 1 });
    const order: number[] = [];
    await Promise.all(Array.from({ length: 10 }, (_, i) => lock.run('ordered', async () => void order.push(i))));
    expect(order).toEqual([...Array(10).keys()]);
  });

  it('different keys do not wait for each other', async () => {
    const lock = new LocalConversationLock({ timeoutMs: 10_000 });
    let release!: () => void;
    const held = lock.run('a', () => new Promise<void>((r) => (release = r)));
    await expect(lock.run('b', async () => 'b ran')).resolves.toBe('b ran');
    release();
    await held;
  });

  it('a wait past the timeout rejects without running the task; the queue goes on', async () => {
    const mutex = new KeyedMutex();
    const lock = new LocalConversationLock({ timeoutMs: 50 });
    let release!: () => void;
    const held = lock.run('k', () => new Promise<void>((r) => (release = r)));
    let ran = false;
    await expect(
      lock.run('k', async () => {
        ran = true;
      }),
    ).rejects.toBeInstanceOf(TurnLockTimeoutError);
    release();
    await held;
    expect(ran).toBe(false);
    await expect(lock.run('k', async () => 'next')).resolves.toBe('next');
    // Nothing is left behind for keys nobody holds.
    const free = await mutex.acquire('x', 10);
    free();
    expect(mutex.size).toBe(0);
  });

  it('a failing task releases the lock', async () => {
    const lock = new LocalConversationLock({ timeoutMs: 1_000 });
    await expect(lock.run('k', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(lock.run('k', async () => 'after')).resolves.toBe('after');
  });
});

const postgres = targets.find((t) => t.kind === 'postgres')!;

describe.skipIf(postgres.skip)('PostgreSQL advisory conversation lock', () => {
  const fx = usePostgresLocks(postgres);
  const newLock = (timeoutMs?: number) => fx.newLock(timeoutMs);

  it('two lock instances (two sessions, as two processes): one holder at a time, 0 of 40 updates lost', async () => {
    const key = `test/conversations/${randomUUID()}`;
    expect(await contend([newLock(), newLock()], key, 20)).toEqual({ count: 40, maxInside: 1 });
  });

  it('holds no pool connection while waiting: a fixed few lock connections per process, whatever the number of turns', async () => {
    const a = newLock();
    const keys = Array.from({ length: 30 }, () => `test/conversations/${randomUUID()}`);
    let sessions = 0;
    await Promise.all(
      keys.map((key) =>
        a.run(key, async () => {
          const { rows } = await execute<{ n: number }>(
            fx.db.db.dataSource,
            `SELECT count(DISTINCT pid)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND classid = $1 AND granted
               AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
            [0x7475726e],
          );
          sessions = Math.max(sessions, rows[0]?.n ?? 0);
          await tick();
        }),
      ),
    );
    // 30 conversations spread over the process's lock connections, never more than there are.
    expect(sessions).toBeGreaterThan(1);
    expect(sessions).toBeLessThanOrEqual(DEFAULT_LOCK_CONNECTIONS);
  });

  it('a holder in another process that is SIGKILLed releases the conversation', async () => {
    const key = `test/conversations/${randomUUID()}`;
    const url = fx.url;
    const child = holdInChild(url, key);
    try {
      await child.locked;
      const lock = newLock(300);
      await expect(lock.run(key, async () => 'ran')).rejects.toBeInstanceOf(TurnLockTimeoutError);
      child.process.kill('SIGKILL');
      const patient = newLock(10_000);
      await expect(patient.run(key, async () => 'ran after the kill')).resolves.toBe('ran after the kill');
    } finally {
      child.process.kill('SIGKILL');
    }
  });

  it('a lock connection cut mid-turn: the turn finishes, and the next turn locks again on a new connection', async () => {
    const lock = newLock();
    const key = `test/conversations/${randomUUID()}`;
    const result = await lock.run(key, async () => {
      await fx.db.db.dataSource.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'rpa-assistant turn locks' AND datname = current_database()`);
      await new Promise((r) => setTimeout(r, 50));
      return 'finished';
    });
    expect(result).toBe('finished');
    const other = newLock();
    expect(await contend([lock, other], key, 5)).toEqual({ count: 10, maxInside: 1 });
  });
});

/** A separate node process that takes the same advisory lock a server would take for `key`, and keeps it. */
function holdInChild(url: string, key: string): { process: ChildProcess; locked: Promise<void> } {
  const script = `
    import pg from 'pg';
    const c = new pg.Client({ connectionString: process.env.LOCK_URL });
    await c.connect();
    const { rows } = await c.query('SELECT pg_try_advisory_lock($1::int4, hashtext($2)) AS ok', [0x7475726e, process.env.LOCK_KEY]);
    console.log(rows[0].ok ? 'locked' : 'not locked');
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, env: { ...process.env, LOCK_URL: url, LOCK_KEY: key }, stdio: ['ignore', 'pipe', 'inherit'] });
  const locked = new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('not locked')) reject(new Error('child could not take the lock'));
      else if (out.includes('locked')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`child exited (${code}) before locking`)));
  });
  return { process: child, locked };
}

describe.each(targets)('conditional BotState saves on $name', (target) => {
  describe.skipIf(target.skip)('storage', () => {
    let t: TestDatabase;
    let storage: PostgresStorage;
    beforeAll(async () => {
      t = await target.create();
      storage = new PostgresStorage(t.db.dataSource);
    });
    afterAll(() => t?.dispose());

    it("a '*' save of an object read before someone else's write is refused, not a silent overwrite", async () => {
      const key = `test/etag/${randomUUID()}`;
      await storage.write({ [key]: { v: 1 } });
      const mine = (await storage.read([key]))[key]!;
      const theirs = (await storage.read([key]))[key]!;
      theirs.v = 2;
      theirs.eTag = '*';
      await storage.write({ [key]: theirs });
      mine.v = 3;
      mine.eTag = '*';
      await expect(storage.write({ [key]: mine })).rejects.toBeInstanceOf(ETagConflictError);
      expect((await storage.read([key]))[key]?.v).toBe(2);
      // The winner saves again (same object, its new eTag remembered); a fresh object with '*' still overwrites.
      theirs.v = 4;
      await storage.write({ [key]: theirs });
      await storage.write({ [key]: { v: 5, eTag: '*' } });
      expect((await storage.read([key]))[key]?.v).toBe(5);
    });

    it('two overlapping turns through ConversationState: the second save is refused', async () => {
      const state = new ConversationState(storage);
      const counter = state.createProperty<number>('count');
      const adapter = new TestAdapter();
      const activity: Partial<Activity> = { type: 'message', channelId: 'test', conversation: { id: `c-${randomUUID()}` } as Activity['conversation'], from: { id: 'u', name: 'u' }, recipient: { id: 'b', name: 'b' } };
      const first = new TurnContext(adapter, { ...activity });
      await counter.set(first, 1);
      await state.saveChanges(first);

      const a = new TurnContext(adapter, { ...activity });
      const b = new TurnContext(adapter, { ...activity });
      await counter.set(a, (await counter.get(a, 0)) + 1);
      await counter.set(b, (await counter.get(b, 0)) + 1);
      await state.saveChanges(a);
      await expect(state.saveChanges(b)).rejects.toBeInstanceOf(ETagConflictError);
      const check = new TurnContext(adapter, { ...activity });
      expect(await counter.get(check, 0)).toBe(2);
    });
  });
});
