import PgBoss from 'pg-boss';
import type pg from 'pg';
import type { DataSource, QueryRunner } from 'typeorm';
import type { AutomationConfig } from '../config/config.js';
import type { Log } from '../db/log.js';
import { errorMessage, isConnectionError } from '../db/errors.js';
import { sessionClientConfig } from '../db/session.js';
import { execute } from '../db/sql.js';
import { SupplierSimulator, type SimulatedReply } from './connectors/simulator.js';
import { PermanentConnectorError, type Connector } from './connectors/types.js';
import { WebhookConnector } from './connectors/webhook.js';
import { WorkerLeases } from './leases.js';
import { QueueWorker, type Message } from './queueWorker.js';
import { stillWorkingNotice } from './stillWorking.js';
import { NOTIFY_SQL, WakeupListener } from './wakeups.js';
import {
  addEvent,
  audit,
  claimSlowJobs,
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
  /**
   * Wake idle workers of other processes on a send (LISTEN/NOTIFY). For a PostgreSQL server
   * only: it takes one more connection, which the embedded database does not have.
   */
  crossProcessWakeups?: boolean;
  /** Where the LISTEN connection goes when the pool is a transaction pooler (DATABASE_SESSION_URL); default: the pool's server. */
  sessionUrl?: string;
  /**
   * Housekeeping run from the recovery tick, each at most once per `everyMs` per process (first
   * at start): e.g. pruning expired card nonces hourly. A failing task is logged and tried again
   * at its next turn.
   */
  maintenance?: readonly MaintenanceTask[];
}

export interface MaintenanceTask {
  name: string;
  everyMs: number;
  /** Returns how many rows it removed (logged when > 0). */
  run(): Promise<number | void>;
}

interface RecoveryTimings {
  /** How often this process heartbeats and looks for dead workers and slow jobs (ms). */
  tickMs: number;
  /** A worker whose heartbeat is older than this is dead; its messages are delivered again (ms). */
  staleAfterMs: number;
}

const TIMINGS: RecoveryTimings = { tickMs: 2_000, staleAfterMs: 10_000 };

export type CallbackOutcome = 'applied' | 'duplicate' | 'not_found';

type Db = { executeSql(text: string, values?: unknown[]): Promise<{ rows: unknown[] }> };
type QueueKey = keyof typeof QUEUES;

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
 *
 * Dispatch and recovery (docs/notes/jobs.md): each queue is consumed by a QueueWorker with
 * JOB_CONCURRENCY slots, woken by sends from this process; every fetched message is leased to
 * this process (WorkerLeases), and a periodic tick heartbeats, takes back the messages of dead
 * processes (delivered again at once) and tells requesters of slow jobs that they are still running.
 */
export class JobSystem implements JobSubmitter {
  readonly connector: Connector;
  private readonly boss: PgBoss;
  private readonly handlers = new Map<string, JobHandler>();
  private readonly log: Log;
  private readonly now: () => Date;
  private notifier?: Notifier;
  private readonly workers = new Map<QueueKey, QueueWorker<never>>();
  private readonly leases: WorkerLeases;
  private readonly timings: RecoveryTimings;
  private readonly wakeups?: WakeupListener;
  private readonly timers = new Set<NodeJS.Timeout>();
  private tickTimer?: NodeJS.Timeout;
  /** When each maintenance task is due next (ms since the epoch). */
  private readonly maintenanceDue = new Map<MaintenanceTask, number>();
  private ticking?: Promise<void>;
  private started = false;
  private stopping?: Promise<void>;

  constructor(private readonly options: JobSystemOptions) {
    this.log = options.logger;
    this.now = options.now ?? (() => new Date());
    this.timings = TIMINGS;
    for (const handler of options.handlers) this.handlers.set(handler.action, handler);
    const pool = (options.dataSource.driver as unknown as { master: pg.Pool }).master;
    this.boss = new PgBoss({
      db: { executeSql: (text, values) => pool.query(text, values as unknown[]) },
      schema: 'pgboss',
      migrate: true,
      // Maintenance is only the backstop now (leases recover dead workers in seconds); pg-boss's
      // default runs it every 2 minutes at best.
      supervise: true,
      maintenanceIntervalSeconds: 30,
      schedule: false,
    });
    // Without an 'error' listener an EventEmitter error would crash the process.
    this.boss.on('error', (err) => this.log.warn({ err }, 'pg-boss error'));
    this.leases = new WorkerLeases(options.dataSource, this.timings.staleAfterMs);
    if (options.crossProcessWakeups) {
      this.wakeups = new WakeupListener(sessionClientConfig(pool.options as pg.ClientConfig, options.sessionUrl), (queue) => this.onWakeup(queue), this.log);
    }
    this.connector = options.connector ?? this.createConnector();
  }

  /** Registers how notifications reach users (the bot's proactive sender). */
  setNotifier(notifier: Notifier): void {
    this.notifier = notifier;
  }

  /** This process's id in automation_workers / automation_job_leases. */
  get workerId(): string {
    return this.leases.workerId;
  }

  async start(): Promise<void> {
    if (this.started) return;
    const { retry, concurrency, pollIntervalSeconds } = this.options.config;
    await this.boss.start();
    await this.ensureQueue(QUEUES.dead, {});
    await this.ensureQueue(QUEUES.run, {
      retryLimit: retry.limit,
      retryDelay: retry.delaySeconds,
      retryBackoff: retry.backoff,
      // A step is one transaction and one connector call (WEBHOOK_TIMEOUT_MS ≤ 120 s). A worker that
      // dies mid-step is noticed by the leases within seconds; this expiry is only the backstop.
      expireInSeconds: 180,
      deadLetter: QUEUES.dead,
    });
    await this.ensureQueue(QUEUES.simulator, { retryLimit: 10, retryDelay: 1, retryBackoff: true, expireInSeconds: 60 });
    await this.ensureQueue(QUEUES.notify, { retryLimit: 8, retryDelay: 2, retryBackoff: true, expireInSeconds: 60 });
    await this.ensureQueue(QUEUES.deadline, { retryLimit: 5, retryDelay: 5, retryBackoff: true, expireInSeconds: 60 });
    await this.leases.heartbeat();
    const pollIntervalMs = pollIntervalSeconds * 1000;
    this.addWorker<{ jobId: number }>('run', concurrency, pollIntervalMs, (m) => this.onRun(m));
    this.addWorker<{ jobId: number }>('dead', 2, pollIntervalMs, (m) => this.onDeadLetter(m));
    this.addWorker<SimulatedReply>('simulator', concurrency, pollIntervalMs, (m) => this.onSimulatedReply(m.data));
    this.addWorker<{ notificationId: number }>('notify', concurrency, pollIntervalMs, (m) => this.onNotify(m.data));
    this.addWorker<{ jobId: number; seconds: number }>('deadline', 2, pollIntervalMs, (m) => this.onDeadline(m.data));
    this.started = true;
    await this.wakeups?.start();
    // Messages of a process that died before this one started are taken back before anything else.
    await this.tick();
    for (const worker of this.workers.values()) worker.start();
    this.scheduleTick();
    this.log.info(
      { connector: this.connector.name, concurrency, retry, pollIntervalSeconds, workerId: this.workerId },
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
      clearTimeout(this.tickTimer);
      if (!this.started) return;
      await this.ticking;
      await this.wakeups?.stop();
      await Promise.all([...this.workers.values()].map((w) => w.stop(Math.max(1000, timeoutMs))));
      // Whatever is still leased to this process is taken back by the next tick anywhere.
      await this.leases.leave().catch((err: unknown) => this.log.warn({ err }, 'could not deregister the automation worker'));
      await this.boss.stop({ graceful: true, wait: true, close: false, timeout: 1000 });
    })();
    return this.stopping;
  }

  // ------------------------------------------------------------------------------ submitting

  async enqueue(tx: QueryRunner, request: JobRequest): Promise<{ jobId: number }> {
    if (!this.handlers.has(request.action)) throw new Error(`no job handler for ${request.action}`);
    const jobId = await insertJob(tx, request, this.connector.name);
    await addEvent(tx, jobId, 'queued', `Queued by ${request.requestedBy.name ?? request.requestedBy.id}`);
    await this.boss.send(QUEUES.run, { jobId }, { db: await txDb(tx) });
    await this.announce(tx, QUEUES.run);
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
    const outcome = await this.handlerTransaction(async (tx, afterCommit) => {
      const job = await lockJob(tx, jobId);
      if (!job) return 'not_found' as const;
      const env = this.handlerEnv(tx, job, afterCommit);
      // Any non-final state accepts a result: a dispatch that timed out on our side may still
      // have reached the RPA tool, which then reports while the job waits for its retry.
      if (TERMINAL_STATUSES.includes(job.status)) {
        return source !== 'deadline' && (await this.applyLate(tx, job, result, source, env)) ? ('applied' as const) : ('duplicate' as const);
      }
      await env.event('result', `${source}: ${result.status}${result.error ? ` — ${result.error}` : ''}`, {
        source,
        ...(result.timedOut ? { timedOut: true } : {}),
        ...(result.data ? { data: result.data } : {}),
      });
      const finish = await this.handler(job).complete(job, result, tx, env);
      await this.finish(tx, job, finish);
      return 'applied' as const;
    });
    if (outcome === 'applied') this.wake('notify');
    return outcome;
  }

  /**
   * A result for a job that ended without one (deadline, retries spent): the handler's `late` may
   * still act on it, once per job. False (nothing recorded) for a job that had a real result, a
   * repeat of the late result, or a handler with nothing to do.
   */
  private async applyLate(tx: QueryRunner, job: JobRecord, result: ConnectorResult, source: string, env: JobHandlerEnv): Promise<boolean> {
    const handler = this.handler(job);
    if (!handler.late || (job.status !== 'failed' && job.status !== 'dead_letter')) return false;
    const { rows } = await execute(
      tx,
      `SELECT 1 FROM automation_job_events
        WHERE job_id = $1 AND (kind = 'late_result' OR (kind = 'result' AND COALESCE(data->>'source', '') <> 'deadline')) LIMIT 1`,
      [job.id],
    );
    if (rows.length > 0) return false;
    const late = await handler.late(job, result, tx, env);
    if (!late) return false;
    await env.event('late_result', `${source} after the job had ended: ${result.status}${result.error ? ` — ${result.error}` : ''}. ${late.message}`, {
      source,
      ...(result.data ? { data: result.data } : {}),
    });
    if (late.result) {
      await execute(tx, `UPDATE automation_jobs SET result = COALESCE(result, '{}'::jsonb) || $2::jsonb, updated_at = now() WHERE id = $1`, [
        job.id,
        JSON.stringify({ late: late.result }),
      ]);
    }
    await this.tellAndAudit(tx, job, late);
    this.log.warn({ jobId: job.id, source, status: result.status }, 'automation result arrived after its job had ended; applied as a late result');
    return true;
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
    const step = await this.handlerTransaction(async (tx, afterCommit) => {
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
      const env = this.handlerEnv(tx, job, afterCommit);
      await env.event('started', attempt === 1 ? 'Started' : `Started (attempt ${attempt})`);
      const result = await this.handler(job).run(job, tx, env);
      if (result.kind === 'finish') {
        await this.finish(tx, job, result);
        return { finished: true as const };
      }
      await env.event('dispatching', result.message, {
        operation: result.operation,
        idempotencyKey: result.idempotencyKey ?? job.idempotencyKey,
      });
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
      idempotencyKey: dispatch.idempotencyKey ?? job.idempotencyKey,
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
    const applied = await this.handlerTransaction(async (tx, afterCommit) => {
      const job = await lockJob(tx, jobId);
      if (!job || TERMINAL_STATUSES.includes(job.status)) return false;
      const env = this.handlerEnv(tx, job, afterCommit);
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
    await this.tellAndAudit(tx, job, finish);
  }

  /** Notifications (outbox + pg-boss message, same transaction) and the audit row of an outcome. */
  private async tellAndAudit(tx: QueryRunner, job: JobRecord, finish: Pick<Finish, 'notices' | 'audit'>): Promise<void> {
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
    if (finish.notices.length > 0) await this.announce(tx, QUEUES.notify);
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

  /**
   * A transaction for handler code: the queues its handlers put work on (`env.enqueue`) are woken
   * once it has committed — not before (the worker would not see the job yet), not after a rollback.
   */
  private async handlerTransaction<T>(fn: (tx: QueryRunner, afterCommit: Set<QueueKey>) => Promise<T>): Promise<T> {
    const afterCommit = new Set<QueueKey>();
    const result = await inTransaction(this.options.dataSource, (tx) => fn(tx, afterCommit));
    for (const key of afterCommit) this.wake(key);
    return result;
  }

  private handlerEnv(tx: QueryRunner, job: JobRecord, afterCommit: Set<QueueKey>): JobHandlerEnv {
    return {
      event: (kind, message, data) => addEvent(tx, job.id, kind, message, data),
      enqueue: async (request) => {
        const started = await this.enqueue(tx, request);
        afterCommit.add('run');
        return started;
      },
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

  /** Tells idle workers of other processes (at commit) that `queue` has work. */
  private async announce(tx: QueryRunner, queue: string): Promise<void> {
    if (this.wakeups) await execute(tx, NOTIFY_SQL, [queue]);
  }

  private onWakeup(queue: string | undefined): void {
    const key = queue === undefined ? undefined : keyOf(queue);
    if (key) this.wake(key);
    else if (queue === undefined) for (const k of this.workers.keys()) this.wake(k);
  }

  private wake(queue: QueueKey): void {
    if (!this.started || this.stopping) return;
    this.workers.get(queue)?.wake();
  }

  // ------------------------------------------------------------------------------ dispatch and recovery

  private addWorker<T>(key: QueueKey, concurrency: number, pollIntervalMs: number, handle: (m: Message<T>) => Promise<void>): void {
    const queue = QUEUES[key];
    const worker = new QueueWorker<T>({
      queue,
      concurrency,
      pollIntervalMs,
      log: this.log,
      fetch: (limit) =>
        inTransaction(this.options.dataSource, async (tx) => {
          const messages = await this.boss.fetch<T>(queue, { batchSize: limit, includeMetadata: true, db: await txDb(tx) });
          await this.leases.take(
            tx,
            queue,
            messages.map((m) => m.id),
          );
          return messages;
        }),
      handle,
      settle: (message, error) => this.settle(queue, message.id, error),
    });
    this.workers.set(key, worker as unknown as QueueWorker<never>);
  }

  /**
   * Completes or fails a message, then releases its lease. A completion needs no transaction: a
   * lease left behind by a crash in between only makes a later reclaim fail a completed message,
   * which pg-boss ignores.
   */
  private async settle(queue: string, id: string, error: unknown): Promise<void> {
    if (error === undefined) {
      await this.boss.complete(queue, id, {});
      await this.leases.release(this.options.dataSource, id);
      return;
    }
    // The database went away under the step: no fault of the step. Give the attempt back (as
    // pg-boss's own `retry` does, by raising the limit) and retry as soon as the database answers.
    const outage = isConnectionError(error);
    await inTransaction(this.options.dataSource, async (tx) => {
      const db = await txDb(tx);
      if (outage) await refundAttempt(db, queue, id);
      await this.boss.fail(queue, id, { message: errorMessage(error).slice(0, 2000) }, { db });
      if (outage) await retrySoon(db, queue, [id]);
      await this.leases.release(tx, id);
    });
    if (outage) this.wake(keyOf(queue) ?? 'run');
  }

  private scheduleTick(): void {
    if (this.stopping) return;
    this.tickTimer = setTimeout(() => {
      void this.tick().finally(() => this.scheduleTick());
    }, this.timings.tickMs);
    this.tickTimer.unref();
  }

  /** Heartbeat, take back the messages of dead workers, tell requesters of slow jobs, housekeeping. Never throws. */
  private tick(): Promise<void> {
    this.ticking ??= (async () => {
      try {
        await this.leases.heartbeat();
        await this.reclaim();
        await this.tellSlowJobs();
        await this.maintain();
      } catch (err) {
        this.log.warn({ err }, 'automation recovery tick failed; trying again shortly');
      } finally {
        this.ticking = undefined;
      }
    })();
    return this.ticking;
  }

  private async reclaim(): Promise<void> {
    const woken = new Set<QueueKey>();
    for (const owner of await this.leases.deadOwners()) {
      const taken = await inTransaction(this.options.dataSource, async (tx) => {
        const messages = await this.leases.takeBack(tx, owner);
        const db = await txDb(tx);
        for (const queue of new Set(messages.map((m) => m.queue))) {
          const ids = messages.filter((m) => m.queue === queue).map((m) => m.id);
          const reason = { message: `worker ${owner} stopped while carrying this out` };
          for (const id of ids) await this.boss.fail(queue, id, reason, { db });
          await retrySoon(db, queue, ids);
        }
        return messages;
      });
      if (taken.length > 0) this.log.warn({ owner, messages: taken.length }, 'took back the jobs of a worker that stopped; they run again now');
      for (const m of taken) woken.add(keyOf(m.queue) ?? 'run');
    }
    for (const key of woken) this.wake(key);
    await this.leases.prune();
  }

  /** Runs the maintenance tasks that are due; one failing task neither stops the others nor the tick. */
  private async maintain(): Promise<void> {
    for (const task of this.options.maintenance ?? []) {
      const now = Date.now();
      if ((this.maintenanceDue.get(task) ?? 0) > now) continue;
      this.maintenanceDue.set(task, now + task.everyMs);
      try {
        const removed = await task.run();
        if (removed) this.log.info({ task: task.name, removed }, 'maintenance');
      } catch (err) {
        this.log.warn({ err, task: task.name }, 'maintenance task failed; trying again at its next turn');
      }
    }
  }

  /** One "still working on …" message per job that runs longer than JOB_STILL_WORKING_S. */
  private async tellSlowJobs(): Promise<void> {
    const seconds = this.options.config.stillWorkingSeconds;
    if (seconds <= 0) return;
    const told = await inTransaction(this.options.dataSource, async (tx) => {
      const slow = await claimSlowJobs(tx, seconds);
      const db = await txDb(tx);
      for (const { job, progress } of slow) {
        const reply = stillWorkingNotice(job, progress);
        const notificationId = await insertNotification(tx, {
          jobId: job.id,
          kind: 'still_working',
          channelId: job.channelId,
          conversationId: job.conversationId,
          reply,
        });
        await addEvent(tx, job.id, 'still_working', `Told ${job.requestedBy} it is still running`);
        await this.boss.send(QUEUES.notify, { notificationId }, { db });
      }
      return slow.length;
    });
    if (told > 0) this.wake('notify');
  }
}

function keyOf(queue: string): QueueKey | undefined {
  return (Object.keys(QUEUES) as QueueKey[]).find((k) => QUEUES[k] === queue);
}

/**
 * Makes failed-and-retrying messages due now instead of after pg-boss's backoff. pg-boss 10 has
 * no API for this; it is one UPDATE on its job table (columns as in pg-boss's own plans.js).
 */
async function retrySoon(db: Db, queue: string, ids: string[]): Promise<void> {
  await db.executeSql(`UPDATE pgboss.job SET start_after = now() WHERE name = $1 AND id = ANY($2::uuid[]) AND state = 'retry'`, [queue, ids]);
}

/** One more attempt for an active message (bounded, so a step that always breaks its connection still ends). */
async function refundAttempt(db: Db, queue: string, id: string): Promise<void> {
  await db.executeSql(
    `UPDATE pgboss.job SET retry_limit = retry_limit + 1 WHERE name = $1 AND id = $2::uuid AND state = 'active' AND retry_limit < 50`,
    [queue, id],
  );
}

/** pg-boss's `db` on the connection of an open transaction. */
async function txDb(tx: QueryRunner): Promise<Db> {
  const client = (await tx.connect()) as pg.PoolClient;
  return { executeSql: (text, values) => client.query(text, values as unknown[]) };
}
