/**
 * `npm run bench:e2e -- --rate R --seconds S [--pg] [--json]` and `--sweep R1,R2,…`: open-loop
 * load (bench/lib/openLoop.ts) against the server in a child process and, in the same run and
 * at the same rates, against the SDK's minimal echo bot (bench/echoBot.ts): the floor a turn on
 * restify + CloudAdapter cannot go below. Per target and rate: offered and achieved rate,
 * latency percentiles from the scheduled send time, shed (503, admission control) and other
 * errors apart, the child's CPU time per answered turn and peak RSS (from /proc/<pid>), and for
 * the server on --pg its database transactions per turn and every turn's trace counted.
 *
 * Database round trips: pg_stat_statements is not preloaded on a stock server, so they are read
 * from pg_stat_database (xact_commit + xact_rollback of the bench database): one per autocommit
 * statement, one per explicit transaction (so a lower bound on statements). Backends flush these
 * counters up to 10 s late when idle, so each measured window starts and ends after a 10.5 s
 * settle, and the background rate (pg-boss polling, measured idle before the first level) times
 * the window is subtracted, as are this bench's own trace-count queries.
 */
import { BoxMeter, summariseSamples, type BoxStats, type BoxWindow } from './boxMeter.js';
import { describeTail, tailBreakdown, type TailBreakdown } from './tailBreakdown.js';
import { describeGc, gcWindow, readGcSnapshot, type GcWindow } from './gcWindow.js';
import { type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { ConnectorReceiver } from '../../src/chat/connectorReceiver.js';
import { writeLineChart } from './charts.js';
import { ProcessMeter, round } from './load.js';
import { describeMachine, machineAtEnd, machineAtStart } from './machine.js';
import { loadConversationMix, openLoop, type OpenLoopResult } from './openLoop.js';
import { benchServerEnv, createBenchDatabase, startTsxChild, stopChild } from './serverChild.js';

const SLO_P99_MS = 100;
/** PGSTAT_IDLE_INTERVAL (10 s) + margin: an idle backend's counters are in pg_stat_database by then. */
const STATS_SETTLE_MS = 10_500;

export interface OpenLoopBenchOptions {
  root: string;
  rates: number[];
  sweep: boolean;
  seconds: number;
  warmSeconds?: number;
  users?: number;
  pg: boolean;
  modelDir: string;
  /** Extra environment for the server child (e.g. ADMISSION_MAX_INFLIGHT=64). */
  serverEnv: Record<string, string>;
  /** Extra node options for the server child (e.g. `--cpu-prof`). */
  serverNodeArgs?: string[];
  /** Count the server's statements per text (bench/lib/pgStatementCounter.mjs), reported per turn. */
  countStatements?: boolean;
  /** Count the server's main-thread garbage collections and its young generation's size (bench/lib/gcStats.mjs). */
  gcStats?: boolean;
  floor: boolean;
  json: boolean;
  tag?: string;
  outDir: string;
  log: (s?: string) => void;
}

type TargetName = 'server' | 'echo floor';

interface Target {
  name: TargetName;
  child: ChildProcess;
  url: string;
  baseUrl: string;
  headers: Record<string, string>;
}

export interface LevelRow extends OpenLoopResult {
  target: TargetName;
  rate: number;
  server_cpu_ms_per_turn: number;
  server_cpu_pct: number;
  rss_mb: number;
  db_round_trips_per_turn: number | null;
  traces_saved: number | null;
  /** Activities the bot sent back to the channel for these turns (the echo bot: one per turn). */
  replies: number;
  /** false where traces were counted from a time window of /api/traces/summary (embedded database). */
  traces_exact: boolean | null;
  /** With --count-statements: each statement's calls and bytes (sent + received) per answered turn. */
  statements_per_turn?: StatementRate[];
  /** PostgreSQL runs: where the slowest turns spent their time, from the server's traces. */
  tail?: TailBreakdown;
  /** With --gc-stats: the server's main-thread garbage collections in the measured window. */
  gc?: GcWindow;
  /** The whole box in the window: busy share, CPU pressure, the generator's and PostgreSQL's CPU per turn. */
  box: BoxWindow;
  /** The box in the second of the tail's densest bunch (PostgreSQL runs with a tail). */
  tail_bunch_box?: BoxStats;
}

interface StatementCount {
  calls: number;
  paramBytes: number;
  resultBytes: number;
  rows: number;
}

interface StatementRate {
  statement: string;
  calls_per_turn: number;
  bytes_per_turn: number;
}

/** Asks the server child's statement counter for a snapshot (SIGUSR2) and reads it. */
async function statementSnapshot(child: ChildProcess, base: string): Promise<Record<string, StatementCount>> {
  statementSnapshots.set(base, (statementSnapshots.get(base) ?? 0) + 1);
  const file = `${base}.${statementSnapshots.get(base)}.json`;
  child.kill('SIGUSR2');
  for (let waited = 0; waited < 5_000; waited += 50) {
    if (existsSync(file)) {
      try {
        return JSON.parse(readFileSync(file, 'utf8')) as Record<string, StatementCount>;
      } catch {
        // still being written
      }
    }
    await sleep(50);
  }
  throw new Error(`no statement snapshot from the server child (${file})`);
}
const statementSnapshots = new Map<string, number>();

function statementsPerTurn(before: Record<string, StatementCount>, after: Record<string, StatementCount>, turns: number): StatementRate[] {
  const n = Math.max(1, turns);
  return Object.entries(after)
    .map(([statement, a]) => {
      const b = before[statement] ?? { calls: 0, paramBytes: 0, resultBytes: 0, rows: 0 };
      return { statement, calls_per_turn: (a.calls - b.calls) / n, bytes_per_turn: (a.paramBytes + a.resultBytes - b.paramBytes - b.resultBytes) / n };
    })
    .filter((s) => s.calls_per_turn > 0)
    .sort((x, y) => y.calls_per_turn - x.calls_per_turn);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runOpenLoopBench(o: OpenLoopBenchOptions): Promise<void> {
  const { log } = o;
  const machine = machineAtStart();
  const runId = randomUUID().slice(0, 8);
  const warmSeconds = o.warmSeconds ?? Math.min(5, Math.max(1, o.seconds / 6));
  mkdirSync(o.outDir, { recursive: true });
  const utterances = loadConversationMix(o.root);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'rpa-e2e-open-'));
  const database = o.pg ? await createBenchDatabase(`rpa_bench_open_${runId}`) : undefined;
  const adminToken = randomUUID().replace(/-/g, '');
  const receiver = new ConnectorReceiver();
  await receiver.start();
  const targets: Target[] = [];
  let benchDb: pg.Client | undefined;
  let ownQueries = 0;

  try {
    const env = { ...benchServerEnv({ dataDir, databaseUrl: database?.url, modelDir: o.modelDir, adminToken }), ...o.serverEnv };
    const nodeArgs = [...(o.serverNodeArgs ?? [])];
    const countsBase = o.countStatements ? path.join(dataDir, 'pg-statements') : undefined;
    if (countsBase) {
      env.PG_STATEMENT_COUNTS = countsBase;
      nodeArgs.push('--import', path.join(o.root, 'bench/lib/pgStatementCounter.mjs'));
    }
    const gcFile = o.gcStats ? path.join(dataDir, 'gc-stats.json') : undefined;
    if (gcFile) {
      env.GC_STATS_FILE = gcFile;
      nodeArgs.push('--import', path.join(o.root, 'bench/lib/gcStats.mjs'));
    }
    const t0 = performance.now();
    const server = await startTsxChild(path.join(o.root, 'src/main.ts'), o.root, env, nodeArgs);
    targets.push({ name: 'server', ...server, url: `${server.baseUrl}/api/messages`, headers: { authorization: `Bearer ${adminToken}` } });
    log(
      `server: child ${server.child.pid} on ${server.baseUrl}, ${database ? 'PostgreSQL (temporary database)' : 'embedded database'}, ` +
        `model ${path.relative(o.root, o.modelDir)}, ready in ${Math.round(performance.now() - t0)} ms` +
        (Object.keys(o.serverEnv).length ? `, env ${Object.entries(o.serverEnv).map(([k, v]) => `${k}=${v}`).join(' ')}` : ''),
    );
    if (o.floor) {
      // No Authorization header: with no app id the SDK would try to validate one.
      const echo = await startTsxChild(path.join(o.root, 'bench/echoBot.ts'), o.root, { ...(process.env as Record<string, string>) });
      targets.push({ name: 'echo floor', ...echo, url: `${echo.baseUrl}/api/messages`, headers: {} });
      log(`floor: SDK echo bot (bench/echoBot.ts), child ${echo.child.pid} on ${echo.baseUrl}`);
    }
    log(`machine: ${describeMachine(machine)}`);
    log(`traffic: ${utterances.length} training utterances (${utterances.filter((u) => u.write).length} write requests, each followed by "yes"), Poisson arrivals`);

    const xacts = async (): Promise<number> => {
      const r = await database!.admin.query<{ n: string }>(
        'SELECT pg_stat_clear_snapshot(), xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = $1',
        [database!.name],
      );
      return Number(r.rows[0]?.n ?? NaN);
    };
    let backgroundPerS = 0;
    if (database) {
      benchDb = new pg.Client({ connectionString: database.url });
      await benchDb.connect();
      await openLoop({ url: targets[0]!.url, serviceUrl: receiver.serviceUrl, headers: targets[0]!.headers, rate: o.rates[0]!, seconds: warmSeconds, utterances, prefix: `warm-${runId}-` });
      await sleep(STATS_SETTLE_MS);
      const b0 = await xacts();
      const tb0 = performance.now();
      await sleep(STATS_SETTLE_MS);
      backgroundPerS = ((await xacts()) - b0) / ((performance.now() - tb0) / 1000);
      log(`database background (idle server): ${round(backgroundPerS, 2)} transactions/s, subtracted from each window`);
    }

    const countTraces = async (prefix: string, expected: number, windowS: number): Promise<{ n: number; exact: boolean }> => {
      if (benchDb) {
        for (let waited = 0; ; waited += 250) {
          ownQueries++;
          const n = Number((await benchDb.query<{ n: string }>('SELECT count(*) AS n FROM turn_traces WHERE conversation_id LIKE $1', [`${prefix}%`])).rows[0]!.n);
          if (n >= expected || waited >= 10_000) return { n, exact: true };
          await sleep(250);
        }
      }
      await sleep(1500);
      const res = await fetch(`${targets[0]!.baseUrl}/api/traces/summary?window=${Math.ceil(windowS)}s`, { headers: targets[0]!.headers });
      return { n: res.ok ? ((await res.json()) as { count: number }).count : NaN, exact: false };
    };

    const rows: LevelRow[] = [];
    for (const rate of o.rates) {
      for (const t of targets) {
        // Warm-up and measured turns get prefixes neither of which starts the other (traces and replies are counted by prefix).
        const level = `open-${runId}-${t.name === 'server' ? 's' : 'e'}-${rate}-`;
        const prefix = `${level}m-`;
        const common = { url: t.url, serviceUrl: receiver.serviceUrl, headers: t.headers, rate, utterances, users: o.users };
        await openLoop({ ...common, seconds: warmSeconds, prefix: `${level}w-`, seed: rate + 1 });
        const measureDb = database && t.name === 'server';
        if (measureDb) await sleep(STATS_SETTLE_MS);
        const x0 = measureDb ? await xacts() : 0;
        const tx0 = performance.now();
        const own0 = ownQueries;
        const counted = countsBase && t.name === 'server' ? await statementSnapshot(t.child, countsBase) : undefined;
        const gc0 = gcFile && t.name === 'server' ? await readGcSnapshot(gcFile) : undefined;
        const meter = new ProcessMeter(t.child.pid!);
        const boxMeter = new BoxMeter();
        const r = await openLoop({ ...common, seconds: o.seconds, prefix, seed: rate });
        // The turn's deferred work (trace writes) belongs to its cost: a second to drain, for both targets.
        await sleep(1000);
        const usage = meter.stop();
        const box = boxMeter.stop(r.turns);
        const gc = gc0 ? gcWindow(gc0, await readGcSnapshot(gcFile!), r.turns) : undefined;
        const statements = counted ? statementsPerTurn(counted, await statementSnapshot(t.child, countsBase!), r.turns) : undefined;
        if (statements) {
          log(`statements per turn (pg driver, ${r.turns} turns):`);
          for (const s of statements) log(`  ${String(round(s.calls_per_turn, 3)).padStart(6)}  ${String(Math.round(s.bytes_per_turn)).padStart(6)} B  ${s.statement}`);
        }
        const replies = receiver.received.filter((a) => a.conversationId.startsWith(prefix)).length;
        receiver.received.length = 0;
        const traces = t.name === 'server' ? await countTraces(prefix, r.turns, r.seconds + 1) : undefined;
        const tail = benchDb && t.name === 'server' ? ((ownQueries++, await tailBreakdown(benchDb, prefix)) ?? undefined) : undefined;
        let dbPerTurn: number | null = null;
        if (measureDb) {
          const left = STATS_SETTLE_MS - (performance.now() - tx0 - r.seconds * 1000);
          await sleep(Math.max(left, STATS_SETTLE_MS - 1000));
          const x1 = await xacts();
          const windowS = (performance.now() - tx0) / 1000;
          dbPerTurn = (x1 - x0 - (ownQueries - own0) - backgroundPerS * windowS) / Math.max(1, r.turns);
        }
        const row: LevelRow = {
          ...r,
          target: t.name,
          rate,
          server_cpu_ms_per_turn: usage.cpuMs / Math.max(1, r.turns),
          server_cpu_pct: usage.cpuPct,
          rss_mb: usage.peakRssMb,
          db_round_trips_per_turn: dbPerTurn,
          replies,
          ...(statements ? { statements_per_turn: statements } : {}),
          traces_saved: traces?.n ?? null,
          traces_exact: traces?.exact ?? null,
          ...(tail ? { tail } : {}),
          ...(gc ? { gc } : {}),
          box,
          ...(tail ? { tail_bunch_box: summariseSamples(boxMeter.samples, tail.tail_bunch_start_ms - 100, tail.tail_bunch_start_ms + 1100) } : {}),
        };
        rows.push(row);
        log(
          `${t.name.padEnd(10)} offered ${round(r.offered_rate, 1)}/s achieved ${round(r.achieved_rate, 1)}/s: ` +
            `p50 ${round(r.p50_ms, 1)} p95 ${round(r.p95_ms, 1)} p99 ${round(r.p99_ms, 1)} max ${round(r.max_ms, 1)} ms, ` +
            `${r.turns} turns (${replies} replies), ${r.shed} shed, ${r.errors} errors, cpu ${round(row.server_cpu_ms_per_turn, 2)} ms/turn, rss ${Math.round(row.rss_mb)} MiB` +
            (dbPerTurn !== null ? `, ${round(dbPerTurn, 2)} db transactions/turn` : '') +
            (traces ? `, traces ${traces.n}/${r.turns}${traces.exact ? '' : ' (time window, approximate)'}` : '') +
            `, generator lag p99 ${round(r.generator_lag_p99_ms, 1)} ms`,
        );
        log(describeBox(row));
        if (tail) for (const line of describeTail(tail)) log(line);
        if (gc) log(describeGc(gc));
      }
    }

    const end = machineAtEnd(machine);
    await report(o, rows, end, runId);
  } finally {
    await receiver.stop();
    for (const t of targets) await stopChild(t.child);
    await benchDb?.end().catch(() => undefined);
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function describeBox(row: LevelRow): string {
  const b = row.box;
  const pressure = (s: BoxStats) => (s.cpu_pressure_ms_per_s === null ? '' : `, CPU pressure ${s.cpu_pressure_ms_per_s} ms/s`);
  return (
    `  box: ${b.box_cpu_busy_pct}% busy${pressure(b)}, saturated ${Math.round(b.saturated_share * 100)}% of 50 ms samples; ` +
    `CPU per turn: generator ${b.generator_cpu_ms_per_turn} ms` +
    (b.postgres_cpu_ms_per_turn !== null ? `, PostgreSQL ${b.postgres_cpu_ms_per_turn} ms` : '') +
    (row.tail_bunch_box ? `; in the tail's densest second: ${row.tail_bunch_box.box_cpu_busy_pct}% busy${pressure(row.tail_bunch_box)}, saturated ${Math.round(row.tail_bunch_box.saturated_share * 100)}%` : '')
  );
}

const passes = (r: LevelRow) => r.p99_ms <= SLO_P99_MS && r.errors === 0 && r.shed === 0 && r.achieved_rate >= 0.95 * r.offered_rate;

async function report(o: OpenLoopBenchOptions, rows: LevelRow[], machine: ReturnType<typeof machineAtEnd>, runId: string): Promise<void> {
  const { log } = o;
  const server = rows.filter((r) => r.target === 'server');
  const floor = rows.filter((r) => r.target === 'echo floor');
  const floorAt = (rate: number) => floor.find((f) => f.rate === rate);
  const withFloor = (r: LevelRow) => {
    const f = floorAt(r.rate);
    return {
      floor_cpu_ms_per_turn: f ? round(f.server_cpu_ms_per_turn, 3) : null,
      cpu_vs_floor: f ? round(r.server_cpu_ms_per_turn / f.server_cpu_ms_per_turn, 2) : null,
      floor_p99_ms: f ? round(f.p99_ms, 2) : null,
    };
  };
  const flat = (r: LevelRow) => ({
    offered_rate: round(r.offered_rate, 2),
    achieved_rate: round(r.achieved_rate, 2),
    p50_ms: round(r.p50_ms, 2),
    p95_ms: round(r.p95_ms, 2),
    p99_ms: round(r.p99_ms, 2),
    max_ms: round(r.max_ms, 2),
    server_cpu_ms_per_turn: round(r.server_cpu_ms_per_turn, 3),
    db_round_trips_per_turn: r.db_round_trips_per_turn === null ? null : round(r.db_round_trips_per_turn, 2),
    traces_saved: r.traces_saved,
    turns: r.turns,
    offered: r.offered,
    shed: r.shed,
    errors: r.errors,
    writes: r.writes,
    confirmations: r.confirmations,
    replies: r.replies,
    rss_mb: round(r.rss_mb, 1),
    server_cpu_pct: round(r.server_cpu_pct, 1),
    generator_lag_p99_ms: round(r.generator_lag_p99_ms, 2),
    traces_exact: r.traces_exact,
    statuses: r.statuses,
    ...withFloor(r),
    ...(r.tail ? { tail: r.tail } : {}),
    ...(r.gc ? { gc: r.gc } : {}),
    box: r.box,
    ...(r.tail_bunch_box ? { tail_bunch_box: r.tail_bunch_box } : {}),
  });
  const suffix = `${o.pg ? '-pg' : ''}${o.tag ? `-${o.tag}` : ''}`;
  const meta = {
    machine,
    run_id: runId,
    database: o.pg ? 'postgres' : 'embedded',
    seconds_per_level: o.seconds,
    db_round_trips_source: o.pg ? 'pg_stat_database xact_commit+xact_rollback delta, background and own queries subtracted (transactions: a lower bound on statements)' : null,
    latency_from: 'scheduled send time (open loop, no coordinated omission)',
    server_env: o.serverEnv,
  };

  log('\n## Quote in docs/performance.md');
  log(`run: ${describeMachine(machine)}`);
  for (const r of server) {
    const f = withFloor(r);
    log(
      `open loop ${round(r.offered_rate, 1)} turns/s offered (${o.pg ? 'PostgreSQL' : 'embedded'}, ${o.seconds} s): achieved ${round(r.achieved_rate, 1)}/s, ` +
        `p50 ${round(r.p50_ms, 1)} / p95 ${round(r.p95_ms, 1)} / p99 ${round(r.p99_ms, 1)} / max ${round(r.max_ms, 1)} ms, ${r.errors} errors, ${r.shed} shed, ` +
        `traces ${r.traces_saved ?? '–'}/${r.turns}; server CPU ${round(r.server_cpu_ms_per_turn, 2)} ms/turn` +
        (f.floor_cpu_ms_per_turn !== null ? ` = ${f.cpu_vs_floor}× the echo-bot floor (${f.floor_cpu_ms_per_turn} ms/turn, p99 ${f.floor_p99_ms} ms)` : '') +
        (r.db_round_trips_per_turn !== null ? `; ${round(r.db_round_trips_per_turn, 2)} database transactions/turn` : '') +
        `; peak RSS ${Math.round(r.rss_mb)} MiB`,
    );
  }

  if (!o.sweep) {
    const r = server[0]!;
    const file = path.join(o.outDir, `e2e-open${suffix}-r${o.rates[0]}.json`);
    const out = { ...flat(r), ...meta, floor: floorAt(r.rate) ? flat(floorAt(r.rate)!) : null };
    writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
    log(`file: ${path.relative(o.root, file)}`);
    if (o.json) process.stdout.write(`${JSON.stringify(out)}\n`);
    return;
  }

  // Sweep: the max sustainable rate is the highest offered rate at which this and every lower rate met the SLO.
  let maxSustainable: number | null = null;
  for (const r of [...server].sort((a, b) => a.rate - b.rate)) {
    if (!passes(r)) break;
    maxSustainable = r.rate;
  }
  let maxFloor: number | null = null;
  for (const r of [...floor].sort((a, b) => a.rate - b.rate)) {
    if (!passes(r)) break;
    maxFloor = r.rate;
  }
  const base = path.join(o.outDir, `e2e-open${suffix}-sweep`);
  const cols = ['target', 'rate', 'offered_rate', 'achieved_rate', 'p50_ms', 'p95_ms', 'p99_ms', 'max_ms', 'turns', 'shed', 'errors', 'server_cpu_ms_per_turn', 'rss_mb', 'db_round_trips_per_turn', 'traces_saved', 'generator_lag_p99_ms'] as const;
  writeFileSync(
    `${base}.csv`,
    `${cols.join(',')}\n${rows.map((r) => cols.map((c) => (typeof r[c] === 'number' ? round(r[c], 3) : (r[c] ?? ''))).join(',')).join('\n')}\n`,
  );
  const summary = {
    max_sustainable_rate: maxSustainable,
    max_sustainable_rate_floor: maxFloor,
    slo: `p99 <= ${SLO_P99_MS} ms, 0 errors, 0 shed, achieved >= 95% of offered`,
    ...meta,
    levels: server.map(flat),
    floor_levels: floor.map(flat),
  };
  writeFileSync(`${base}.json`, `${JSON.stringify(summary, null, 2)}\n`);
  const pts = rows.flatMap((r) => [
    { rate: r.offered_rate, ms: r.p99_ms, series: `${r.target} p99` },
    { rate: r.offered_rate, ms: r.p50_ms, series: `${r.target} p50` },
  ]);
  const charts = [`${base}_latency_vs_rate.svg`, `${base}_achieved_vs_rate.svg`];
  await writeLineChart(charts[0]!, {
    title: `Open loop: turn latency vs offered rate (${o.pg ? 'PostgreSQL' : 'embedded'}) — max sustainable ${maxSustainable ?? 'none'} turns/s`,
    rows: pts,
    x: 'rate',
    y: 'ms',
    series: 'series',
    xTitle: 'offered turns / s (Poisson)',
    yTitle: 'latency from scheduled send (ms, log)',
    yLog: true,
    target: { value: SLO_P99_MS, label: `p99 ${SLO_P99_MS} ms SLO` },
  });
  await writeLineChart(charts[1]!, {
    title: 'Open loop: achieved vs offered rate',
    rows: rows.map((r) => ({ rate: r.offered_rate, achieved: r.achieved_rate, series: r.target })),
    x: 'rate',
    y: 'achieved',
    series: 'series',
    xTitle: 'offered turns / s',
    yTitle: 'answered turns / s',
  });
  log(`\nmax sustainable rate (p99 ≤ ${SLO_P99_MS} ms, no errors/shed): server ${maxSustainable ?? 'none of the rates'} turns/s; echo floor ${maxFloor ?? '–'} turns/s`);
  log(`files: ${[`${base}.csv`, `${base}.json`, ...charts].map((f) => path.relative(o.root, f)).join(', ')}`);
  if (o.json) process.stdout.write(`${JSON.stringify({ ...summary.levels[summary.levels.length - 1], max_sustainable_rate: maxSustainable, max_sustainable_rate_floor: maxFloor, levels: summary.levels, floor_levels: summary.floor_levels, machine })}\n`);
}
