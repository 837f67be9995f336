import { createRequire } from 'node:module';
import PgBoss from 'pg-boss';
import type pg from 'pg';
import type { DataSource, QueryRunner } from 'typeorm';
import type { AutomationConfig } from '../config/config.js';
import type { Log } from '../db/log.js';
import { errorMessage } from '../db/errors.js';
import { execute } from '../db/sql.js';
import { SupplierSimulator, type SimulatedReply } from './connectors/simulator.js';
import { PermanentConnectorError, type Connector } from './connectors/types.js';
import { WebhookConnector } from './connectors/webhook.js';
import {
  addEvent,
  audit,
  getNotification,
  inTransaction,
  insertJob,
  insertNotification,
  lockJob,
} from './store.js';
import {
  TERMINAL_STATUSES,
  type ConnectorResult,
  type Finish,
  type JobHandler,
  type JobHandlerEnv,
  type JobRecord,
  type JobRequest,
  type JobSubmitter,
  type Notifier,
} from './types.js';

/** pg-boss queues (names: letters, digits, `-`, `_`). */
export const QUEUES = {
  /** One message per automation_jobs row: run its local step, then dispatch to the connector. */
  run: 'automation-run',
  /** Where `run` jobs go when their retries are exhausted. */
  dead: 'automation-dead',
  /** The simulator's delayed "supplier" replies. */
  simulator: 'automation-simulator',
  /** Outbox of proactive notifications. */
  notify: 'automation-notify',
  /** Deadlines of dispatched steps (JOB_RESULT_TIMEOUT_S). */
  deadline: 'automation-deadline',
} as const;

export interface JobSystemOptions {
  dataSource: DataSource;
  logger: Log;
  config: AutomationConfig;
  handlers: readonly JobHandler[];
  /** The server's own base URL (for callback URLs when PUBLIC_BASE_URL is unset). */
  baseUrl: () => string;
  /** Replace the configured connector (tests). */
  connector?: Connector;
  now?: () => Date;
}

export type CallbackOutcome = 'applied' | 'duplicate' | 'not_found';

type Db = { executeSql(text: string, values?: unknown[]): Promise<{ rows: unknown[] }> };

/**
 * Durable automations on pg-boss 10, on the app's own connection pool.
 *
 * pg-boss gets a `db: { executeSql }` adapter over the pool TypeORM already holds (one connection
 * on the embedded database, which must not see a second pool: pglite#1046), so it never opens
 * connections of its own; `enqueue` sends the pg-boss job on the caller's transaction connection,
 * so the job row, the idempotency key and the queue message commit or roll back together.
 *
 * Flow of one job: `run` worker → lock the row → handler.run (local step, e.g. create the PO) →
 * either finish, or dispatch to the connector (webhook / simulator) outside any transaction →
 * `waiting` → the result arrives (signed callback / simulator) → `complete` → handler.complete →
 * finish. Finishing writes the status, an event, the notifications (outbox rows + pg-boss
 * `notify` jobs) and an audit row in one transaction. A thrown step is retried by pg-boss with
 * backoff; after the last retry pg-boss moves it to the dead-letter queue, whose worker marks the
 * job `dead_letter` and tells the user.
 */
export class JobSystem implements JobSubmitter {
  readonly connector: Connector;
  private readonly boss: PgBoss;
  private readonly handlers = new Map<string, JobHandler>();
  private readonly log: Log;
  private readonly now: () => Date;
  private notifier?: Notifier;
  private readonly workerIds: Record<keyof typeof QUEUES, string[]> = { run: [], dead: [], simulator: [], notify: [], deadline: [] };
  private readonly timers = new Set<NodeJS.Timeout>();
  private started = false;
  private stopping?: Promise<void>;

  constructor(private readonly options: JobSystemOptions) {
    this.log = options.logger;
    this.now = options.now ?? (() => new Date());
    for (const handler of options.handlers) this.handlers.set(handler.action, handler);
    const pool = (options.dataSource.driver as unknown as { master: pg.Pool }).master;
    this.boss = new PgBoss({
      db: guardedDb(pool, this.log),
      schema: 'pgboss',
      migrate: true,
      supervise: true,
      schedule: false,
      pollingIntervalSeconds: options.config.pollIntervalSeconds,
    });
    // Without an 'error' listener an EventEmitter error would crash the process.
    this.boss.on('error', (err) => this.log.warn({ err }, 'pg-boss error'));
    this.connector = options.connector ?? this.createConnector();
  }

  /** Registers how notifications reach users (the bot's proactive sender). */
  setNotifier(notifier: Notifier): void {
    this.notifier = notifier;
  }

  async start(): Promise<void> {
    if (this.started) return;
    const { retry, workers, pollIntervalSeconds } = this.options.config;
    await this.boss.start();
    await this.ensureQueue(QUEUES.dead, {});
    await this.ensureQueue(QUEUES.run, {
      retryLimit: retry.limit,
      retryDelay: retry.delaySeconds,
      retryBackoff: retry.backoff,
      // A step is one transaction and one connector call (WEBHOOK_TIMEOUT_MS ≤ 120 s); a worker that
      // died mid-step has its message delivered again after this.
      expireInSeconds: 180,
      deadLetter: QUEUES.dead,
    });
    await this.ensureQueue(QUEUES.simulator, { retryLimit: 10, retryDelay: 1, retryBackoff: true });
    await this.ensureQueue(QUEUES.notify, { retryLimit: 8, retryDelay: 2, retryBackoff: true });
    await this.ensureQueue(QUEUES.deadline, { retryLimit: 5, retryDelay: 5, retryBackoff: true });
    const work = { includeMetadata: true as const, pollingIntervalSeconds: pollIntervalSeconds };
    for (let i = 0; i < workers; i++) {
      this.workerIds.run.push(await this.boss.work<{ jobId: number }>(QUEUES.run, work, ([job]) => this.onRun(job!)));
    }
    this.workerIds.dead.push(
      await this.boss.work<{ jobId: number }>(QUEUES.dead, work, ([job]) => this.onDeadLetter(job!)),
    );
    this.workerIds.simulator.push(
      await this.boss.work<SimulatedReply>(QUEUES.simulator, work, ([job]) => this.onSimulatedReply(job!.data)),
    );
    this.workerIds.notify.push(
      await this.boss.work<{ notificationId: number }>(QUEUES.notify, work, ([job]) => this.onNotify(job!.data)),
    );
    this.workerIds.deadline.push(
      await this.boss.work<{ jobId: number; seconds: number }>(QUEUES.deadline, work, ([job]) => this.onDeadline(job!.data)),
    );
    this.started = true;
    this.log.info(
      { connector: this.connector.name, workers, retry, pollIntervalSeconds },
      this.connector.name === 'simulator'
        ? 'automations started with the SIMULATED connector (nothing leaves this process)'
        : 'automations started',
    );
  }

  /** Stops fetching, lets running handlers finish (up to `timeoutMs`), keeps the pool open. */
  stop(timeoutMs = 10_000): Promise<void> {
    this.stopping ??= (async () => {
      for (const timer of this.timers) clearTimeout(timer);
      this.timers.clear();
      if (!this.started) return;
      await this.boss.stop({ graceful: true, wait: true, close: false, timeout: Math.max(1000, timeoutMs) });
    })();
    return this.stopping;
  }

  // ------------------------------------------------------------------------------ submitting

  async enqueue(tx: QueryRunner, request: JobRequest): Promise<{ jobId: number }> {
    if (!this.handlers.has(request.action)) throw new Error(`no job handler for ${request.action}`);
    const jobId = await insertJob(tx, request, this.connector.name);
    await addEvent(tx, jobId, 'queued', `Queued by ${request.requestedBy.name ?? request.requestedBy.id}`);
    await this.boss.send(QUEUES.run, { jobId }, { db: await txDb(tx) });
    return { jobId };
  }

  kick(): void {
    this.wake('run');
  }

  // ------------------------------------------------------------------------------ results

  /**
   * Applies a connector result (signed callback, simulator, synchronous webhook answer). Only the
   * first result for a job counts; repeats change nothing.
   */
  async complete(jobId: number, result: ConnectorResult, source: string): Promise<CallbackOutcome> {
    const outcome = await inTransaction(this.options.dataSource, async (tx) => {
      const job = await lockJob(tx, jobId);
      if (!job) return 'not_found' as const;
      // Any non-final state accepts a result: a dispatch that timed out on our side may still
      // have reached the RPA tool, which then reports while the job waits for its retry.
      if (TERMINAL_STATUSES.includes(job.status)) return 'duplicate' as const;
      const env = this.handlerEnv(tx, job);
      await env.event(
        'result',
        `${source}: ${result.status}${result.error ? ` — ${result.error}` : ''}`,
        result.data ? { data: result.data } : undefined,
      );
      const finish = await this.handler(job).complete(job, result, tx, env);
      await this.finish(tx, job, finish);
      return 'applied' as const;
    });
    if (outcome === 'applied') this.wake('notify');
    return outcome;
  }

  /** The callback URL given to the RPA side for a job. */
  callbackUrl(jobId: number): string {
    const base = this.options.config.publicBaseUrl ?? this.options.baseUrl();
    return `${base}/api/automations/${jobId}/callback`;
  }

  // ------------------------------------------------------------------------------ workers

  private async onRun(message: PgBoss.JobWithMetadata<{ jobId: number }>): Promise<void> {
    const { jobId } = message.data;
    const attempt = message.retryCount + 1;
    try {
      await this.runStep(jobId, attempt);
    } catch (err) {
      if (err instanceof PermanentConnectorError) {
        await this.complete(jobId, { status: 'failed', error: err.message }, this.connector.name);
        return;
      }
      const last = message.retryCount >= message.retryLimit;
      const text = errorMessage(err);
      this.log.warn({ jobId, attempt, err }, last ? 'automation step failed for the last time' : 'automation step failed');
      await inTransaction(this.options.dataSource, async (tx) => {
        await execute(tx, `UPDATE automation_jobs SET status = 'queued', error = $2, updated_at = now() WHERE id = $1 AND status = 'running'`, [
          jobId,
          text.slice(0, 2000),
        ]);
        await addEvent(
          tx,
          jobId,
          'attempt_failed',
          last
            ? `Attempt ${attempt} failed: ${text}. No retries left.`
            : `Attempt ${attempt} failed: ${text}. Retrying (${message.retryLimit - message.retryCount} left).`,
        );
      }).catch((e: unknown) => this.log.warn({ err: e, jobId }, 'could not record the failed attempt'));
      throw err;
    }
  }

  private async runStep(jobId: number, attempt: number): Promise<void> {
    const step = await inTransaction(this.options.dataSource, async (tx) => {
      const job = await lockJob(tx, jobId);
      if (!job) {
        this.log.warn({ jobId }, 'automation job row not found; dropping the message');
        return undefined;
      }
      // Delivered again after it moved on (pg-boss is at-least-once): nothing to do.
      if (TERMINAL_STATUSES.includes(job.status) || job.status === 'waiting') return undefined;
      await execute(
        tx,
        `UPDATE automation_jobs SET status = 'running', attempts = $2, started_at = COALESCE(started_at, now()), updated_at = now()
         WHERE id = $1`,
        [jobId, attempt],
      );
      job.status = 'running';
      job.attempts = attempt;
      const env = this.handlerEnv(tx, job);
      await env.event('started', attempt === 1 ? 'Started' : `Started (attempt ${attempt})`);
      const result = await this.handler(job).run(job, tx, env);
      if (result.kind === 'finish') {
        await this.finish(tx, job, result);
        return { finished: true as const };
      }
      await env.event('dispatching', result.message, { operation: result.operation });
      return { finished: false as const, job, dispatch: result };
    });
    if (!step) return;
    if (step.finished) {
      this.wake('notify');
      return;
    }
    const { job, dispatch } = step;
    const sent = await this.connector.dispatch({
      jobId: job.id,
      action: job.action,
      operation: dispatch.operation,
      idempotencyKey: job.idempotencyKey,
      callbackUrl: this.callbackUrl(job.id),
      payload: dispatch.payload,
      requestedBy: { id: job.requestedBy, name: job.requestedByName ?? undefined },
      attempt,
    });
    if (sent.kind === 'completed') {
      await this.complete(job.id, sent.result, this.connector.name);
      return;
    }
    await inTransaction(this.options.dataSource, async (tx) => {
      const { rowCount } = await execute(
        tx,
        `UPDATE automation_jobs SET status = 'waiting', error = NULL, updated_at = now() WHERE id = $1 AND status = 'running'`,
        [job.id],
      );
      if (rowCount > 0) await addEvent(tx, job.id, 'dispatched', sent.message, sent.externalId ? { externalId: sent.externalId } : undefined);
      const seconds = this.options.config.resultTimeoutSeconds;
      if (rowCount > 0 && seconds > 0) {
        await this.boss.send(QUEUES.deadline, { jobId: job.id, seconds }, { startAfter: seconds, db: await txDb(tx) });
      }
    });
  }

  private async onDeadLetter(message: PgBoss.JobWithMetadata<{ jobId: number }>): Promise<void> {
    const { jobId } = message.data;
    const output = (message as unknown as { output?: { message?: string; value?: { message?: string } } }).output;
    const reason = output?.message ?? output?.value?.message ?? 'retries exhausted';
    const applied = await inTransaction(this.options.dataSource, async (tx) => {
      const job = await lockJob(tx, jobId);
      if (!job || TERMINAL_STATUSES.includes(job.status)) return false;
      const env = this.handlerEnv(tx, job);
      const finish = await this.handler(job).deadLetter(job, job.error ?? reason, tx, env);
      await this.finish(tx, job, { ...finish, status: 'dead_letter' });
      return true;
    });
    if (applied) this.wake('notify');
  }

  /** No result in time: the step fails (a result arriving later is then a duplicate). */
  private async onDeadline({ jobId, seconds }: { jobId: number; seconds: number }): Promise<void> {
    const outcome = await this.complete(
      jobId,
      { status: 'failed', timedOut: true, error: `no result from the ${this.connector.name} connector within ${seconds} s` },
      'deadline',
    );
    if (outcome === 'applied') this.log.warn({ jobId, seconds }, 'automation step timed out waiting for its result');
  }

  private async onSimulatedReply(reply: SimulatedReply): Promise<void> {
    await this.complete(reply.jobId, reply.result, 'simulator');
  }

  private async onNotify({ notificationId }: { notificationId: number }): Promise<void> {
    const db = this.options.dataSource;
    const notification = await getNotification(db, notificationId);
    if (!notification || notification.status !== 'pending') return;
    if (!this.notifier) throw new Error('no notifier registered yet');
    let delivery;
    try {
      delivery = await this.notifier(notification);
    } catch (err) {
      await execute(db, 'UPDATE notifications SET attempts = attempts + 1, error = $2 WHERE id = $1', [
        notificationId,
        errorMessage(err).slice(0, 2000),
      ]);
      throw err;
    }
    await inTransaction(db, async (tx) => {
      if (delivery.delivered) {
        await execute(tx, `UPDATE notifications SET status = 'sent', sent_at = now(), attempts = attempts + 1, error = NULL WHERE id = $1`, [
          notificationId,
        ]);
      } else {
        await execute(tx, `UPDATE notifications SET status = 'undeliverable', attempts = attempts + 1, error = $2 WHERE id = $1`, [
          notificationId,
          delivery.reason,
        ]);
      }
      if (notification.jobId !== null) {
        await addEvent(
          tx,
          notification.jobId,
          delivery.delivered ? 'notified' : 'not_notified',
          delivery.delivered
            ? `Told ${notification.userId ?? 'the requester'} (${notification.kind})`
            : `Could not tell ${notification.userId ?? 'the requester'}: ${delivery.reason}`,
        );
      }
    });
  }

  // ------------------------------------------------------------------------------ helpers

  /** Status, event, notifications (outbox + pg-boss message, same transaction) and audit row. */
  private async finish(tx: QueryRunner, job: JobRecord, finish: Finish): Promise<void> {
    await execute(
      tx,
      `UPDATE automation_jobs SET status = $2, result = $3::jsonb, error = $4, finished_at = now(), updated_at = now()
       WHERE id = $1`,
      [job.id, finish.status, finish.result ? JSON.stringify(finish.result) : null, finish.error?.slice(0, 2000) ?? null],
    );
    await addEvent(tx, job.id, finish.status, finish.message);
    const db = await txDb(tx);
    for (const notice of finish.notices) {
      const to = notice.to;
      const target =
        'requester' in to
          ? { channelId: job.channelId, conversationId: job.conversationId }
          : 'conversation' in to
            ? to.conversation
            : { userId: to.userId };
      const notificationId = await insertNotification(tx, { jobId: job.id, kind: notice.kind, ...target, reply: notice.reply });
      await this.boss.send(QUEUES.notify, { notificationId }, { db });
    }
    if (finish.audit) {
      await audit(tx, {
        actorId: 'system:automation',
        action: finish.audit.action,
        outcome: finish.audit.outcome,
        subjectType: job.subjectType,
        subjectId: job.subjectId,
        jobId: job.id,
        channelId: job.channelId,
        conversationId: job.conversationId,
        activityId: job.activityId,
        details: { requestedBy: job.requestedBy, ...finish.audit.details },
      });
    }
  }

  private handlerEnv(tx: QueryRunner, job: JobRecord): JobHandlerEnv {
    return {
      event: (kind, message, data) => addEvent(tx, job.id, kind, message, data),
      setSubject: async (type, id) => {
        await execute(tx, 'UPDATE automation_jobs SET subject_type = $2, subject_id = $3, updated_at = now() WHERE id = $1', [
          job.id,
          type,
          id,
        ]);
        job.subjectType = type;
        job.subjectId = id;
      },
      now: this.now,
    };
  }

  private handler(job: JobRecord): JobHandler {
    const handler = this.handlers.get(job.action);
    if (!handler) throw new Error(`no job handler for ${job.action}`);
    return handler;
  }

  private createConnector(): Connector {
    const { config } = this.options;
    if (config.connector === 'webhook') {
      if (!config.webhook) throw new Error('webhook connector needs WEBHOOK_URL and WEBHOOK_SECRET');
      return new WebhookConnector(config.webhook);
    }
    return new SupplierSimulator({
      ...config.simulator,
      schedule: async (reply, delayMs) => {
        await this.boss.send(QUEUES.simulator, reply, delayMs > 0 ? { startAfter: new Date(Date.now() + delayMs) } : {});
        // Wake our own worker when it is due; other instances (and a restarted one) find it by polling.
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          this.wake('simulator');
        }, delayMs + 5);
        timer.unref();
        this.timers.add(timer);
      },
    });
  }

  private async ensureQueue(name: string, options: Omit<PgBoss.Queue, 'name'>): Promise<void> {
    const existing = await this.boss.getQueue(name);
    if (existing) await this.boss.updateQueue(name, { name, ...options });
    else await this.boss.createQueue(name, { name, ...options });
  }

  private wake(queue: keyof typeof QUEUES): void {
    if (!this.started || this.stopping) return;
    for (const id of this.workerIds[queue]) this.boss.notifyWorker(id);
  }
}


/** pg-boss's `db` on the connection of an open transaction. */
async function txDb(tx: QueryRunner): Promise<Db> {
  const client = (await tx.connect()) as pg.PoolClient;
  return { executeSql: (text, values) => client.query(text, values as unknown[]) };
}

/**
 * pg-boss's `db` on the app's pool. pg-boss 10 calls complete()/fail() after a handler without
 * awaiting them (manager.js `watch`), so a database error there would surface as an unhandled
 * rejection and end the process. Those two statements log instead of throwing: the job then
 * stays active until it expires and is delivered again, which the handlers tolerate.
 */
function guardedDb(pool: pg.Pool, log: Log): Db {
  const fireAndForget = new Set<string>();
  try {
    const require = createRequire(import.meta.url);
    const plans = require('pg-boss/src/plans.js') as { completeJobs(s: string): string; failJobsById(s: string): string };
    fireAndForget.add(plans.completeJobs('pgboss'));
    fireAndForget.add(plans.failJobsById('pgboss'));
  } catch {
    // Internal layout changed: no guard (errors propagate as pg-boss intends).
  }
  return {
    executeSql: async (text, values) => {
      try {
        return await pool.query(text, values as unknown[]);
      } catch (err) {
        if (!fireAndForget.has(text)) throw err;
        log.warn({ err }, 'pg-boss could not record a job result; it will be delivered again');
        return { rows: [{ count: 0 }] }; // the shape pg-boss reads (mapCommandResponse)
      }
    },
  };
}
