import { AsyncLocalStorage } from 'node:async_hooks';

/** One stored state row, as `bot_state` holds it. */
export interface StoredStateRow {
  document: Record<string, unknown>;
  etag: string;
}

/**
 * A turn's conversation state, handled together with the conversation's lock
 * (conversationLock.ts) to save two database round trips per turn:
 *
 * - the lock reads the conversation's state row in the same round trip that takes the lock (a
 *   second statement, so it reads what was committed *after* the lock was granted), and
 *   `PostgresStorage.read` takes that row instead of asking the database again;
 * - the state write commits and releases the lock in one round trip (write; COMMIT; unlock — the
 *   write is committed before the lock is free, so the next holder reads it).
 *
 * Scoped to the turn's async context (AsyncLocalStorage) and to one key: only the turn holding
 * the lock sees it, and any other read or write takes the ordinary path.
 */
export interface TurnStateSession {
  /** The state key (and lock key) of the conversation. */
  readonly key: string;
  /** The row the lock read (null: nothing stored), once; undefined afterwards or when none was read. */
  takePrefetched(): StoredStateRow | null | undefined;
  /**
   * Runs `statement` (built with `escapeLiteral`: no parameters), commits it and releases the
   * conversation's database lock, in one round trip; resolves to the statement's rows. Undefined
   * when this turn no longer holds that lock on a live connection: write the ordinary way.
   */
  commitAndRelease(statement: (escapeLiteral: (value: string) => string) => string): Promise<Record<string, unknown>[]> | undefined;
}

const sessions = new AsyncLocalStorage<TurnStateSession>();

/** Runs `fn` with `session` as the current turn's state session. */
export function runWithTurnState<T>(session: TurnStateSession, fn: () => T): T {
  return sessions.run(session, fn);
}

/** The current turn's state session for `key`, if the turn holds one for that key. */
export function turnStateFor(key: string): TurnStateSession | undefined {
  const session = sessions.getStore();
  return session?.key === key ? session : undefined;
}
