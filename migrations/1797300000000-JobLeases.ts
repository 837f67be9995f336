import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Prompt recovery of automation jobs (src/jobs/leases.ts).
 *
 * automation_workers — one row per running JobSystem (server process): host, pid and a heartbeat
 * refreshed every few seconds. A worker whose heartbeat is stale, or whose pid is gone on this
 * host, is dead.
 *
 * automation_job_leases — one row per pg-boss message a worker is carrying out (any queue),
 * written in the same transaction that fetches the message. When the owner is dead, another
 * worker (or the restarted one) fails the message so pg-boss delivers it again at once, instead
 * of waiting for pg-boss's expiry.
 *
 * automation_jobs.still_working_at — when the requester was told "still working on …" (once per job).
 */
export class JobLeases1797300000000 implements MigrationInterface {
  name = 'JobLeases1797300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE automation_workers (
        id           text        PRIMARY KEY,
        host         text        NOT NULL,
        pid          integer     NOT NULL,
        started_at   timestamptz NOT NULL DEFAULT now(),
        heartbeat_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE automation_job_leases (
        boss_job_id text        PRIMARY KEY,
        queue       text        NOT NULL,
        owner       text        NOT NULL,
        taken_at    timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX automation_job_leases_owner_idx ON automation_job_leases (owner)');
    await q.query('ALTER TABLE automation_jobs ADD COLUMN still_working_at timestamptz');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE automation_jobs DROP COLUMN IF EXISTS still_working_at');
    await q.query('DROP TABLE IF EXISTS automation_job_leases');
    await q.query('DROP TABLE IF EXISTS automation_workers');
  }
}
