import type { DataSource } from 'typeorm';
import { errorMessage } from '../db/errors.js';
import { silentLog, type Log } from '../db/log.js';
import { execute } from '../db/sql.js';
import { expireRollups, rollUpTraces, rollupsInstalled } from './rollups.js';

/**
 * Daily partitions of turn_traces (migrations/1797600000000-TracePartitions.ts): created ahead,
 * rows that fell into turn_traces_default moved into their day, and days older than the retention
 * dropped whole. Run by the worker role (src/roles.ts); several workers may run it at once — one
 * transaction-scoped advisory lock serialises them. TraceMaintenance also drives the rollups
 * (src/tracing/rollups.ts) the dashboard reads for long windows.
 */

const DAY_MS = 86_400_000;
/** Any constant; the same in every process of this app. */
const MAINTENANCE_LOCK_KEY = 727_318_015;
const PARTITION_NAME = /^turn_traces_p(\d{4})(\d{2})(\d{2})$/;

export const partitionName = (dayStartMs: number): string => `turn_traces_p${new Date(dayStartMs).toISOString().slice(0, 10).replaceAll('-', '')}`;
const utcDay = (ms: number): number => Math.floor(ms / DAY_MS) * DAY_MS;
const iso = (ms: number): string => new Date(ms).toISOString();

export interface MaintenanceResult {
  /** Partitions created (names). */
  created: string[];
  /** Rows moved out of turn_traces_default into their new partition. */
  moved: number;
  /** Partitions dropped by retention (names). */
  dropped: string[];
}

export interface MaintenanceOptions {
  /** Days kept, today included; 0 keeps everything. */
  retentionDays: number;
  /** Days created ahead of today (default 2). */
  daysAhead?: number;
  now?: Date;
}

/** Is turn_traces partitioned here (the migration ran)? */
export async function tracesPartitioned(ds: DataSource): Promise<boolean> {
  const { rows } = await execute<{ kind: string }>(ds, `SELECT relkind::text AS kind FROM pg_class WHERE oid = to_regclass('turn_traces')`);
  return rows[0]?.kind === 'p';
}

/** The daily partitions that exist, oldest first, with the start of their day. */
export async function listDayPartitions(ds: Parameters<typeof execute>[0]): Promise<{ name: string; dayStartMs: number }[]> {
  const { rows } = await execute<{ name: string }>(
    ds,
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass('turn_traces')`,
  );
  return rows
    .map((r) => ({ name: r.name, m: PARTITION_NAME.exec(r.name) }))
    .filter((r): r is { name: string; m: RegExpExecArray } => r.m !== null)
    .map((r) => ({ name: r.name, dayStartMs: Date.UTC(Number(r.m[1]), Number(r.m[2]) - 1, Number(r.m[3])) }))
    .sort((a, b) => a.dayStartMs - b.dayStartMs);
}

/**
 * One maintenance pass: partitions for today and `daysAhead` days (plus any day that has rows in
 * the default partition), then retention. Idempotent.
 */
export async function maintainTracePartitions(ds: DataSource, options: MaintenanceOptions): Promise<MaintenanceResult> {
  const now = (options.now ?? new Date()).getTime();
  const today = utcDay(now);
  const result: MaintenanceResult = { created: [], moved: 0, dropped: [] };
  const runner = ds.createQueryRunner();
  try {
    await runner.startTransaction();
    await execute(runner, 'SELECT pg_advisory_xact_lock($1)', [MAINTENANCE_LOCK_KEY]);
    const existing = new Set((await listDayPartitions(runner)).map((p) => p.name));
    // Days stranded in the default partition (no partition existed when they were written).
    const { rows: stranded } = await execute<{ day: string }>(
      runner,
      `SELECT DISTINCT to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day FROM turn_traces_default`,
    );
    const wanted = new Set<number>();
    for (let d = 0; d <= (options.daysAhead ?? 2); d++) wanted.add(today + d * DAY_MS);
    for (const r of stranded) wanted.add(Date.parse(`${r.day}T00:00:00Z`));
    for (const day of [...wanted].sort((a, b) => a - b)) {
      const name = partitionName(day);
      if (existing.has(name)) continue;
      if (options.retentionDays > 0 && day + DAY_MS <= today - (options.retentionDays - 1) * DAY_MS) continue;
      // Created detached, filled from the default partition, then attached: a plain CREATE … PARTITION OF
      // fails while the default partition holds rows of that day.
      await execute(runner, `CREATE TABLE ${name} (LIKE turn_traces INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
      const moved = await execute(
        runner,
        `WITH moved AS (DELETE FROM turn_traces_default WHERE started_at >= $1 AND started_at < $2 RETURNING *)
         INSERT INTO ${name} SELECT * FROM moved`,
        [iso(day), iso(day + DAY_MS)],
      );
      result.moved += moved.rowCount;
      await execute(runner, `ALTER TABLE turn_traces ATTACH PARTITION ${name} FOR VALUES FROM ('${iso(day)}') TO ('${iso(day + DAY_MS)}')`);
      result.created.push(name);
    }
    if (options.retentionDays > 0) {
      // Keep today and the retentionDays − 1 days before it.
      const oldestKept = today - (options.retentionDays - 1) * DAY_MS;
      for (const p of await listDayPartitions(runner)) {
        if (p.dayStartMs >= oldestKept || !existing.has(p.name)) continue;
        await execute(runner, `DROP TABLE ${p.name}`);
        result.dropped.push(p.name);
      }
      await execute(runner, 'DELETE FROM turn_traces_default WHERE started_at < $1', [iso(oldestKept)]);
    }
    await runner.commitTransaction();
    return result;
  } catch (err) {
    if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => {});
    throw err;
  } finally {
    await runner.release();
  }
}

export interface TraceMaintenanceOptions {
  retentionDays: number;
  /** Partition maintenance, rollup retention and the deep re-roll: at start and then this often (default hourly). */
  intervalMs?: number;
  /** Rollup of the minutes completed since the last pass (src/tracing/rollups.ts): this often (default every minute). */
  rollupIntervalMs?: number;
  /** How far back the hourly pass re-rolls minutes, for traces written very late (default 2 h). */
  deepLookbackMs?: number;
  logger?: Log;
  now?: () => Date;
}

/**
 * Runs the partition maintenance at start and then every `intervalMs` (default hourly), and the
 * trace rollups at start and every `rollupIntervalMs` (default every minute), one pass at a time
 * in this process, until stopped.
 */
export class TraceMaintenance {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;
  private lastFullPass = -Infinity;

  constructor(
    private readonly ds: DataSource,
    private readonly options: TraceMaintenanceOptions,
  ) {}

  /** Partitions first (awaited: today's must exist before turns are served), then rollups in the background. */
  async start(): Promise<void> {
    await this.runOnce({ rollups: false });
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /**
   * One pass: the rollup of completed minutes, preceded by the partition maintenance, rollup
   * retention and a deep re-roll when the hourly one is due (or `full`). Errors are logged (the
   * next pass retries), never thrown. A backlog of rollups stops between chunks on `stop()`.
   */
  runOnce(options: { full?: boolean; rollups?: boolean } = {}): Promise<void> {
    this.running ??= (async () => {
      const log = this.options.logger ?? silentLog;
      const now = this.options.now?.() ?? new Date();
      const hourly = options.full || now.getTime() - this.lastFullPass >= (this.options.intervalMs ?? 3_600_000);
      try {
        if (hourly) {
          this.lastFullPass = now.getTime();
          if (await tracesPartitioned(this.ds)) {
            const r = await maintainTracePartitions(this.ds, { retentionDays: this.options.retentionDays, now });
            if (r.created.length + r.dropped.length > 0) log.info(r, 'trace partitions maintained');
          }
        }
      } catch (err) {
        log.warn({ error: errorMessage(err) }, 'trace partition maintenance failed (retried next pass)');
      }
      try {
        if (options.rollups !== false && (await rollupsInstalled(this.ds))) {
          const r = await rollUpTraces(this.ds, {
            retentionDays: this.options.retentionDays,
            now,
            shouldStop: () => this.stopped,
            ...(hourly ? { lookbackMs: this.options.deepLookbackMs ?? 2 * 3_600_000 } : {}),
          });
          const expired = hourly ? await expireRollups(this.ds, this.options.retentionDays, now) : 0;
          if (r.transactions > 1 || expired > 0) log.info({ ...r, expired }, 'trace rollups caught up');
        }
      } catch (err) {
        log.warn({ error: errorMessage(err) }, 'trace rollup failed (retried next pass)');
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  private schedule(delayMs = this.options.rollupIntervalMs ?? 60_000): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.runOnce().then(() => this.schedule());
    }, delayMs);
    this.timer.unref();
  }
}
