import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * turn_traces partitioned by day (native range partitioning on started_at, UTC days), so the
 * dashboard's time-window queries read only the days they ask for and retention drops whole
 * partitions (TRACE_RETENTION_DAYS; src/tracing/partitions.ts) instead of deleting rows.
 *
 * The existing table is renamed, an empty partitioned table takes its name, one partition is
 * created per day that holds traces plus today and the next two days, the rows are copied and the
 * old table dropped — all in the migration's transaction. turn_traces_default catches a row whose
 * day has no partition yet (the worker creates them ahead and moves such rows out).
 *
 * A partitioned table's primary key must contain the partition key: (turn_id, started_at). The
 * writer re-sends a batch with the same turn ids and start times, so ON CONFLICT DO NOTHING still
 * stores each turn once.
 */
const COLUMNS = `
        turn_id         text             NOT NULL,
        conversation_id text,
        channel_id      text,
        activity_id     text,
        user_id         text,
        started_at      timestamptz      NOT NULL,
        total_ms        double precision NOT NULL,
        stages          jsonb            NOT NULL DEFAULT '{}'::jsonb,
        intent          text,
        confidence      double precision,
        attributes      jsonb            NOT NULL DEFAULT '{}'::jsonb,
        outcome         text             NOT NULL,
        error           text`;

const DAY_MS = 86_400_000;
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export class TracePartitions1797600000000 implements MigrationInterface {
  name = 'TracePartitions1797600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE turn_traces RENAME TO turn_traces_unpartitioned`);
    await q.query(`ALTER TABLE turn_traces_unpartitioned RENAME CONSTRAINT turn_traces_pkey TO turn_traces_unpartitioned_pkey`);
    await q.query(`ALTER INDEX turn_traces_started_at_idx RENAME TO turn_traces_unpartitioned_started_at_idx`);
    await q.query(`CREATE TABLE turn_traces (${COLUMNS},
        PRIMARY KEY (turn_id, started_at)
      ) PARTITION BY RANGE (started_at)`);
    await q.query(`CREATE INDEX turn_traces_started_at_idx ON turn_traces (started_at)`);
    await q.query(`CREATE TABLE turn_traces_default PARTITION OF turn_traces DEFAULT`);
    const held = (await q.query(
      `SELECT DISTINCT to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day FROM turn_traces_unpartitioned`,
    )) as { day: string }[];
    const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
    const days = new Set([...held.map((r) => r.day), isoDay(today), isoDay(today + DAY_MS), isoDay(today + 2 * DAY_MS)]);
    for (const day of [...days].sort()) {
      const from = Date.parse(`${day}T00:00:00Z`);
      await q.query(
        `CREATE TABLE turn_traces_p${day.replaceAll('-', '')} PARTITION OF turn_traces
           FOR VALUES FROM ('${isoDay(from)}T00:00:00Z') TO ('${isoDay(from + DAY_MS)}T00:00:00Z')`,
      );
    }
    await q.query(`INSERT INTO turn_traces SELECT * FROM turn_traces_unpartitioned`);
    await q.query(`DROP TABLE turn_traces_unpartitioned`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE turn_traces_unpartitioned (${COLUMNS}, PRIMARY KEY (turn_id))`);
    // A turn id stored twice (possible only with different start times) keeps its earliest row.
    await q.query(
      `INSERT INTO turn_traces_unpartitioned SELECT DISTINCT ON (turn_id) * FROM turn_traces ORDER BY turn_id, started_at`,
    );
    await q.query(`DROP TABLE turn_traces`);
    await q.query(`ALTER TABLE turn_traces_unpartitioned RENAME TO turn_traces`);
    await q.query(`ALTER TABLE turn_traces RENAME CONSTRAINT turn_traces_unpartitioned_pkey TO turn_traces_pkey`);
    await q.query(`CREATE INDEX turn_traces_started_at_idx ON turn_traces (started_at)`);
  }
}
