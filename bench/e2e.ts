/**
 * End-to-end benchmark: N concurrent simulated conversations talk to POST /api/messages over real
 * HTTP (replies come back to a local channel endpoint, as Teams/Slack connectors receive them),
 * each sending its next message when the last turn answered. Turn throughput and client latency
 * are measured here; per-stage p50/p95/p99 are read back from the saved traces (SQL on the
 * embedded database, or /api/traces/summary with --url), and every turn's trace is checked to be
 * saved.
 *
 *   npm run bench:e2e [-- --url http://127.0.0.1:3978 --token ADMIN_TOKEN]
 *                     [--conversations 1,25,50,100,200] [--turns 6] [--think-ms 0] [--model DIR] [--pg] [--quick] [--json]
 *
 * --think-ms: a user's pause between a reply and their next message (uniform 0.5–1.5× this, first
 * message at a random offset); 0 (default) = each conversation sends again at once: the most load
 * N conversations can put on the server.
 *
 * Without --url a server is started on an embedded database in a temp dir (with --pg: a fresh
 * database on TEST_POSTGRES_URL's server, dropped afterwards), with the model (models/intent-gpt2,
 * else the test fixture) and the INFERENCE_* settings of the environment. By default it runs in a
 * child process (`tsx src/main.ts`, as `npm start` runs it) so the load generator's event loop does
 * not add its own delays to the server's; --in-process runs it in this process instead (traces are
 * then read with SQL for an exact per-level count).
 * Writes bench/results/e2e[-pg][-thinkN][-TAG].csv, .json and SVG charts (--tag names a variant,
 * e.g. INFERENCE_WORKERS=false … --tag main-thread); --quick writes under bench/results/quick/.
 *
 * Open loop (what the SLO is about): `--rate R --seconds S` or `--sweep R1,R2,…` offers turns on
 * a Poisson schedule regardless of replies, against this server and, in the same run, the SDK's
 * minimal echo bot (bench/echoBot.ts) as a floor — see bench/lib/openLoopBench.ts.
 *   npm run bench:e2e -- --rate 100 --seconds 60 --pg --json [--env ADMISSION_MAX_INFLIGHT=64 …]
 *   npm run bench:e2e -- --sweep 25,50,100,150,200 --seconds 30 --pg
 *   --node-arg=--cpu-prof --node-arg=--cpu-prof-dir=DIR   node options for the server child (profiling)
 *   --count-statements   per-statement calls and bytes per turn (bench/lib/pgStatementCounter.mjs)
 *   --gc-stats           the server's main-thread GCs per turn by kind and its young generation's size
 *                        (bench/lib/gcStats.mjs). The server runs with the image's NODE_OPTIONS (a 32 MB
 *                        semi-space, bench/lib/serverChild.ts); --node-arg=--max-semi-space-size=16 is V8's default
 * Every open-loop run also reports the whole box in its window (bench/lib/boxMeter.ts: busy share,
 * CPU pressure from /proc/pressure/cpu, the generator's and PostgreSQL's CPU per turn) and, for the
 * tail's densest second, what the box was doing then (`box`, `tail_bunch_box` in the JSON).
 */
import { type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startApp, type RunningApp } from '../src/app.js';
import { ConnectorReceiver } from '../src/chat/connectorReceiver.js';
import { loadConfig } from '../src/config/config.js';
import { execute } from '../src/db/sql.js';
import { createLogger } from '../src/logger.js';
import { writeLineChart } from './lib/charts.js';
import { benchMessage, loadUtterances, ProcessMeter, quantile, ResourceMeter, round } from './lib/load.js';
import { runOpenLoopBench } from './lib/openLoopBench.js';
import { benchServerEnv, createBenchDatabase, startTsxChild, stopChild } from './lib/serverChild.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TARGET_CONVERSATIONS = 200;
const TARGET_P99_MS = 40;

interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
  count: number;
}

interface LevelResult {
  conversations: number;
  turns: number;
  seconds: number;
  turnsPerSecond: number;
  client: Percentiles;
  /** Server-side from the traces: total turn time and each stage. */
  server: Percentiles | null;
  stages: Record<string, Percentiles>;
  outcomes: Record<string, number>;
  tracesSaved: number;
  httpErrors: number;
  cpuPct: number;
  peakRssMb: number;
  meanBatch: number | null;
}

const TRACE_SQL = 'SELECT total_ms, stages, outcome FROM turn_traces WHERE conversation_id LIKE $1';

const pct = (xs: number[]): Percentiles => {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: quantile(s, 0.5), p95: quantile(s, 0.95), p99: quantile(s, 0.99), count: s.length };
};

function defaultModelDir(): string {
  const real = path.join(ROOT, 'models/intent-gpt2');
  return existsSync(path.join(real, 'model.onnx')) ? real : path.join(ROOT, 'test/fixtures/tiny-gpt2');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      token: { type: 'string' },
      conversations: { type: 'string' },
      turns: { type: 'string' },
      model: { type: 'string' },
      pg: { type: 'boolean', default: false },
      'think-ms': { type: 'string', default: '0' },
      tag: { type: 'string' },
      'in-process': { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      out: { type: 'string' },
      // open loop (bench/lib/openLoopBench.ts)
      rate: { type: 'string' },
      sweep: { type: 'string' },
      seconds: { type: 'string' },
      'warm-seconds': { type: 'string' },
      users: { type: 'string' },
      env: { type: 'string', multiple: true },
      'node-arg': { type: 'string', multiple: true },
      'count-statements': { type: 'boolean', default: false },
      'gc-stats': { type: 'boolean', default: false },
      'skip-floor': { type: 'boolean', default: false },
    },
  });
  const log = (s = ''): void => void (values.json ? process.stderr : process.stdout).write(`${s}\n`);
  const quick = values.quick;
  if (values.rate || values.sweep) {
    await runOpenLoopBench({
      root: ROOT,
      rates: (values.sweep ?? values.rate!).split(',').map(Number),
      sweep: values.sweep !== undefined,
      seconds: Number(values.seconds ?? 10),
      warmSeconds: values['warm-seconds'] !== undefined ? Number(values['warm-seconds']) : undefined,
      users: values.users !== undefined ? Number(values.users) : undefined,
      pg: values.pg,
      modelDir: path.resolve(values.model ?? defaultModelDir()),
      serverEnv: Object.fromEntries(
        (values.env ?? []).map((kv) => {
          const eq = kv.indexOf('=');
          if (eq < 1) throw new Error(`--env takes KEY=VALUE, got "${kv}"`);
          return [kv.slice(0, eq), kv.slice(eq + 1)];
        }),
      ),
      serverNodeArgs: values['node-arg'] ?? [],
      countStatements: values['count-statements'],
      gcStats: values['gc-stats'],
      floor: !values['skip-floor'],
      json: values.json,
      tag: values.tag,
      outDir: path.resolve(values.out ?? path.join(ROOT, quick ? 'bench/results/quick' : 'bench/results')),
      log,
    });
    return;
  }
  const levels = (values.conversations ?? (quick ? '1,50,200' : '1,25,50,100,200')).split(',').map(Number);
  const turnsPer = Number(values.turns ?? (quick ? 3 : 6));
  const thinkMs = Number(values['think-ms']);
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  // Quick runs never overwrite the committed full-run files.
  const outDir = path.resolve(values.out ?? path.join(ROOT, quick ? 'bench/results/quick' : 'bench/results'));
  mkdirSync(outDir, { recursive: true });
  const texts = loadUtterances(ROOT);
  const runId = randomUUID().slice(0, 8);

  // the server
  let app: RunningApp | undefined;
  let dataDir: string | undefined;
  let baseUrl: string;
  let modelDir: string | undefined;
  let dropDatabase: (() => Promise<void>) | undefined;
  let databaseUrl = '';
  if (values.pg && !values.url) {
    const database = await createBenchDatabase(`rpa_bench_e2e_${runId}`);
    databaseUrl = database.url;
    dropDatabase = database.drop;
  }
  const suffix = `${values.pg ? '-pg' : ''}${thinkMs > 0 ? `-think${thinkMs}` : ''}${values.tag ? `-${values.tag}` : ''}`;
  let child: ChildProcess | undefined;
  let adminToken = values.token;
  if (values.url) {
    baseUrl = values.url.replace(/\/+$/, '');
  } else {
    modelDir = path.resolve(values.model ?? defaultModelDir());
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'rpa-e2e-'));
    adminToken = randomUUID().replace(/-/g, '');
    const env = benchServerEnv({ dataDir, databaseUrl, modelDir, adminToken });
    const t0 = performance.now();
    if (values['in-process']) {
      const config = loadConfig({ ...env, PORT: '0' });
      app = await startApp(config, { logger: createLogger(config.logLevel) });
      baseUrl = app.url;
      log(`inference: ${JSON.stringify(config.inference)}`);
    } else {
      ({ child, baseUrl } = await startTsxChild(path.join(ROOT, 'src/main.ts'), ROOT, env));
      log(`inference: ${JSON.stringify(loadConfig(env).inference)}`);
    }
    log(
      `server: ${child ? `child process ${child.pid}` : 'in-process'} on ${baseUrl}, ${databaseUrl ? 'PostgreSQL (temporary database)' : `embedded database in ${dataDir}`}, ` +
        `model ${path.relative(ROOT, modelDir)}, ready in ${Math.round(performance.now() - t0)} ms`,
    );
  }
  const auth: Record<string, string> = adminToken ? { authorization: `Bearer ${adminToken}` } : {};
  const receiver = new ConnectorReceiver();
  await receiver.start();

  const readiness = (await (await fetch(`${baseUrl}/readyz`)).json()) as { ready: boolean; checks: Record<string, unknown> };
  if (!readiness.ready) throw new Error(`server is not ready: ${JSON.stringify(readiness.checks)}`);

  const scrape = async (): Promise<{ batches: number; rows: number }> => {
    const res = await fetch(`${baseUrl}/metrics`, { headers: auth });
    if (!res.ok) return { batches: 0, rows: 0 };
    const text = await res.text();
    const get = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
    return { batches: get('rpa_inference_batch_size_count'), rows: get('rpa_inference_batch_size_sum') };
  };

  const results: LevelResult[] = [];
  let next = 0;
  for (const n of levels) {
    const prefix = `bench-${runId}-${n}-`;
    const latencies: number[] = [];
    let httpErrors = 0;
    const m0 = await scrape();
    const meter = child?.pid ? new ProcessMeter(child.pid) : new ResourceMeter();
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: n }, async (_, c) => {
        const conversationId = `${prefix}${c}`;
        if (thinkMs > 0) await sleep(rnd() * thinkMs);
        for (let t = 0; t < turnsPer; t++) {
          if (thinkMs > 0 && t > 0) await sleep(thinkMs * (0.5 + rnd()));
          const activity = benchMessage(receiver.serviceUrl, conversationId, { id: `user-${c}`, name: `User ${c}` }, texts[next++ % texts.length]);
          const ts = performance.now();
          try {
            const res = await fetch(`${baseUrl}/api/messages`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', ...auth },
              body: JSON.stringify(activity),
            });
            await res.arrayBuffer();
            if (res.status >= 300) httpErrors++;
            else latencies.push(performance.now() - ts);
          } catch {
            httpErrors++;
          }
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    const res = meter.stop();
    const m1 = await scrape();
    const sent = n * turnsPer;

    // traces of this level
    let server: Percentiles | null = null;
    const stages: Record<string, Percentiles> = {};
    const outcomes: Record<string, number> = {};
    let tracesSaved = 0;
    if (app || (child && databaseUrl)) {
      let rows: { total_ms: number; stages: Record<string, number>; outcome: string }[] = [];
      if (app) {
        await app.traceWriter.flush();
        rows = (await execute<(typeof rows)[number]>(app.db.dataSource, TRACE_SQL, [`${prefix}%`])).rows;
      } else {
        // The child's trace writer flushes on its own schedule: wait (up to 10 s) for every trace.
        const client = new pg.Client({ connectionString: databaseUrl });
        await client.connect();
        for (let waited = 0; ; waited += 250) {
          rows = (await client.query<(typeof rows)[number]>(TRACE_SQL, [`${prefix}%`])).rows;
          if (rows.length >= latencies.length || waited >= 10_000) break;
          await sleep(250);
        }
        await client.end();
      }
      tracesSaved = rows.length;
      server = pct(rows.map((r) => r.total_ms));
      const byStage: Record<string, number[]> = {};
      for (const r of rows) {
        outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
        for (const [k, v] of Object.entries(r.stages)) (byStage[k] ??= []).push(v);
      }
      for (const [k, v] of Object.entries(byStage)) stages[k] = pct(v);
    } else {
      // Let the server's trace writer flush, then read the window that covers this level.
      await new Promise((r) => setTimeout(r, 1500));
      const windowS = Math.ceil(seconds + 1.5);
      const sum = (await (await fetch(`${baseUrl}/api/traces/summary?window=${windowS}s`, { headers: auth })).json()) as {
        count: number;
        total: { p50: number; p95: number; p99: number } | null;
        stages: Record<string, Percentiles>;
      };
      tracesSaved = sum.count;
      server = sum.total ? { ...sum.total, count: sum.count } : null;
      Object.assign(stages, sum.stages);
    }
    const batches = m1.batches - m0.batches;
    const level: LevelResult = {
      conversations: n,
      turns: sent,
      seconds,
      turnsPerSecond: latencies.length / seconds,
      client: pct(latencies),
      server,
      stages,
      outcomes,
      tracesSaved,
      httpErrors,
      cpuPct: res.cpuPct,
      peakRssMb: res.peakRssMb,
      meanBatch: batches > 0 ? (m1.rows - m0.rows) / batches : null,
    };
    results.push(level);
    log(
      `${String(n).padStart(4)} conversations × ${turnsPer} turns: ${round(level.turnsPerSecond, 1)} turns/s, ` +
        `client p50 ${round(level.client.p50)} p99 ${round(level.client.p99)} ms, server p99 ${round(server?.p99 ?? NaN)} ms, ` +
        `traces ${tracesSaved}/${sent}, outcomes ${JSON.stringify(outcomes)}, batch ${level.meanBatch ? round(level.meanBatch, 1) : '–'}`,
    );
    // a pause so levels do not share a summary window (and the server drains)
    if (!app && !databaseUrl) await new Promise((r) => setTimeout(r, 1000));
  }

  await receiver.stop();
  await app?.close();
  if (child) await stopChild(child);
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  await dropDatabase?.();

  // files
  const stageNames = [...new Set(results.flatMap((r) => Object.keys(r.stages)))].sort();
  const header = [
    'conversations', 'turns', 'seconds', 'turns_per_s', 'client_p50', 'client_p95', 'client_p99', 'server_p50', 'server_p95', 'server_p99',
    ...stageNames.flatMap((s) => [`${s}_p50`, `${s}_p95`, `${s}_p99`]),
    'traces_saved', 'http_errors', 'cpu_pct', 'peak_rss_mb', 'mean_batch',
  ];
  const lines = results.map((r) =>
    [
      r.conversations, r.turns, round(r.seconds, 3), round(r.turnsPerSecond, 2), round(r.client.p50, 3), round(r.client.p95, 3), round(r.client.p99, 3),
      round(r.server?.p50 ?? NaN, 3), round(r.server?.p95 ?? NaN, 3), round(r.server?.p99 ?? NaN, 3),
      ...stageNames.flatMap((s) => [r.stages[s]?.p50, r.stages[s]?.p95, r.stages[s]?.p99].map((v) => (v === undefined ? '' : round(v, 3)))),
      r.tracesSaved, r.httpErrors, round(r.cpuPct, 1), round(r.peakRssMb, 1), r.meanBatch === null ? '' : round(r.meanBatch, 2),
    ].join(','),
  );
  writeFileSync(path.join(outDir, `e2e${suffix}.csv`), `${[header.join(','), ...lines].join('\n')}\n`);
  const stageRows = results.flatMap((r) => [
    { conversations: r.conversations, p99: r.client.p99, series: 'turn (client, HTTP round trip)' },
    ...(r.server ? [{ conversations: r.conversations, p99: r.server.p99, series: 'turn (server, trace total)' }] : []),
    ...Object.entries(r.stages).map(([s, p]) => ({ conversations: r.conversations, p99: p.p99, series: `stage ${s}` })),
  ]);
  await writeLineChart(path.join(outDir, `e2e${suffix}_p99_vs_conversations.svg`), {
    title: 'End-to-end p99 per turn and per stage vs concurrent conversations',
    rows: stageRows,
    x: 'conversations',
    y: 'p99',
    series: 'series',
    xTitle: 'concurrent conversations',
    yTitle: 'p99 (ms, log)',
    yLog: true,
    target: { value: TARGET_P99_MS, label: `${TARGET_P99_MS} ms target` },
  });
  await writeLineChart(path.join(outDir, `e2e${suffix}_throughput_vs_conversations.svg`), {
    title: 'Turn throughput vs concurrent conversations',
    rows: results.map((r) => ({ conversations: r.conversations, tps: r.turnsPerSecond, series: 'turns / s' })),
    x: 'conversations',
    y: 'tps',
    series: 'series',
    xTitle: 'concurrent conversations',
    yTitle: 'turns / s',
  });
  const at = results.find((r) => r.conversations === TARGET_CONVERSATIONS) ?? results[results.length - 1]!;
  const summary = {
    url: values.url ?? (child ? 'child process' : 'in-process'),
    model: modelDir ? path.relative(ROOT, modelDir) : null,
    turns_per_conversation: turnsPer,
    think_ms: thinkMs,
    at_conversations: at.conversations,
    turns_per_s: round(at.turnsPerSecond, 1),
    client_p99_ms: round(at.client.p99, 2),
    server_p99_ms: at.server ? round(at.server.p99, 2) : null,
    all_traces_saved: results.every((r) => r.tracesSaved === r.turns),
    target_p99_le_40ms: at.client.p99 <= TARGET_P99_MS,
    levels: results,
    database: values.url ? 'remote' : databaseUrl ? 'postgres' : 'embedded',
    files: [`e2e${suffix}.csv`, `e2e${suffix}_p99_vs_conversations.svg`, `e2e${suffix}_throughput_vs_conversations.svg`].map((f) => path.relative(ROOT, path.join(outDir, f))),
  };
  writeFileSync(path.join(outDir, `e2e${suffix}${quick ? '-quick' : ''}.json`), `${JSON.stringify(summary, null, 2)}\n`);
  log(`\n## Stages at ${at.conversations} conversations (ms, from the saved traces)`);
  log('| stage | p50 | p95 | p99 |');
  log('|---|---:|---:|---:|');
  log(`| turn, client (HTTP) | ${round(at.client.p50)} | ${round(at.client.p95)} | ${round(at.client.p99)} |`);
  if (at.server) log(`| turn, server (trace) | ${round(at.server.p50)} | ${round(at.server.p95)} | ${round(at.server.p99)} |`);
  for (const s of stageNames) {
    const p = at.stages[s];
    if (p) log(`| ${s} | ${round(p.p50)} | ${round(p.p95)} | ${round(p.p99)} |`);
  }
  log(`\nevery trace saved: ${summary.all_traces_saved}; files: ${summary.files.join(', ')}`);
  if (values.json) process.stdout.write(`${JSON.stringify({ ...summary, levels: undefined })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
