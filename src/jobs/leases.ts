import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { DataSource, QueryRunner } from 'typeorm';
import { execute } from '../db/sql.js';

/**
 * Who is carrying out which pg-boss message (tables: migrations/1797300000000-JobLeases.ts).
 *
 * pg-boss 10 has no heartbeat: a message whose worker died stays `active` until its expiry
 * (`expireInSeconds`) and then until maintenance notices (minutes). Here each process registers
 * itself and heartbeats; the leases it takes are written in the transaction that fetches the
 * messages. A lease whose owner is dead — not registered, on this host a pid that no longer runs,
 * on another host a heartbeat older than `staleAfterMs` — is taken back: the message is failed so pg-boss delivers it again, and
 * made due at once.
 */
export class WorkerLeases {
  readonly workerId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly host = hostname();

  constructor(
    private readonly db: DataSource,
    readonly staleAfterMs: number,
  ) {
    liveInThisProcess.add(this.workerId);
  }

  /** Registers this process (and refreshes its heartbeat). */
  async heartbeat(): Promise<void> {
    await execute(
      this.db,
      `INSERT INTO automation_workers (id, host, pid) VALUES ($1, $2, $3)
       ON CONFLICT (id) DO UPDATE SET heartbeat_at = now()`,
      [this.workerId, this.host, process.pid],
    );
  }

  /** Leases fetched messages to this process (inside the fetching transaction). */
  async take(tx: QueryRunner, queue: string, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await execute(
      tx,
      `INSERT INTO automation_job_leases (boss_job_id, queue, owner)
       SELECT unnest($1::text[]), $2, $3
       ON CONFLICT (boss_job_id) DO UPDATE SET owner = EXCLUDED.owner, queue = EXCLUDED.queue, taken_at = now()`,
      [ids, queue, this.workerId],
    );
  }

  async release(tx: QueryRunner | DataSource, id: string): Promise<void> {
    await execute(tx, 'DELETE FROM automation_job_leases WHERE boss_job_id = $1 AND owner = $2', [id, this.workerId]);
  }

  /** Owners of leases (other than this process) that are dead. */
  async deadOwners(): Promise<string[]> {
    const { rows } = await execute<{ owner: string; host: string | null; pid: number | null; stale: boolean | null }>(
      this.db,
      `SELECT l.owner, w.host, w.pid, (w.heartbeat_at < now() - $2 * interval '1 millisecond') AS stale
       FROM (SELECT DISTINCT owner FROM automation_job_leases WHERE owner <> $1) l
       LEFT JOIN automation_workers w ON w.id = l.owner`,
      [this.workerId, this.staleAfterMs],
    );
    // On this host the pid decides (a stalled event loop is not death); elsewhere the heartbeat does.
    const dead = (r: (typeof rows)[number]) => r.host === null || (r.host === this.host ? !isAlive(r.pid!, r.owner) : r.stale === true);
    return rows.filter(dead).map((r) => r.owner);
  }

  /** Takes back the leases of a dead owner (in `tx`); returns the messages to fail. */
  async takeBack(tx: QueryRunner, owner: string): Promise<{ id: string; queue: string }[]> {
    const { rows } = await execute<{ boss_job_id: string; queue: string }>(
      tx,
      'DELETE FROM automation_job_leases WHERE owner = $1 RETURNING boss_job_id, queue',
      [owner],
    );
    await execute(tx, 'DELETE FROM automation_workers WHERE id = $1', [owner]);
    return rows.map((r) => ({ id: r.boss_job_id, queue: r.queue }));
  }

  /** Deregisters this process on a clean stop: whatever it still holds is taken back at once by the next reaper. */
  async leave(): Promise<void> {
    liveInThisProcess.delete(this.workerId);
    await execute(this.db, 'DELETE FROM automation_workers WHERE id = $1', [this.workerId]);
  }

  /** Forgets workers that left no lease and stopped heartbeating an hour ago. */
  async prune(): Promise<void> {
    await execute(
      this.db,
      `DELETE FROM automation_workers w WHERE w.heartbeat_at < now() - interval '1 hour'
       AND NOT EXISTS (SELECT 1 FROM automation_job_leases l WHERE l.owner = w.id)`,
    );
  }
}

/** Job systems running in this process (tests run several; a restarted container may reuse a pid). */
const liveInThisProcess = new Set<string>();

/** Is the worker `id` with `pid` on this host still running? */
function isAlive(pid: number, id: string): boolean {
  if (pid === process.pid) return liveInThisProcess.has(id);
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
