/**
 * Process roles on one real PostgreSQL (src/roles.ts): a ROLE=web process answers turns and only
 * enqueues; a ROLE=worker process runs the jobs and the proactive outbox and serves nothing but
 * health and metrics. Broken on purpose: with the worker stopped, a job confirmed on web stays
 * queued (web runs no job worker), and runs as soon as a worker comes back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApp } from '../../src/app.js';
import { ConnectorReceiver } from '../../src/chat/connectorReceiver.js';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { allText, ChatUser } from '../helpers/chatUser.js';
import { databaseTargets, type TestDatabase } from '../helpers/databases.js';
import { rows, startProcurementApp } from '../helpers/procurementFixture.js';

const postgres = (await databaseTargets()).find((t) => t.kind === 'postgres')!;

async function get(url: string): Promise<{ status: number; json: Record<string, unknown> | undefined }> {
  const res = await fetch(url);
  const text = await res.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: res.status, json };
}

describe('ROLE configuration', () => {
  it('refuses a split role on the embedded database with one clear line', () => {
    for (const role of ['web', 'worker']) {
      let error: unknown;
      try {
        loadConfig({ ROLE: role, DATA_DIR: '/tmp/unused' });
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).issues).toEqual([`ROLE: ${role} needs DATABASE_URL (the embedded database serves one process; use ROLE=all)`]);
    }
    expect(loadConfig({ DATA_DIR: '/tmp/unused' }).processRole).toBe('all');
    expect(() => loadConfig({ ROLE: 'both' })).toThrow(ConfigError);
  });
});

describe.skipIf(postgres.skip)('web and worker roles on one PostgreSQL', () => {
  let db: TestDatabase | undefined;
  let receiver: ConnectorReceiver | undefined;
  const apps: RunningApp[] = [];
  let web: RunningApp;

  const start = async (role: 'web' | 'worker') => {
    const app = await startProcurementApp(db!.config, { ROLE: role, JOB_STILL_WORKING_S: '0' });
    apps.push(app);
    return app;
  };

  beforeAll(async () => {
    db = await postgres.create();
    receiver = new ConnectorReceiver();
    await receiver.start();
  });

  afterAll(async () => {
    await Promise.allSettled(apps.map((a) => a.close()));
    await receiver?.stop();
    await db?.dispose();
  });

  it('a web process is not ready until a worker has created the job queues', async () => {
    web = await start('web');
    const before = await get(`${web.url}/readyz`);
    expect(before.status).toBe(503);
    expect(before.json?.checks).toMatchObject({ role: 'web', database: true, jobQueues: false });
  }, 60_000);

  it('an order confirmed on web is executed by the worker and "placed" reaches the user', async () => {
    const worker = await start('worker');
    const ready = await get(`${worker.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(ready.json?.checks).toMatchObject({ role: 'worker', database: true, jobWorkers: true, model: 'not used' });
    // /readyz results are reused for a second (cachedReadiness): poll past the cached "not ready".
    let webReady = await get(`${web.url}/readyz`);
    for (let i = 0; i < 50 && webReady.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      webReady = await get(`${web.url}/readyz`);
    }
    expect(webReady.status).toBe(200);
    expect(webReady.json?.checks).toMatchObject({ role: 'web', jobQueues: true });

    const user = new ChatUser(() => web.url, receiver!, 'role-buyer-1', 'Role Buyer');
    await user.say('order 20 units of SKU-1001 from Acme Corp');
    expect(allText(await user.click('Confirm'))).toMatch(/^On it/);
    await user.waitForNotification(/✅ PO-\d+ is placed/, 20_000);

    // Only the worker ever registered as an automation worker.
    const workers = await rows<{ id: string }>(db!.db.dataSource, 'SELECT id FROM automation_workers');
    expect(workers.map((w) => w.id)).toContain(worker.jobs.workerId);
    expect(workers.map((w) => w.id)).not.toContain(web.jobs.workerId);
  }, 60_000);

  it('with no worker running a confirmed job waits; a new worker runs it', async () => {
    const worker = apps.find((a) => a !== web)!;
    await worker.close();
    const user = new ChatUser(() => web.url, receiver!, 'role-buyer-2', 'Role Buyer 2');
    await user.say('order 20 units of SKU-1001 from Acme Corp');
    const reply = allText(await user.click('Confirm'));
    expect(reply).toMatch(/^On it: job (\d+)/);
    const jobId = Number(/job (\d+)/.exec(reply)![1]);
    // Six of web's would-be poll intervals (0.5 s): a job worker on web would have started it.
    await new Promise((r) => setTimeout(r, 3_000));
    const [job] = await rows<{ status: string }>(db!.db.dataSource, 'SELECT status FROM automation_jobs WHERE id = $1', [jobId]);
    expect(job?.status).toBe('queued');
    expect(user.notifications(/placed/)).toHaveLength(0);

    await start('worker');
    await user.waitForNotification(/✅ PO-\d+ is placed/, 20_000);
  }, 60_000);

  it('a worker serves health and metrics only', async () => {
    const worker = apps.at(-1)!;
    const messages = await fetch(`${worker.url}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(messages.status).toBe(404);
    await messages.text();
    for (const path of ['/api/traces', '/dashboard', '/api/automations/1/callback', '/']) {
      expect((await get(`${worker.url}${path}`)).status, path).toBe(404);
    }
    expect((await get(`${worker.url}/healthz`)).status).toBe(200);
    // /metrics is an operator route: on loopback without ADMIN_TOKEN it is open.
    expect((await fetch(`${worker.url}/metrics`)).status).toBe(200);
  }, 30_000);
});
