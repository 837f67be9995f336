import type restify from 'restify';
import type { DataSource } from 'typeorm';
import type { AppConfig } from './config/config.js';
import { execute } from './db/sql.js';
import { QUEUES } from './jobs/JobSystem.js';

/**
 * What one process runs (ROLE). `all`: everything, the single-process default. `web`: the HTTP
 * turns (they enqueue jobs and write traces, but run no job worker). `worker`: the pg-boss
 * workers, the outbox of proactive messages and the trace maintenance, with no HTTP besides
 * health and metrics. Any number of each on one PostgreSQL (docs/notes/scaleout.md).
 */
export type ProcessRole = AppConfig['processRole'];

/** Does this process answer turns (/api/messages, web chat, Slack, callbacks, dashboard)? */
export const servesTurns = (role: ProcessRole): boolean => role !== 'worker';

/** Does this process run the durable jobs, the notification outbox and trace maintenance? */
export const runsBackgroundWork = (role: ProcessRole): boolean => role !== 'web';

/** The only paths a worker answers: what orchestrators and Prometheus poll. */
export const WORKER_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * A `pre` handler for the worker role: every path but health and metrics is 404, before routing and
 * before a body is read, so a worker that a load balancer reaches by mistake never runs a turn.
 */
export function workerHttpOnly(): restify.RequestHandler {
  return (req, res, next) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (WORKER_PATHS.has(path)) return next();
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { code: 'not_found', message: 'This is a worker process: it serves /healthz, /readyz and /metrics only.' } }));
    return next(false);
  };
}

/**
 * A web process sends jobs into pg-boss queues it does not create (the worker's JobSystem.start
 * migrates pg-boss and creates them). Until a worker has done so once, a confirmed order could not
 * be queued, so the web role is not ready.
 */
export async function jobQueuesExist(dataSource: DataSource): Promise<boolean> {
  const names = Object.values(QUEUES);
  try {
    const { rows } = await execute<{ n: number }>(
      dataSource,
      `SELECT count(*)::int AS n FROM pgboss.queue WHERE name = ANY($1::text[])`,
      [names],
    );
    return (rows[0]?.n ?? 0) === names.length;
  } catch {
    // pgboss schema not there yet (42P01): no worker has started on this database.
    return false;
  }
}
