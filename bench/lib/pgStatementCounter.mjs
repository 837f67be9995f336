/**
 * Preload for the server child under the benches (`--count-statements` of bench:e2e; plain JavaScript, since inference worker threads inherit the option without the tsx loader):
 * counts every statement the `pg` driver sends — per statement text, with the bytes of its
 * parameters and of the rows that came back — so a turn's database round trips can be read per
 * statement, not only as pg_stat_database transactions. pg_stat_statements would do the same but
 * needs shared_preload_libraries and a server restart.
 *
 * On SIGUSR2 it writes a snapshot to `$PG_STATEMENT_COUNTS.<n>.json` (n = 1, 2, …); the bench
 * takes one at each end of its measured window and subtracts them. Nothing else changes: the
 * wrapped `query` returns what the original returns.
 */
import { Buffer } from 'node:buffer';
import { writeFileSync } from 'node:fs';
import process from 'node:process';
import { isMainThread } from 'node:worker_threads';
import pg from 'pg';

/** @type {Map<string, {calls: number, paramBytes: number, resultBytes: number, rows: number}>} */
const counts = new Map();
const out = process.env.PG_STATEMENT_COUNTS;

/** One line per statement: whitespace collapsed, literals (scripts without parameters) and VALUES lists of multi-row inserts folded. */
function normalise(text) {
  return text
    .replace(/\s+/g, ' ')
    .replace(/E?'(?:[^']|'')*'/g, "'…'")
    .replace(/VALUES (\(.*?\))(, \(.*?\))+/g, 'VALUES $1, …')
    .trim()
    .slice(0, 160);
}

function sizeOf(value) {
  if (value === null || value === undefined) return 0;
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (Buffer.isBuffer(value)) return value.length;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value).length;
  if (value instanceof Date) return 8;
  try {
    return Buffer.byteLength(JSON.stringify(value));
  } catch {
    return 0;
  }
}

function rowsBytes(result) {
  const results = Array.isArray(result) ? result : [result];
  let rows = 0;
  let bytes = 0;
  for (const r of results) {
    if (!r?.rows) continue;
    rows += r.rows.length;
    for (const row of r.rows) bytes += sizeOf(row);
  }
  return { rows, bytes };
}

const proto = pg.Client.prototype;
const original = proto.query;

proto.query = function countedQuery(...args) {
  const first = args[0];
  const text = typeof first === 'string' ? first : (first?.text ?? '(non-text query)');
  const values = typeof first === 'string' ? args[1] : first?.values;
  const key = normalise(text);
  let c = counts.get(key);
  if (!c) counts.set(key, (c = { calls: 0, paramBytes: 0, resultBytes: 0, rows: 0 }));
  c.calls++;
  c.paramBytes += Buffer.byteLength(text) + (Array.isArray(values) ? values.reduce((n, v) => n + sizeOf(v), 0) : 0);
  const entry = c;
  const result = original.apply(this, args);
  if (result && typeof result.then === 'function') {
    result.then(
      (r) => {
        const { rows, bytes } = rowsBytes(r);
        entry.rows += rows;
        entry.resultBytes += bytes;
      },
      () => {},
    );
  }
  return result;
};

let snapshots = 0;
if (out && isMainThread) {
  process.on('SIGUSR2', () => {
    snapshots++;
    writeFileSync(`${out}.${snapshots}.json`, JSON.stringify(Object.fromEntries(counts)));
  });
}
