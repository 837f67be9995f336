/**
 * Turns of one conversation never overwrite each other (issue 12, defect 4): concurrent turns of
 * one conversation are serialized by the conversation lock (src/bot/state/conversationLock.ts) —
 * in one server process and across two on the same PostgreSQL — and a pending confirmation
 * survives side questions asked while it waits.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectorReceiver } from '../../src/chat/connectorReceiver.js';
import type { BotRecognizer } from '../../src/bot/bots/recognizer.js';
import { CONVERSATION_BUSY_TEXT } from '../../src/bot/bots/replies.js';
import { execute } from '../../src/db/sql.js';
import type { RunningApp } from '../../src/app.js';
import { allText, ChatUser } from '../helpers/chatUser.js';
import { databaseTargets, type TestDatabase } from '../helpers/databases.js';
import { IntentTableRecognizer } from '../helpers/intentTable.js';
import { envFor, rows, TEST_INTENT_PATTERNS, TEST_INTENTS, useSkillApp } from '../helpers/procurementFixture.js';
import { startTestApp } from '../helpers/testApp.js';

const targets = await databaseTargets();
/**
 * These tests send bursts on purpose; admission control (src/bot/http/admission.ts) would shed
 * some of them with 503 (correct, but not what is tested here), so it gets room for them.
 */
const ROOMY = { ADMISSION_MAX_INFLIGHT: '64', ADMISSION_MIN_INFLIGHT: '64', ADMISSION_QUEUE_TIMEOUT_MS: '10000', ADMISSION_TARGET_MS: '10000' };

/** The stored conversationData of a conversation (channel "test", as makeActivity sends). */
async function storedTurns(app: RunningApp, conversationId: string): Promise<number | undefined> {
  const { rows: found } = await execute<{ document: { conversationData?: { turns?: number } } }>(
    app.db.dataSource,
    'SELECT document FROM bot_state WHERE key LIKE $1',
    [`test/conversations/${conversationId}/%`],
  );
  return found[0]?.document.conversationData?.turns;
}

/** A recognizer (no model) that holds the turn saying "slow" until released, so a turn can be kept in flight. */
class GateRecognizer implements BotRecognizer {
  entered = false;
  private release!: () => void;
  private readonly gate = new Promise<void>((resolve) => (this.release = resolve));

  async recognize(text: string) {
    if (text === 'slow') {
      this.entered = true;
      await this.gate;
    }
    return { intent: 'assistant.greet', confidence: 0.97, entities: [] };
  }

  open(): void {
    this.release();
  }
}

describe.each(targets)('conversation turns on $name', (target) => {
  describe.skipIf(target.skip)('one server process', () => {
    let db: TestDatabase;
    let receiver: ConnectorReceiver;
    let app: RunningApp;
    beforeAll(async () => {
      db = await target.create();
      await db.db.close();
      receiver = new ConnectorReceiver();
      await receiver.start();
      app = await startTestApp(envFor(db.config), { WEBCHAT_ENABLED: 'false', ...ROOMY });
    });
    afterAll(async () => {
      await app?.close();
      await receiver?.stop();
      await db?.dispose();
    });

    it('12 concurrent turns of one conversation: 0 of 12 state updates lost', async () => {
      const user = new ChatUser(() => app.url, receiver, `u-${randomUUID()}`, 'Una');
      const replies = await Promise.all(Array.from({ length: 12 }, (_, i) => user.say(`message ${i}`)));
      for (const r of replies) expect(r.length).toBeGreaterThan(0);
      expect(await storedTurns(app, user.conversationId)).toBe(12);
    });

    it('turns of different conversations still run side by side (each gets its own count)', async () => {
      const users = Array.from({ length: 4 }, (_, i) => new ChatUser(() => app.url, receiver, `u${i}-${randomUUID()}`, 'Una'));
      await Promise.all(users.flatMap((u) => [u.say('a'), u.say('b'), u.say('c')]));
      for (const u of users) expect(await storedTurns(app, u.conversationId)).toBe(3);
    });
  });

  describe.skipIf(target.skip)('lock wait timeout', () => {
    let db: TestDatabase;
    let receiver: ConnectorReceiver;
    let app: RunningApp;
    const recognizer = new GateRecognizer();
    beforeAll(async () => {
      db = await target.create();
      await db.db.close();
      receiver = new ConnectorReceiver();
      await receiver.start();
      app = await startTestApp(envFor(db.config), { WEBCHAT_ENABLED: 'false', TURN_LOCK_TIMEOUT_MS: '300', ...ROOMY }, { recognizer });
    });
    afterAll(async () => {
      recognizer.open();
      await app?.close();
      await receiver?.stop();
      await db?.dispose();
    });

    it('a turn that waits too long for an earlier one answers "busy" and changes nothing; other conversations are not held up', async () => {
      const user = new ChatUser(() => app.url, receiver, `u-${randomUUID()}`, 'Una');
      const slow = user.say('slow');
      for (let i = 0; i < 500 && !recognizer.entered; i++) await new Promise((r) => setTimeout(r, 10));
      expect(recognizer.entered).toBe(true);

      const busy = await user.say('hi');
      expect(allText(busy)).toBe(CONVERSATION_BUSY_TEXT);
      const other = new ChatUser(() => app.url, receiver, `o-${randomUUID()}`, 'Otto');
      expect(allText(await other.say('hi'))).toMatch(/^Hi!/);

      recognizer.open();
      expect(allText(await slow)).toMatch(/^Hi!/);
      // The busy turn did nothing at all: only the slow turn counted.
      expect(await storedTurns(app, user.conversationId)).toBe(1);
      expect(allText(await user.say('hi again'))).toMatch(/^Hi!/);
      expect(await storedTurns(app, user.conversationId)).toBe(2);
    });
  });
});

const postgres = targets.find((t) => t.kind === 'postgres')!;

describe.skipIf(postgres.skip)('conversation turns across two server processes on one PostgreSQL', () => {
  let db: TestDatabase;
  let receiver: ConnectorReceiver;
  let apps: RunningApp[] = [];
  beforeAll(async () => {
    db = await postgres.create();
    receiver = new ConnectorReceiver();
    await receiver.start();
    // Two independent servers (own pools, own locks, own in-process queues) on one database.
    apps = [await startTestApp(envFor(db.config), { WEBCHAT_ENABLED: 'false', ...ROOMY }), await startTestApp(envFor(db.config), { WEBCHAT_ENABLED: 'false', ...ROOMY })];
  });
  afterAll(async () => {
    await Promise.allSettled(apps.map((a) => a.close()));
    await receiver?.stop();
    await db?.dispose();
  });

  it('12 concurrent turns of one conversation split over both servers: 0 of 12 updates lost', async () => {
    for (let trial = 0; trial < 3; trial++) {
      const conversationId = `conv-${randomUUID()}`;
      const users = apps.map((a) => new ChatUser(() => a.url, receiver, 'una', 'Una', conversationId));
      await Promise.all(Array.from({ length: 12 }, (_, i) => users[i % 2]!.say(`message ${i}`)));
      expect(await storedTurns(apps[0]!, conversationId)).toBe(12);
    }
  }, 60_000);
});

describe.each(targets)('a pending confirmation and side questions on $name', (target) => {
  // The intent table (no model): these tests are about dialogs and concurrency, not NLU.
  // "make it 30" is given a confident read intent on purpose, as a classifier may: it must stay a correction.
  const recognizer = new IntentTableRecognizer({ ...TEST_INTENTS, 'make it 30': 'storage.stock_level' }, TEST_INTENT_PATTERNS);
  const fixture = useSkillApp(target, ROOMY, { recognizer });
  const jobsOf = (conversationId: string) =>
    rows<{ action: string }>(fixture.app.db.dataSource, 'SELECT action FROM automation_jobs WHERE conversation_id = $1', [conversationId]);

  it.skipIf(target.skip)('order → card, 9 concurrent status questions, then "yes" → the order is placed: 20 of 20 trials', async () => {
    let placed = 0;
    for (let trial = 0; trial < 20; trial++) {
      const user = new ChatUser(() => fixture.app.url, fixture.receiver, `buyer-${randomUUID().slice(0, 8)}`, 'Alice Buyer');
      expect(allText(await user.say('order 20 units of SKU-1001 from Acme Corp'))).toMatch(/Please confirm/);
      const answers = await Promise.all(Array.from({ length: 9 }, () => user.say('what is the status of PO-1002')));
      for (const a of answers) {
        const text = allText(a);
        expect(text).toMatch(/PO-1002 with Globex is confirmed/);
        expect(text).toMatch(/Still waiting for your yes\/no on "Create this purchase order\?"/);
      }
      const yes = allText(await user.say('yes'));
      expect(yes).toMatch(/^On it: job \d+ is placing the order with Acme Corp/);
      expect(await jobsOf(user.conversationId)).toEqual([{ action: 'procurement.create_order' }]);
      placed += 1;
    }
    expect(placed).toBe(20);
  }, 180_000);

  it.skipIf(target.skip)('a side question keeps the confirmation; a new write request replaces it and says so', async () => {
    const user = new ChatUser(() => fixture.app.url, fixture.receiver, `buyer-${randomUUID().slice(0, 8)}`, 'Alice Buyer');
    expect(allText(await user.say('order 20 units of SKU-1001 from Acme Corp'))).toMatch(/Please confirm/);
    const stock = allText(await user.say('how many SKU-1001 in WH-B'));
    expect(stock).toMatch(/WH-B .* has 400 pieces of steel bearings 6204 \(SKU-1001\)/);
    expect(stock).toMatch(/Still waiting for your yes\/no/);
    expect(stock).not.toMatch(/dropped|aside/);
    // A question that needs more detail is not allowed to take over the confirmation either.
    const vague = allText(await user.say('where is my order'));
    expect(vague).toMatch(/need more detail \(Which purchase order\?/);
    expect(vague).toMatch(/Still waiting for your yes\/no/);

    // A correction that a classifier took for a question is still a correction (it re-confirms).
    const corrected = allText(await user.say('make it 30'));
    expect(corrected).toMatch(/Please confirm/);
    expect(corrected).toMatch(/30 pieces/);
    expect(corrected).not.toMatch(/Still waiting/);

    const replaced = allText(await user.say('file a declaration for SH-2001'));
    expect(replaced).toMatch(/Your new request replaces the one that was waiting for your yes\/no: I've dropped that one, and nothing was changed\./);
    expect(replaced).toMatch(/needs the broker or admin role/);
    // The old order's "yes" is gone with it: nothing is placed.
    await user.say('no');
    await user.say('yes');
    expect(await jobsOf(user.conversationId)).toEqual([]);
  });
});
