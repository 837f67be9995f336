/** A PostgreSQL test database and the turn locks a test opens on it, all closed after the file. */
import { afterAll, beforeAll } from 'vitest';
import { PostgresConversationLock } from '../../src/bot/state/conversationLock.js';
import type { DatabaseTarget, TestDatabase } from './databases.js';

export function usePostgresLocks(target: DatabaseTarget) {
  let db: TestDatabase | undefined;
  const locks: PostgresConversationLock[] = [];
  beforeAll(async () => {
    db = await target.create();
  });
  afterAll(async () => {
    await Promise.allSettled(locks.map((l) => l.close()));
    await db?.dispose();
  });
  return {
    get db(): TestDatabase {
      if (!db) throw new Error('usePostgresLocks: the database is created in beforeAll');
      return db;
    },
    /** The database's URL (empty when the target is not PostgreSQL, which skips these tests). */
    get url(): string {
      return this.db.config.mode === 'postgres' ? this.db.config.url : '';
    },
    newLock(timeoutMs = 10_000): PostgresConversationLock {
      const lock = new PostgresConversationLock({ url: this.url, timeoutMs });
      locks.push(lock);
      return lock;
    },
  };
}
