import type { DataSource, QueryRunner } from 'typeorm';

export interface SqlResult<T> {
  rows: T[];
  rowCount: number;
}

/**
 * Runs one parameterised statement and returns rows and the affected-row count, in one shape
 * whatever the command (TypeORM's plain `query()` returns `[rows, count]` for UPDATE/DELETE but
 * bare rows otherwise). Pass a QueryRunner to stay on its connection (inside a transaction).
 */
export async function execute<T = Record<string, unknown>>(
  target: DataSource | QueryRunner,
  text: string,
  params: unknown[] = [],
): Promise<SqlResult<T>> {
  const owned = 'createQueryRunner' in target;
  const runner = owned ? target.createQueryRunner() : target;
  try {
    const result = await runner.query(text, params, true);
    return { rows: (result.records ?? []) as T[], rowCount: result.affected ?? 0 };
  } finally {
    if (owned) await runner.release();
  }
}

/**
 * A string as a SQL literal, exactly as node-postgres' `escapeLiteral` writes it (quotes doubled;
 * with a backslash, every backslash doubled and an ` E` prefix), for scripts sent without
 * parameters. pg's version appends the string one character at a time; two native replaces do the
 * same for a state document of a few hundred characters at a small part of the cost.
 */
export function sqlLiteral(value: string): string {
  const quoted = `'${value.replaceAll("'", "''")}'`;
  return value.includes('\\') ? ` E${quoted.replaceAll('\\', '\\\\')}` : quoted;
}
