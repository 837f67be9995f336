/**
 * proactive/afterTurn.ts on its own: a notification to a conversation waits for the turn holding
 * that conversation's lock, never for other conversations' turns, and is sent anyway once the
 * lock's timeout has passed.
 */
import { describe, expect, it } from 'vitest';
import { afterConversationTurn, conversationLockKey } from '../../src/bot/proactive/afterTurn.js';
import { LocalConversationLock } from '../../src/bot/state/conversationLock.js';
import type { NotificationRecord } from '../../src/jobs/types.js';

const notice = (conversationId: string | null): NotificationRecord =>
  ({ id: 1, jobId: 7, kind: 'job_done', channelId: conversationId ? 'msteams' : null, conversationId, userId: 'u1', reply: { text: 'done' }, status: 'pending' }) as unknown as NotificationRecord;

/** Holds a conversation's lock until `release` is called. */
function holdTurn(lock: LocalConversationLock, conversationId: string): { events: string[]; release: () => void; done: Promise<void> } {
  const events: string[] = [];
  let release = (): void => undefined;
  const done = lock.run(conversationLockKey('msteams', conversationId), async () => {
    await new Promise<void>((resolve) => (release = resolve));
    events.push('turn replied');
  });
  return { events, release: () => release(), done };
}

describe('afterConversationTurn', () => {
  it.each([
    { to: 'a:busy', order: ['turn replied', 'notified'] },
    { to: 'a:other', order: ['notified', 'turn replied'] },
    { to: null, order: ['notified', 'turn replied'] },
  ])('a notice to $to while a turn of a:busy runs → $order', async ({ to, order }) => {
    const lock = new LocalConversationLock({ timeoutMs: 5_000 });
    const turn = holdTurn(lock, 'a:busy');
    const send = afterConversationTurn(lock, async () => {
      turn.events.push('notified');
      return { delivered: true };
    });
    const sent = send(notice(to));
    await new Promise((r) => setTimeout(r, 30));
    turn.release();
    await Promise.all([sent, turn.done]);
    expect(turn.events).toEqual(order);
  });

  it('a turn that holds the lock past its timeout does not hold the notice back', async () => {
    const lock = new LocalConversationLock({ timeoutMs: 50 });
    const turn = holdTurn(lock, 'a:stuck');
    const send = afterConversationTurn(lock, async () => {
      turn.events.push('notified');
      return { delivered: true };
    });
    await expect(send(notice('a:stuck'))).resolves.toEqual({ delivered: true });
    turn.release();
    await turn.done;
    expect(turn.events).toEqual(['notified', 'turn replied']);
  });

  it('a failing delivery still fails (the outbox retries it)', async () => {
    const send = afterConversationTurn(new LocalConversationLock({ timeoutMs: 50 }), async () => {
      throw new Error('channel down');
    });
    await expect(send(notice('a:x'))).rejects.toThrow('channel down');
  });
});
