/**
 * Foundation figures: cold start, sequential turn latency over HTTP, trace writer throughput,
 * on the embedded database and on PostgreSQL (TEST_POSTGRES_URL, skipped if unreachable).
 *   npm run bench:foundation [-- --turns 200 --traces 20000 --json]
 * Writes bench/results/foundation.json.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { loadConfig } from '../src/config/config.js';
import { createLogger } from '../src/logger.js';
import { startApp } from '../src/app.js';
import { openDatabase } from '../src/db/database.js';
import { TraceWriter } from '../src/tracing/traceWriter.js';
import { TurnTrace } from '../src/tracing/turnTrace.js';

const { values } = parseArgs({
  options: {
    turns: { type: 'string', default: '200' },
    traces: { type: 'string', default: '20000' },
    json: { type: 'boolean', default: false },
  },
});
const TURNS = Number(values.turns);
const TRACES = Number(values.traces);
const PG_ADMIN = process.env.TEST_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
const round = (n: number) => Math.round(n * 100) / 100;

async function withPostgresDb<T>(fn: (url: string) => Promise<T>): Promise<T | undefined> {
  const admin = new pg.Client({ connectionString: PG_ADMIN });
  try {
    await admin.connect();
  } catch {
    return undefined;
  }
  const name = `rpa_bench_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(PG_ADMIN);
  url.pathname = `/${name}`;
  try {
    return await fn(url.toString());
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

/** Spawns the real entry point and measures until /readyz answers 200. */
async function coldStart(env: Record<string, string>): Promise<number> {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...process.env, LOG_LEVEL: 'error', PORT: String(port), ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
      try {
        const res = await fetch(`http://127.0.0.1:${port}/readyz`);
        if (res.status === 200) return performance.now() - t0;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

async function sequentialTurns(env: Record<string, string>) {
  const app = await startApp(loadConfig({ PORT: '0', LOG_LEVEL: 'silent', ...env }), { logger: createLogger('silent') });
  const conversation = { id: `bench-${randomUUID()}` };
  const latencies: number[] = [];
  const texts = ['hi', 'what can you do?', 'order 20 units of SKU-1001 from Acme Corp', 'has SH-2001 cleared customs?', 'thanks'];
  for (let i = 0; i < TURNS + 10; i++) {
    const body = JSON.stringify({
      type: 'message',
      id: randomUUID(),
      channelId: 'bench',
      serviceUrl: 'http://127.0.0.1:65535',
      conversation,
      from: { id: 'bench-user' },
      recipient: { id: 'bot' },
      text: texts[i % texts.length],
      deliveryMode: 'expectReplies',
    });
    const t = performance.now();
    const res = await fetch(`${app.url}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    await res.text();
    if (res.status !== 200) throw new Error(`turn failed: ${res.status}`);
    if (i >= 10) latencies.push(performance.now() - t); // first 10 are warm-up
  }
  await app.traceWriter.flush();
  const stats = app.traceWriter.stats();
  await app.close();
  latencies.sort((a, b) => a - b);
  return { p50_ms: round(quantile(latencies, 0.5)), p99_ms: round(quantile(latencies, 0.99)), traces_written: stats.written, dropped: stats.dropped };
}

async function traceThroughput(config: Parameters<typeof openDatabase>[0]) {
  const db = await openDatabase(config);
  const writer = new TraceWriter(db.dataSource, { batchSize: 200, flushMs: 50, bufferMax: TRACES * 2 });
  const records = Array.from({ length: TRACES }, (_, i) => {
    const trace = new TurnTrace({ conversationId: `c${i % 100}`, channelId: 'bench', activityId: randomUUID(), userId: 'u' });
    trace.record('receive', 0.3);
    trace.record('nlu', 2.1);
    trace.record('send', 0.5);
    trace.setIntent('assistant.help', 0.97);
    return trace.end();
  });
  const t0 = performance.now();
  for (const r of records) writer.enqueue(r);
  await writer.flush();
  const seconds = (performance.now() - t0) / 1000;
  const stats = writer.stats();
  await writer.close(5000);
  await db.close();
  return { rows_per_s: Math.round(stats.written / seconds), written: stats.written, dropped: stats.dropped };
}

const results: Record<string, unknown> = { date: new Date().toISOString(), turns: TURNS, traces: TRACES };
const embeddedDir = mkdtempSync(join(tmpdir(), 'rpa-bench-'));
try {
  results.embedded = {
    cold_start_first_ms: round(await coldStart({ DATA_DIR: embeddedDir })),
    cold_start_again_ms: round(await coldStart({ DATA_DIR: embeddedDir })),
    sequential_turns: await sequentialTurns({ DATA_DIR: embeddedDir }),
    trace_writer: await traceThroughput({ mode: 'embedded', dataDir: embeddedDir }),
  };
} finally {
  rmSync(embeddedDir, { recursive: true, force: true });
}
results.postgres =
  (await withPostgresDb(async (url) => ({
    cold_start_first_ms: round(await coldStart({ DATABASE_URL: url })),
    cold_start_again_ms: round(await coldStart({ DATABASE_URL: url })),
    sequential_turns: await sequentialTurns({ DATABASE_URL: url }),
    trace_writer: await traceThroughput({ mode: 'postgres', url }),
  }))) ?? 'skipped: PostgreSQL unreachable';

mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/foundation.json', JSON.stringify(results, null, 2) + '\n');
process.stdout.write(values.json ? JSON.stringify(results) + '\n' : JSON.stringify(results, null, 2) + '\n');
process.exit(0);
