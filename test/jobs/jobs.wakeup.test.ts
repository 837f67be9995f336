/**
 * Cross-process wake-up (PostgreSQL): a job confirmed on instance A while A's only slot is busy is
 * started by idle instance B at once (LISTEN/NOTIFY at commit), not at B's next poll. Both
 * instances poll every 60 s here, so a start within 15 s can only come from the wake-up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApp } from '../../src/app.js';
import { ConnectorReceiver } from '../../src/chat/connectorReceiver.js';
import { allText, ChatUser } from '../helpers/chatUser.js';
import { databaseTargets, type TestDatabase } from '../helpers/databases.js';
import { startProcurementApp } from '../helpers/procurementFixture.js';
import { FakeRpa } from './helpers/fakeRpa.js';

const postgres = (await databaseTargets()).find((t) => t.kind === 'postgres')!;

describe.skipIf(postgres.skip)('cross-process wake-up on postgres', () => {
  let db: TestDatabase | undefined;
  let receiver: ConnectorReceiver | undefined;
  let rpa: FakeRpa | undefined;
  const apps: RunningApp[] = [];

  beforeAll(async () => {
    db = await postgres.create();
    await db.db.close();
    receiver = new ConnectorReceiver();
    await receiver.start();
    rpa = new FakeRpa();
  });

  afterAll(async () => {
    rpa?.release();
    await Promise.allSettled(apps.map((a) => a.close()));
    await rpa?.stop();
    await receiver?.stop();
    await db?.dispose();
  });

  it('an idle instance starts a job another instance queued while its own slot is busy', async () => {
    const rpaUrl = await rpa!.start();
    const env = {
      AUTOMATION_CONNECTOR: 'webhook',
      WEBHOOK_URL: rpaUrl,
      WEBHOOK_SECRET: 'wakeup-test-webhook-secret-0123456789',
      JOB_CONCURRENCY: '1',
      JOB_POLL_INTERVAL_S: '60',
      JOB_STILL_WORKING_S: '0',
      // The held call must keep A's slot busy for the whole test (the default timeout is 10 s).
      WEBHOOK_TIMEOUT_MS: '120000',
    };
    const a = await startProcurementApp(db!.config, env);
    apps.push(a);
    rpa!.hold = 1; // A's only slot stays busy with the first job
    const first = new ChatUser(() => a.url, receiver!, 'wake-1', 'Wake 1');
    await first.say('order 20 units of SKU-1001 from Acme Corp');
    expect(allText(await first.click('Confirm'))).toMatch(/^On it/);
    await rpa!.waitForCalls(1, 20_000);

    const b = await startProcurementApp(db!.config, env);
    apps.push(b);
    const second = new ChatUser(() => a.url, receiver!, 'wake-2', 'Wake 2');
    await second.say('order 20 units of SKU-1001 from Acme Corp');
    const confirmedAt = Date.now();
    expect(allText(await second.click('Confirm'))).toMatch(/^On it/);
    await rpa!.waitForCalls(2, 15_000);
    const startedAfterMs = rpa!.calls[1]!.at - confirmedAt;
    await second.waitForNotification(/✅ PO-\d+ is placed/, 15_000);
    console.info(`[jobs.wakeup] the second job reached the RPA ${startedAfterMs} ms after its confirmation (on the other instance)`);
  }, 90_000);
});
