/**
 * bench:e2e through HAProxy with 1, 2, 3 … web replicas (the local cluster, `npm run cluster`), and
 * the same bench against one replica directly, in interleaved order: what the extra hop and the
 * extra processes cost on this machine.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/rpa_bench_cluster npm run bench:cluster
 *     [-- --replicas 1,2,3 --rounds 2 --conversations 64 --turns 10]
 *
 * For each replica count: start `deploy/cluster.ts` (N × ROLE=web, 1 × ROLE=worker, HAProxy), warm
 * every replica up, measure the idle cost (CPU of the cluster, transactions of the database), then
 * `rounds` × {front, direct} (order alternating per round) runs of `bench/e2e.ts --url …` (the
 * same closed-loop bench as `npm run bench:e2e -- --url`). Around each run it reads:
 * - CPU (user + system) from /proc of every process of the cluster (replicas, worker, HAProxy) and
 *   of every PostgreSQL backend connected to the database, and the load generator's own CPU;
 * - `pg_stat_database` of the database (commits, rows written, blocks) and `pg_current_wal_lsn()`
 *   (WAL is server-wide: on a shared server it includes other databases' writes);
 * the idle cost for the same wall time is subtracted, the rest divided by the turns answered.
 * Writes bench/results/cluster[-TAG].csv, .json and _turns_per_s.svg; where the server preloads
 * pg_stat_statements, also statements (round trips) and their WAL bytes per turn, and the top
 * statements per turn.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { writeLineChart } from './lib/charts.js';
import { round } from './lib/load.js';
import { describeMachine, machineAtEnd, machineAtStart } from './lib/machine.js';
import { ROOMY_LIMITS } from '../test/helpers/roomyLimits.js';
import { freePort } from './lib/serverChild.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TICK_MS = 10; // USER_HZ = 100 on Linux
/** PostgreSQL 15 backends flush their statistics at most once a second, idle ones within 10 s. */
const STATS_SETTLE_MS = 11_000;

const { values } = parseArgs({
  options: {
    replicas: { type: 'string', default: '1,2,3' },
    rounds: { type: 'string', default: '2' },
    conversations: { type: 'string', default: '64' },
    turns: { type: 'string', default: '10' },
    'idle-seconds': { type: 'string', default: '15' },
    out: { type: 'string', default: path.join(ROOT, 'bench/results') },
    /** Names a variant: bench/results/cluster-TAG.* (e.g. a private server with pg_stat_statements). */
    tag: { type: 'string' },
  },
});

const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  process.stderr.write('bench:cluster: DATABASE_URL is required (a scratch database on a PostgreSQL server)\n');
  process.exit(2);
}
const database = new URL(databaseUrl).pathname.slice(1);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (s: string) => process.stdout.write(`${s}\n`);

// ---------------------------------------------------------------------------- /proc accounting

/** utime + stime (+ cutime + cstime: reaped children) of a pid, in ms; undefined once it is gone. */
function procCpuMs(pid: number, withChildren = false): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
    // fields after the name start at field 3: utime=14, stime=15, cutime=16, cstime=17
    return (f[11]! + f[12]! + (withChildren ? f[13]! + f[14]! : 0)) * TICK_MS;
  } catch {
    return undefined;
  }
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** Every live descendant of `root` (the cluster's replicas, worker and HAProxy). */
function descendants(root: number): number[] {
  const pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);
  const out = new Set<number>([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of pids) {
      if (out.has(p)) continue;
      const pp = parentOf(p);
      if (pp !== undefined && out.has(pp)) {
        out.add(p);
        grew = true;
      }
    }
  }
  return [...out];
}

type CpuKind = 'haproxy' | 'postgres' | 'node';

function kindOf(pid: number): CpuKind {
  try {
    const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    return comm === 'haproxy' ? 'haproxy' : comm.startsWith('postgres') ? 'postgres' : 'node';
  } catch {
    return 'node';
  }
}

interface Statement {
  query: string;
  calls: number;
  rows: number;
  walBytes: number;
}

interface Snapshot {
  at: number;
  cpu: Map<number, number>;
  /** pid → which part it is: HAProxy, a PostgreSQL backend, or a node process (replicas, worker). */
  kinds: Map<number, CpuKind>;
  stats: Record<string, number>;
  walLsn: string;
  /** pg_stat_statements of this database by queryid, where the server preloads it (not on the shared dev server). */
  statements?: Map<string, Statement>;
}

/** pg_stat_statements needs shared_preload_libraries (a server restart): used when there, skipped otherwise. */
let statementsAvailable: boolean | undefined;

async function readStatements(admin: pg.Client): Promise<Map<string, Statement> | undefined> {
  if (statementsAvailable === undefined) {
    statementsAvailable = await admin
      .query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements')
      .then(() => admin.query('SELECT 1 FROM pg_stat_statements LIMIT 1'))
      .then(
        () => true,
        () => false,
      );
    if (!statementsAvailable) log('pg_stat_statements is not loaded on this server: statements per turn are not measured');
  }
  if (!statementsAvailable) return undefined;
  const { rows } = await admin.query<{ queryid: string; query: string; calls: string; rows: string; wal_bytes: string }>(
    'SELECT queryid::text, query, calls, rows, wal_bytes FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = $1)',
    [database],
  );
  return new Map(rows.map((r) => [r.queryid, { query: r.query, calls: Number(r.calls), rows: Number(r.rows), walBytes: Number(r.wal_bytes) }]));
}

/** Per-statement differences b − a (statements this bench's own stats queries issue are left out). */
function statementsBetween(a: Snapshot, b: Snapshot): Statement[] {
  if (!a.statements || !b.statements) return [];
  const out: Statement[] = [];
  for (const [id, s] of b.statements) {
    if (/pg_stat_|pg_current_wal_lsn|pg_wal_lsn_diff/.test(s.query)) continue;
    const before = a.statements.get(id);
    const d = { query: s.query, calls: s.calls - (before?.calls ?? 0), rows: s.rows - (before?.rows ?? 0), walBytes: s.walBytes - (before?.walBytes ?? 0) };
    if (d.calls > 0) out.push(d);
  }
  return out;
}

const STAT_COLUMNS = ['xact_commit', 'xact_rollback', 'tup_inserted', 'tup_updated', 'tup_deleted', 'tup_returned', 'tup_fetched', 'blks_read', 'blks_hit'] as const;

async function snapshot(admin: pg.Client, clusterPid: number): Promise<Snapshot> {
  const backends = (
    await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [database])
  ).rows.map((r) => r.pid);
  const cpu = new Map<number, number>();
  const kinds = new Map<number, CpuKind>();
  for (const pid of [...descendants(clusterPid), ...backends]) {
    const ms = procCpuMs(pid);
    if (ms !== undefined) {
      cpu.set(pid, ms);
      kinds.set(pid, backends.includes(pid) ? 'postgres' : kindOf(pid));
    }
  }
  const stats = (await admin.query<Record<string, string>>(`SELECT ${STAT_COLUMNS.join(', ')} FROM pg_stat_database WHERE datname = $1`, [database])).rows[0]!;
  const wal = (await admin.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn;
  const statements = await readStatements(admin);
  return { at: performance.now(), cpu, kinds, stats: Object.fromEntries(STAT_COLUMNS.map((c) => [c, Number(stats[c])])), walLsn: wal, statements };
}

/** CPU ms used between two snapshots by the processes seen in either (a pid new in `b` counts from 0). */
function cpuBetween(a: Snapshot, b: Snapshot): number {
  let sum = 0;
  for (const [pid, ms] of b.cpu) sum += ms - (a.cpu.get(pid) ?? 0);
  return sum;
}

/** The same, per part (idle cost not subtracted). */
function cpuByKind(a: Snapshot, b: Snapshot): Record<CpuKind, number> {
  const out: Record<CpuKind, number> = { haproxy: 0, postgres: 0, node: 0 };
  for (const [pid, ms] of b.cpu) out[b.kinds.get(pid) ?? 'node'] += ms - (a.cpu.get(pid) ?? 0);
  return out;
}

async function walBytes(admin: pg.Client, a: Snapshot, b: Snapshot): Promise<number> {
  return Number((await admin.query<{ d: string }>('SELECT pg_wal_lsn_diff($1, $2)::text AS d', [b.walLsn, a.walLsn])).rows[0]!.d);
}

interface Delta {
  seconds: number;
  cpuMs: number;
  cpuByKind: Record<CpuKind, number>;
  walBytes: number;
  stats: Record<string, number>;
}

async function delta(admin: pg.Client, a: Snapshot, b: Snapshot): Promise<Delta> {
  return {
    seconds: (b.at - a.at) / 1000,
    cpuMs: cpuBetween(a, b),
    cpuByKind: cpuByKind(a, b),
    walBytes: await walBytes(admin, a, b),
    stats: Object.fromEntries(STAT_COLUMNS.map((c) => [c, b.stats[c]! - a.stats[c]!])),
  };
}

// ---------------------------------------------------------------------------- the cluster

interface Cluster {
  child: ChildProcess;
  front: string;
  ports: number[];
  stop(): Promise<void>;
}

async function startCluster(replicas: number, env: Record<string, string>): Promise<Cluster> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'deploy/cluster.ts', '--replicas', String(replicas), '--port', String(port)], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => {
    out += c.toString();
    if (out.length > 100_000) out = out.slice(-10_000);
  });
  for (let i = 0; i < 600 && !/FRONT (\S+)/.test(out); i++) {
    if (child.exitCode !== null) throw new Error(`cluster exited (${child.exitCode}): ${out}`);
    await sleep(500);
  }
  const front = /FRONT (\S+)/.exec(out)?.[1];
  const ports = /on ports ([\d, ]+) \+/.exec(out)?.[1]?.split(',').map((p) => Number(p.trim()));
  if (!front || !ports) throw new Error(`cluster did not come up: ${out}`);
  // Every replica ready, then one more HAProxy check interval so all are in rotation.
  for (let i = 0; i < 600; i++) {
    const ready = await Promise.all(ports.map((p) => fetch(`http://127.0.0.1:${p}/readyz`).then((r) => r.ok, () => false)));
    if (ready.every(Boolean)) break;
    await sleep(250);
  }
  await sleep(2_500);
  return {
    child,
    front,
    ports,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT');
      await Promise.race([exited, sleep(30_000)]);
    },
  };
}

interface E2eLevel {
  turns: number;
  seconds: number;
  turnsPerSecond: number;
  client: { p50: number; p95: number; p99: number; count: number };
  server: { p50: number; p95: number; p99: number } | null;
  tracesSaved: number;
  httpErrors: number;
}

/** One `bench/e2e.ts --url` run (a child process, as `npm run bench:e2e` runs it); its level and its own CPU. */
async function runE2e(url: string, token: string, conversations: number, turns: number, outDir: string, tag: string): Promise<{ level: E2eLevel; generatorCpuMs: number }> {
  const cpu0 = procCpuMs(process.pid, true)! - procCpuMs(process.pid)!;
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'bench/e2e.ts', '--url', url, '--token', token, '--conversations', String(conversations), '--turns', String(turns), '--out', outDir, '--tag', tag, '--json'],
    { cwd: ROOT, env: process.env, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  if (code !== 0) throw new Error(`bench/e2e.ts --url ${url} exited with ${code}`);
  const generatorCpuMs = procCpuMs(process.pid, true)! - procCpuMs(process.pid)! - cpu0;
  const summary = JSON.parse(readFileSync(path.join(outDir, `e2e-${tag}.json`), 'utf8')) as { levels: E2eLevel[] };
  return { level: summary.levels[0]!, generatorCpuMs };
}

// ---------------------------------------------------------------------------- main

interface Row {
  replicas: number;
  target: 'front' | 'direct';
  round: number;
  conversations: number;
  turns: number;
  turns_per_s: number;
  client_p50_ms: number;
  client_p99_ms: number;
  server_p50_ms: number | null;
  server_p99_ms: number | null;
  http_errors: number;
  traces_saved: number;
  /** CPU of the cluster's processes + the database's backends, idle cost subtracted, per turn. */
  server_cpu_ms_per_turn: number;
  /** Of which (idle not subtracted): HAProxy, PostgreSQL backends, node (web replicas + worker + the cluster launcher). */
  haproxy_cpu_ms_per_turn: number;
  postgres_cpu_ms_per_turn: number;
  node_cpu_ms_per_turn: number;
  generator_cpu_ms_per_turn: number;
  xacts_per_turn: number;
  rows_written_per_turn: number;
  blks_hit_per_turn: number;
  wal_bytes_per_turn_server_wide: number;
  /** pg_stat_statements (where loaded): statements executed and the WAL they wrote, per turn (idle cost not subtracted). */
  statements_per_turn: number | null;
  statement_wal_bytes_per_turn: number | null;
  loadavg_1m: number;
}

async function main(): Promise<void> {
  const replicaCounts = values.replicas.split(',').map(Number);
  const rounds = Number(values.rounds);
  const conversations = Number(values.conversations);
  const turns = Number(values.turns);
  const machine = machineAtStart();
  const token = randomUUID().replace(/-/g, '');
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'rpa-bench-cluster-'));
  const env = {
    DATABASE_URL: databaseUrl!,
    ADMIN_TOKEN: token,
    SEED_DEMO_DATA: 'true',
    MODEL_DIR: path.join(ROOT, 'models/intent-gpt2'),
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    SIMULATOR_DELAY_MS: process.env.SIMULATOR_DELAY_MS ?? '600000',
    // The same roomy overload limits as the tests (test/helpers/testApp.ts): on a contended box the
    // adaptive admission would shed turns, and this bench measures what a turn costs, not shedding.
    ...ROOMY_LIMITS,
  };
  const admin = new pg.Client({ connectionString: databaseUrl, application_name: 'bench:cluster stats' });
  await admin.connect();
  const rows: Row[] = [];
  const idle: Record<number, { cpuMsPerS: number; xactsPerS: number; statementsPerS: number | null; connections: number }> = {};
  /** Statements of all measured runs, per replica count (for the top-statements table). */
  const statementTotals = new Map<number, { turns: number; byQuery: Map<string, Statement> }>();
  log(`bench:cluster on ${describeMachine(machine)}; database ${database}; ${conversations} conversations × ${turns} turns per run`);
  try {
    for (const n of replicaCounts) {
      const cluster = await startCluster(n, env);
      try {
        // Warm-up: every replica's JIT and pools, through the front (round robin reaches all).
        await runE2e(cluster.front, token, 16, 3 * n, tmp, 'warm');
        await sleep(STATS_SETTLE_MS);
        const i0 = await snapshot(admin, cluster.child.pid!);
        await sleep(Number(values['idle-seconds']) * 1000);
        const i1 = await snapshot(admin, cluster.child.pid!);
        const idleDelta = await delta(admin, i0, i1);
        const connections = (await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [database])).rows[0]!.n;
        const idleStatements = i0.statements ? statementsBetween(i0, i1).reduce((sum, st) => sum + st.calls, 0) / idleDelta.seconds : null;
        idle[n] = { cpuMsPerS: idleDelta.cpuMs / idleDelta.seconds, xactsPerS: idleDelta.stats.xact_commit! / idleDelta.seconds, statementsPerS: idleStatements, connections };
        log(`replicas ${n}: idle ${round(idle[n].cpuMsPerS)} CPU ms/s, ${round(idle[n].xactsPerS, 1)} commits/s, ${connections} connections`);
        for (let r = 1; r <= rounds; r++) {
          const order: ('front' | 'direct')[] = r % 2 ? ['front', 'direct'] : ['direct', 'front'];
          for (const target of order) {
            const url = target === 'front' ? cluster.front : `http://127.0.0.1:${cluster.ports[0]}`;
            const a = await snapshot(admin, cluster.child.pid!);
            const { level, generatorCpuMs } = await runE2e(url, token, conversations, turns, tmp, `${target}-${n}`);
            await sleep(STATS_SETTLE_MS);
            const b = await snapshot(admin, cluster.child.pid!);
            const d = await delta(admin, a, b);
            const answered = level.client.count;
            const idleS = d.seconds;
            const statements = statementsBetween(a, b);
            const totals = statementTotals.get(n) ?? { turns: 0, byQuery: new Map<string, Statement>() };
            statementTotals.set(n, totals);
            totals.turns += answered;
            for (const st of statements) {
              const t = totals.byQuery.get(st.query) ?? { query: st.query, calls: 0, rows: 0, walBytes: 0 };
              totals.byQuery.set(st.query, { query: st.query, calls: t.calls + st.calls, rows: t.rows + st.rows, walBytes: t.walBytes + st.walBytes });
            }
            const row: Row = {
              replicas: n,
              target,
              round: r,
              conversations,
              turns: answered,
              turns_per_s: round(level.turnsPerSecond, 1),
              client_p50_ms: round(level.client.p50, 2),
              client_p99_ms: round(level.client.p99, 2),
              server_p50_ms: level.server ? round(level.server.p50, 2) : null,
              server_p99_ms: level.server ? round(level.server.p99, 2) : null,
              http_errors: level.httpErrors,
              traces_saved: level.tracesSaved,
              // The idle cost accrues over the whole window; the turns' cost is the rest.
              server_cpu_ms_per_turn: round((d.cpuMs - idle[n].cpuMsPerS * (idleS - level.seconds)) / answered, 3),
              haproxy_cpu_ms_per_turn: round(d.cpuByKind.haproxy / answered, 3),
              postgres_cpu_ms_per_turn: round(d.cpuByKind.postgres / answered, 3),
              node_cpu_ms_per_turn: round(d.cpuByKind.node / answered, 3),
              generator_cpu_ms_per_turn: round(generatorCpuMs / answered, 3),
              xacts_per_turn: round((d.stats.xact_commit! - idle[n].xactsPerS * (idleS - level.seconds)) / answered, 2),
              rows_written_per_turn: round((d.stats.tup_inserted! + d.stats.tup_updated! + d.stats.tup_deleted!) / answered, 2),
              blks_hit_per_turn: round(d.stats.blks_hit! / answered, 1),
              wal_bytes_per_turn_server_wide: Math.round(d.walBytes / answered),
              statements_per_turn: a.statements ? round(statements.reduce((sum, st) => sum + st.calls, 0) / answered, 2) : null,
              statement_wal_bytes_per_turn: a.statements ? Math.round(statements.reduce((sum, st) => sum + st.walBytes, 0) / answered) : null,
              loadavg_1m: round(os.loadavg()[0]!, 2),
            };
            rows.push(row);
            log(
              `replicas ${n} ${target.padEnd(6)} round ${r}: ${row.turns_per_s} turns/s, p50 ${row.client_p50_ms} p99 ${row.client_p99_ms} ms, ` +
                `${row.server_cpu_ms_per_turn} server CPU ms/turn (haproxy ${row.haproxy_cpu_ms_per_turn}, postgres ${row.postgres_cpu_ms_per_turn}), ${row.xacts_per_turn} commits/turn, ${row.rows_written_per_turn} rows written/turn, ` +
                `WAL ${row.wal_bytes_per_turn_server_wide} B/turn (server-wide), statements ${row.statements_per_turn ?? '–'}/turn, errors ${row.http_errors}, load ${row.loadavg_1m}`,
            );
          }
        }
      } finally {
        await cluster.stop();
      }
    }
  } finally {
    await admin.end();
    rmSync(tmp, { recursive: true, force: true });
  }
  const end = machineAtEnd(machine);
  const outDir = path.resolve(values.out);
  const base = `cluster${values.tag ? `-${values.tag}` : ''}`;
  const header = Object.keys(rows[0]!) as (keyof Row)[];
  writeFileSync(path.join(outDir, `${base}.csv`), `${[header.join(','), ...rows.map((r) => header.map((h) => r[h] ?? '').join(','))].join('\n')}\n`);
  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  };
  const summary = replicaCounts.flatMap((n) =>
    (['front', 'direct'] as const).map((target) => {
      const rs = rows.filter((r) => r.replicas === n && r.target === target);
      return {
        replicas: n,
        target,
        runs: rs.length,
        turns_per_s: round(median(rs.map((r) => r.turns_per_s)), 1),
        client_p50_ms: round(median(rs.map((r) => r.client_p50_ms)), 2),
        client_p99_ms: round(median(rs.map((r) => r.client_p99_ms)), 2),
        server_cpu_ms_per_turn: round(median(rs.map((r) => r.server_cpu_ms_per_turn)), 3),
        haproxy_cpu_ms_per_turn: round(median(rs.map((r) => r.haproxy_cpu_ms_per_turn)), 3),
        postgres_cpu_ms_per_turn: round(median(rs.map((r) => r.postgres_cpu_ms_per_turn)), 3),
        node_cpu_ms_per_turn: round(median(rs.map((r) => r.node_cpu_ms_per_turn)), 3),
        xacts_per_turn: round(median(rs.map((r) => r.xacts_per_turn)), 2),
        rows_written_per_turn: round(median(rs.map((r) => r.rows_written_per_turn)), 2),
        wal_bytes_per_turn_server_wide: Math.round(median(rs.map((r) => r.wal_bytes_per_turn_server_wide))),
        statements_per_turn: rs[0]?.statements_per_turn == null ? null : round(median(rs.map((r) => r.statements_per_turn!)), 2),
        statement_wal_bytes_per_turn: rs[0]?.statement_wal_bytes_per_turn == null ? null : Math.round(median(rs.map((r) => r.statement_wal_bytes_per_turn!))),
      };
    }),
  );
  writeFileSync(
    path.join(outDir, `${base}.json`),
    `${JSON.stringify(
      {
        command: `DATABASE_URL=postgres://…/${database} npm run bench:cluster -- --replicas ${values.replicas} --rounds ${rounds} --conversations ${conversations} --turns ${turns}${values.tag ? ` --tag ${values.tag}` : ''}`,
        machine: { ...end, described: describeMachine(end) },
        server_env: ROOMY_LIMITS,
        idle,
        summary,
        top_statements_per_turn: Object.fromEntries(
          [...statementTotals].map(([n, t]) => [
            n,
            [...t.byQuery.values()]
              .sort((x, y) => y.calls - x.calls)
              .slice(0, 25)
              .map((st) => ({ calls: round(st.calls / t.turns, 3), rows: round(st.rows / t.turns, 3), wal_bytes: Math.round(st.walBytes / t.turns), query: st.query.replace(/\s+/g, ' ').slice(0, 200) })),
          ]),
        ),
        runs: rows,
      },
      null,
      2,
    )}\n`,
  );
  await writeLineChart(path.join(outDir, `${base}_turns_per_s.svg`), {
    title: `Turns/s through HAProxy vs one replica directly (${conversations} conversations, median of ${rounds})`,
    rows: summary.map((s) => ({ replicas: s.replicas, tps: s.turns_per_s, series: s.target === 'front' ? 'through HAProxy (all replicas)' : 'one replica directly' })),
    x: 'replicas',
    y: 'tps',
    series: 'series',
    xTitle: 'web replicas (+ 1 worker)',
    yTitle: 'turns / s',
  });
  log('\n| replicas | target | turns/s | client p50 ms | client p99 ms | server CPU ms/turn | HAProxy CPU ms/turn | commits/turn | rows written/turn |');
  log('|---:|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const s of summary) {
    log(`| ${s.replicas} | ${s.target} | ${s.turns_per_s} | ${s.client_p50_ms} | ${s.client_p99_ms} | ${s.server_cpu_ms_per_turn} | ${s.haproxy_cpu_ms_per_turn} | ${s.xacts_per_turn} | ${s.rows_written_per_turn} |`);
  }
  log(`\n${describeMachine(end)}; files ${base}.csv, ${base}.json, ${base}_turns_per_s.svg in ${outDir}`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
