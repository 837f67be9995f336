/**
 * What a job step may do besides its own work (followups to issue 12), on both databases:
 * - `env.enqueue` starts another job in the step's transaction and wakes the workers once it has
 *   committed: a result that comes in from outside (a callback) starts a follow-up job (as a send
 *   result starts procurement's cancel); with a 60 s poll interval and no LISTEN/NOTIFY, only the
 *   after-commit wake-up can start it within seconds. A step that rolls back leaves no follow-up job.
 * - A dispatch's `idempotencyKey` is what the connector gets (else the job's key).
 * - Maintenance tasks run from the recovery tick: first at start, then once per `everyMs`; a task
 *   that throws does not stop the others. The app prunes expired card nonces this way.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { silentLog } from '../../src/db/log.js';
import { execute } from '../../src/db/sql.js';
import { JobSystem, type MaintenanceTask } from '../../src/jobs/JobSystem.js';
import { inTransaction } from '../../src/jobs/store.js';
import type { Connector } from '../../src/jobs/connectors/types.js';
import type { JobHandler, JobRecord, JobRequest } from '../../src/jobs/types.js';
import { databaseTargets, type TestDatabase } from '../helpers/databases.js';
import { eventually, startProcurementApp } from '../helpers/procurementFixture.js';

const targets = await databaseTargets();

function request(action: string, key: string, input: Record<string, unknown> = {}): JobRequest {
  return {
    skill: 'test',
    action,
    input,
    idempotencyKey: key,
    requestedBy: { id: 'tester' },
    origin: { channelId: 'test', conversationId: 'conv-test' },
  };
}

describe.each(targets)('job handler environment on $name', (target) => {
  let t: TestDatabase | undefined;
  let jobs: JobSystem | undefined;
  /** When each follow-up job ran (ms), by the parent's key. */
  const childRanAt = new Map<string, number>();
  let maintenanceRuns: { name: string; at: number }[] = [];
  /** The keys the connector was given, by job id. */
  const dispatchedKeys = new Map<number, string>();
  const connector: Connector = {
    name: 'recording',
    dispatch: async (r) => {
      dispatchedKeys.set(r.jobId, r.idempotencyKey);
      return { kind: 'accepted', message: 'accepted' };
    },
  };

  const parent: JobHandler = {
    action: 'test.parent',
    async run(job, _tx, env) {
      if (job.input.fail === true) {
        await env.enqueue(request('test.child', `child:${job.idempotencyKey}`, { parent: job.idempotencyKey }));
        // Something after the enqueue fails: the whole step, the follow-up job included, rolls back.
        throw new Error('the step failed after starting a job');
      }
      const key = typeof job.input.key === 'string' ? job.input.key : undefined;
      return { kind: 'dispatch', operation: 'test_op', payload: {}, message: 'out to the connector', ...(key ? { idempotencyKey: key } : {}) };
    },
    // The result comes in from outside (a callback): the run worker is idle, only a wake starts the child.
    async complete(job, _result, _tx, env) {
      await env.enqueue(request('test.child', `child:${job.idempotencyKey}`, { parent: job.idempotencyKey }));
      return { status: 'succeeded', message: 'started a follow-up', notices: [] };
    },
    deadLetter: async () => ({ status: 'dead_letter', message: 'gave up', notices: [] }),
  };
  const child: JobHandler = {
    action: 'test.child',
    async run(job: JobRecord) {
      childRanAt.set(String(job.input.parent), Date.now());
      return { kind: 'finish', status: 'succeeded', message: 'child ran', notices: [] };
    },
    complete: async () => ({ status: 'failed', message: 'unexpected', notices: [] }),
    deadLetter: async () => ({ status: 'dead_letter', message: 'gave up', notices: [] }),
  };
  const tasks: MaintenanceTask[] = [
    {
      name: 'broken',
      everyMs: 1000,
      run: async () => {
        throw new Error('this task always fails');
      },
    },
    {
      name: 'counted',
      everyMs: 1000,
      run: async () => {
        maintenanceRuns.push({ name: 'counted', at: Date.now() });
      },
    },
    {
      name: 'hourly',
      everyMs: 3_600_000,
      run: async () => {
        maintenanceRuns.push({ name: 'hourly', at: Date.now() });
      },
    },
  ];

  beforeAll(async () => {
    if (target.skip) return;
    t = await target.create();
    const config = loadConfig({ JOB_POLL_INTERVAL_S: '60', JOB_CONCURRENCY: '2', JOB_RETRY_LIMIT: '0', JOB_STILL_WORKING_S: '0' });
    jobs = new JobSystem({
      dataSource: t.db.dataSource,
      logger: silentLog,
      config: config.automation,
      handlers: [parent, child],
      connector,
      baseUrl: () => 'http://127.0.0.1:1',
      // No LISTEN/NOTIFY: a wake-up from our own NOTIFY would hide a missing after-commit wake.
      crossProcessWakeups: false,
      maintenance: tasks,
    });
    jobs.setNotifier(async () => ({ delivered: true }));
    await jobs.start();
  });
  afterAll(async () => {
    await jobs?.stop();
    await t?.dispose();
  });

  const statusOf = async (key: string) => {
    const { rows } = await execute<{ status: string }>(t!.db.dataSource, 'SELECT status FROM automation_jobs WHERE idempotency_key = $1', [key]);
    return rows[0]?.status;
  };
  const submit = async (key: string, input: Record<string, unknown> = {}) => {
    const { jobId } = await inTransaction(t!.db.dataSource, (tx) => jobs!.enqueue(tx, request('test.parent', key, input)));
    jobs!.kick();
    return jobId;
  };

  it.skipIf(target.skip)('a job started when a result comes in runs within seconds of the commit, though the poll is 60 s', async () => {
    const jobId = await submit('parent-1');
    await eventually(async () => (await statusOf('parent-1')) === 'waiting', 15_000, 'the parent to wait for its result');
    // Let the run worker go to sleep (it polls every 60 s).
    await new Promise((r) => setTimeout(r, 500));
    const resultAt = Date.now();
    expect(await jobs!.complete(jobId, { status: 'succeeded' }, 'callback')).toBe('applied');
    await eventually(async () => (await statusOf('child:parent-1')) === 'succeeded', 15_000, 'the follow-up job to run');
    const after = childRanAt.get('parent-1')! - resultAt;
    expect(after).toBeLessThan(15_000);
    expect(await statusOf('parent-1')).toBe('succeeded');
    console.info(`[jobs.handlerEnv] ${target.kind}: the follow-up job ran ${after} ms after the result (poll 60 s)`);
  }, 30_000);

  it.skipIf(target.skip)("a step's Idempotency-Key is its dispatch's key when given, else the job's", async () => {
    const own = await submit('parent-own-key');
    const named = await submit('parent-named-key', { key: 'op:thing-1' });
    await eventually(async () => dispatchedKeys.has(own) && dispatchedKeys.has(named), 15_000, 'both steps to be dispatched');
    expect(dispatchedKeys.get(own)).toBe('parent-own-key');
    expect(dispatchedKeys.get(named)).toBe('op:thing-1');
  }, 30_000);

  it.skipIf(target.skip)('a step that rolls back leaves no follow-up job', async () => {
    await submit('parent-2', { fail: true });
    const failed = async () =>
      (
        await execute(
          t!.db.dataSource,
          `SELECT 1 FROM automation_job_events e JOIN automation_jobs j ON j.id = e.job_id WHERE j.idempotency_key = 'parent-2' AND e.kind = 'attempt_failed'`,
        )
      ).rows.length > 0;
    await eventually(failed, 20_000, 'the parent step to fail');
    await new Promise((r) => setTimeout(r, 1000)); // room for a follow-up that should not exist
    expect(await statusOf('child:parent-2')).toBeUndefined();
    expect(childRanAt.has('parent-2')).toBe(false);
  }, 30_000);

  it.skipIf(target.skip)('maintenance runs at start, then once per interval; a failing task does not stop the others', async () => {
    maintenanceRuns = maintenanceRuns.filter((r) => r.name === 'hourly');
    // The recovery tick runs every 2 s: the 1 s task runs on (about) every tick.
    await eventually(async () => maintenanceRuns.filter((r) => r.name === 'counted').length >= 2, 15_000, 'the 1 s task to run twice more');
    // The hourly task ran once, at start, and not again.
    expect(maintenanceRuns.filter((r) => r.name === 'hourly')).toHaveLength(1);
  }, 30_000);
});

describe.each(targets)('card nonce pruning by the app on $name', (target) => {
  let t: TestDatabase | undefined;
  let app: RunningApp | undefined;
  beforeAll(async () => {
    if (target.skip) return;
    t = await target.create();
  });
  afterAll(async () => {
    await app?.close();
    await t?.dispose();
  });

  it.skipIf(target.skip)('nonces that expired more than a day ago are deleted when the job system starts; live ones stay', async () => {
    const insert = (nonce: string, expires: string) =>
      execute(
        t!.db.dataSource,
        `INSERT INTO card_nonces (nonce, channel_id, conversation_id, user_id, actions, slots_hash, expires_at)
         VALUES ($1, 'test', 'conv', NULL, ARRAY['procurement.approve_order'], 'h', now() + $2::interval)`,
        [nonce, expires],
      );
    await insert('expired-long-ago', '-2 days');
    await insert('expired-recently', '-1 hour');
    await insert('still-valid', '6 days');
    await t!.db.close();
    app = await startProcurementApp(t!.config, {}, { recognizer: null });
    const left = async () =>
      (await execute<{ nonce: string }>(app!.db.dataSource, 'SELECT nonce FROM card_nonces ORDER BY nonce')).rows.map((r) => r.nonce);
    await eventually(async () => !(await left()).includes('expired-long-ago'), 15_000, 'the expired nonce to be pruned');
    expect(await left()).toEqual(['expired-recently', 'still-valid']);
  }, 60_000);
});
