/**
 * A local cluster on real parts: Debian's HAProxy (round robin, health checks on /readyz) in front
 * of N web replicas (ROLE=web) and one worker (ROLE=worker), all on the PostgreSQL of DATABASE_URL.
 *
 *   DATABASE_URL=postgres://… npm run cluster -- --replicas 3
 *
 * Prints the front URL; Ctrl-C (or SIGTERM) stops HAProxy and sends every replica SIGTERM (they
 * drain), then waits for all of them.
 *
 * Also a module: `startCluster()` starts the same cluster and hands back its processes (ports,
 * pids, output), HAProxy's view of its backends and, on request, HAProxy's per-request log — the
 * scale-out tests (test/scaleout/cluster3.*.test.ts) drive it that way.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort } from '../src/util/freePort.js';

export interface ClusterOptions {
  /** PostgreSQL every process uses. */
  databaseUrl: string;
  /** Web replicas (1…32). */
  replicas: number;
  /** HAProxy's front port on 127.0.0.1; 0 picks a free one. */
  port?: number;
  /** The haproxy binary. */
  haproxy?: string;
  /** Node arguments that run one process (default: the server, `--import tsx src/main.ts`). */
  entry?: string[];
  /** Working directory of the processes (default: the repository root). */
  cwd?: string;
  /** Extra environment for every replica and the worker (wins over the defaults). */
  env?: Record<string, string>;
  /** 'inherit': the processes write to this terminal (the CLI); 'pipe': kept in `output()`. */
  stdio?: 'inherit' | 'pipe';
  /**
   * HAProxy logs one line per request (`requestLog()`, syslog over UDP to this process): the backend server, status,
   * termination state and the request's `X-Request-Id` header (what the tests correlate on).
   */
  requestLog?: boolean;
}

export interface ClusterProcess {
  name: string;
  pid: number;
  /** Its HTTP port (web replicas and the worker); HAProxy's is the front. */
  port: number;
  url: string;
  child: ChildProcess;
  /** Resolves once the process has exited. */
  exited: Promise<void>;
  /** Its stdout + stderr so far (stdio 'pipe'; the last 64 KiB). */
  output(): string;
  running(): boolean;
}

/** One line of HAProxy's request log, with when this process read it. */
export interface RequestLogLine {
  requestId: string;
  /** Backend server name (`web1`…) or `<NOSRV>`. */
  server: string;
  /** HTTP status sent to the client (-1: none). */
  status: number;
  /** HAProxy's termination state (`----` ok, `SH--` server aborted mid-response, `SC--` refused…). */
  termination: string;
  /** Connection retries (`+` prefixed when redispatched). */
  retries: string;
  /** Accept time of the request (epoch ms, HAProxy's clock). */
  acceptedAt: number;
  /** Total time of the request in HAProxy (ms). */
  totalMs: number;
}

export interface Cluster {
  /** HAProxy's front URL. */
  front: string;
  /** HAProxy's statistics page (`;csv` for CSV). */
  stats: string;
  web: ClusterProcess[];
  worker: ClusterProcess;
  haproxy: ClusterProcess;
  /** The generated HAProxy configuration. */
  haproxyConfig: string;
  /** HAProxy's state of each web server: `web1` → `UP`, `DOWN`, `MAINT`, `no check`… */
  backendStatus(): Promise<Record<string, string>>;
  /** Request log lines so far (`requestLog: true`). */
  requestLog(): RequestLogLine[];
  /** HAProxy's other log lines (server state changes…), each with the epoch ms it was read. */
  events(): { at: number; line: string }[];
  /** Resolves when every web replica and the worker answer /readyz 200 and HAProxy has every web server UP. */
  ready(timeoutMs?: number): Promise<void>;
  /** SIGTERM to everything (replicas drain), wait; SIGKILL what is still there after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SERVER = ['--import', 'tsx', 'src/main.ts'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export { freePort };

/**
 * The HAProxy configuration of the local cluster. Timings, so that a dead replica leaves the
 * rotation within a fraction of a second, a slow one (a loaded box) does not, and no request is
 * sent to a replica twice:
 * - `observe layer4 error-limit 1 on-error fail-check`: a failed or reset connection to a replica
 *   counts as a failed check and switches its checks to `fastinter` (200 ms); a killed process
 *   refuses the next check at once, so with `fall 2` it is out ~0.2 s after the first error,
 *   while one stray error on a live replica is forgiven by its next good check;
 * - `inter 1s fall 2`: a replica that answers /readyz 503 (draining) is out within ~2 s;
 *   `timeout check 5s`: a replica that is merely slow to answer under load stays in; `rise 2`;
 * - `retry-on conn-failure` + `option redispatch 1`: a request whose connection failed never
 *   reached a replica, so it is retried at once on another one; a request that did reach a
 *   replica is never retried (a turn is never run twice by the proxy).
 */
export function haproxyConfig(frontPort: number, statsPort: number, ports: number[], logPort?: number): string {
  const requestLog = logPort !== undefined;
  // Syslog over UDP on loopback: HAProxy never blocks on its log, and a socket buffer (unlike its
  // stdout) is large enough that no line of a test's burst is dropped.
  const log = requestLog
    ? `    log 127.0.0.1:${logPort} format raw local0
`
    : '';
  const defaultsLog = requestLog
    ? `    log global
    option log-health-checks
`
    : '';
  return `global
    maxconn 4096
${log}defaults
    mode http
${defaultsLog}    option redispatch 1
    retries 2
    retry-on conn-failure
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout check 5s
frontend front
    bind 127.0.0.1:${frontPort}
${
  requestLog
    ? `    http-request set-var(txn.rid) req.hdr(x-request-id)
    log-format "REQ rid=%[var(txn.rid)] srv=%s st=%ST term=%tsc rc=%rc at=%Ts%ms tt=%Tt"
`
    : ''
}    default_backend web
frontend stats
    bind 127.0.0.1:${statsPort}
${requestLog ? '    no log\n' : ''}    stats enable
    stats uri /stats
backend web
    balance roundrobin
    option httpchk
    http-check send meth GET uri /readyz
    http-check expect status 200
    default-server inter 1s fastinter 200ms downinter 1s fall 2 rise 2 observe layer4 error-limit 1 on-error fail-check
${ports.map((p, i) => `    server web${i + 1} 127.0.0.1:${p} check`).join('\n')}
`;
}

const REQ = /^REQ rid=(\S*) srv=(\S+) st=(-?\d+) term=(\S+) rc=(\S+) at=(\d+) tt=(-?\d+)/;

function parseRequestLine(line: string): RequestLogLine | undefined {
  const m = REQ.exec(line);
  if (!m) return undefined;
  // %Ts%ms: epoch seconds followed by three digits of milliseconds.
  return { requestId: m[1]!, server: m[2]!, status: Number(m[3]), termination: m[4]!, retries: m[5]!, acceptedAt: Number(m[6]), totalMs: Number(m[7]) };
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const { replicas, databaseUrl } = options;
  const haproxyBin = options.haproxy ?? 'haproxy';
  if (!databaseUrl) throw new Error('DATABASE_URL is required (the embedded database serves one process)');
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 32) throw new Error('--replicas must be 1…32');
  if (spawnSync(haproxyBin, ['-v']).status !== 0) throw new Error(`${haproxyBin} not found (apt-get install haproxy)`);
  const entry = options.entry ?? SERVER;
  const cwd = options.cwd ?? ROOT;
  const pipe = options.stdio === 'pipe';

  const dir = mkdtempSync(join(tmpdir(), 'rpa-cluster-'));
  const frontPort = options.port || (await freePort());
  const statsPort = await freePort();
  const front = `http://127.0.0.1:${frontPort}`;
  const stats = `http://127.0.0.1:${statsPort}/stats`;
  const ports = await Promise.all(Array.from({ length: replicas }, () => freePort()));
  const workerPort = await freePort();
  const requestLines: RequestLogLine[] = [];
  const events: { at: number; line: string }[] = [];
  const processes: ClusterProcess[] = [];

  const run = (name: string, port: number, command: string, args: string[], env: Record<string, string>, onLine?: (line: string) => void): ClusterProcess => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', pipe || onLine ? 'pipe' : 'inherit', pipe ? 'pipe' : 'inherit'] });
    let out = '';
    let partial = '';
    const keep = (c: Buffer) => {
      out = (out + c.toString()).slice(-65_536);
    };
    child.stdout?.on('data', (c: Buffer) => {
      if (onLine) {
        const lines = (partial + c.toString()).split('\n');
        partial = lines.pop()!;
        for (const line of lines) onLine(line);
      }
      if (pipe) keep(c);
      else if (!onLine) process.stdout.write(c);
    });
    child.stderr?.on('data', keep);
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    const p: ClusterProcess = {
      name,
      pid: child.pid!,
      port,
      url: `http://127.0.0.1:${port}`,
      child,
      exited,
      output: () => out,
      running: () => child.exitCode === null && child.signalCode === null,
    };
    processes.push(p);
    return p;
  };

  const common = { HOST: '127.0.0.1', PUBLIC_BASE_URL: front, DATABASE_URL: databaseUrl, ...options.env };
  const worker = run('worker', workerPort, process.execPath, entry, { ...common, ROLE: 'worker', PORT: String(workerPort) });
  const web = ports.map((port, i) => run(`web${i + 1}`, port, process.execPath, entry, { ...common, ROLE: 'web', PORT: String(port) }));
  const onHaproxyLine = (line: string) => {
    const parsed = parseRequestLine(line);
    if (parsed) requestLines.push(parsed);
    else if (line.trim()) events.push({ at: Date.now(), line: line.trim() });
  };
  let logSocket: dgram.Socket | undefined;
  if (options.requestLog) {
    const socket = (logSocket = dgram.createSocket('udp4'));
    socket.on('message', (msg) => onHaproxyLine(msg.toString('utf8')));
    await new Promise<void>((done) => socket.bind(0, '127.0.0.1', () => done()));
  }
  const cfgText = haproxyConfig(frontPort, statsPort, ports, logSocket?.address().port);
  const cfg = join(dir, 'haproxy.cfg');
  writeFileSync(cfg, cfgText);
  const haproxy = run('haproxy', frontPort, haproxyBin, ['-db', '-f', cfg], {}, pipe ? onHaproxyLine : undefined);

  const backendStatus = async (): Promise<Record<string, string>> => {
    const csv = await (await fetch(`${stats};csv`)).text();
    const [header, ...rows] = csv.split('\n');
    const cols = header!.replace(/^# /, '').split(',');
    const px = cols.indexOf('pxname');
    const sv = cols.indexOf('svname');
    const st = cols.indexOf('status');
    const status: Record<string, string> = {};
    for (const row of rows) {
      const f = row.split(',');
      if (f[px] === 'web' && f[sv] && f[sv] !== 'BACKEND') status[f[sv]!] = f[st]!;
    }
    return status;
  };

  const ready = async (timeoutMs = 120_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const dead = processes.find((p) => !p.running());
      if (dead) throw new Error(`cluster: ${dead.name} exited before the cluster was ready:\n${dead.output()}`);
      const ok = await Promise.all([...web, worker].map((p) => fetch(`${p.url}/readyz`).then((r) => r.ok, () => false)));
      const status = ok.every(Boolean) ? await backendStatus().catch(() => ({}) as Record<string, string>) : {};
      if (ok.every(Boolean) && web.every((w) => status[w.name] === 'UP')) return;
      if (Date.now() > deadline) throw new Error(`cluster not ready after ${timeoutMs} ms (readyz ${JSON.stringify(ok)}, HAProxy ${JSON.stringify(status)})`);
      await sleep(200);
    }
  };

  let stopping: Promise<void> | undefined;
  const stop = (graceMs = 30_000) =>
    (stopping ??= (async () => {
      await Promise.all(
        processes.map(async (p) => {
          if (!p.running()) return;
          p.child.kill('SIGTERM');
          const timer = setTimeout(() => p.running() && p.child.kill('SIGKILL'), graceMs);
          await p.exited;
          clearTimeout(timer);
        }),
      );
      logSocket?.close();
      rmSync(dir, { recursive: true, force: true });
    })());

  return {
    front,
    stats,
    web,
    worker,
    haproxy,
    haproxyConfig: cfgText,
    backendStatus,
    requestLog: () => requestLines.slice(),
    events: () => events.slice(),
    ready,
    stop,
  };
}

/** `npm run cluster -- --replicas 3 [--port 8080] [--haproxy haproxy]` */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      replicas: { type: 'string', default: '3' },
      port: { type: 'string', default: '8080' },
      haproxy: { type: 'string', default: 'haproxy' },
    },
  });
  const replicas = Number(values.replicas);
  let cluster: Cluster;
  try {
    cluster = await startCluster({ databaseUrl: process.env.DATABASE_URL ?? '', replicas, port: Number(values.port), haproxy: values.haproxy, stdio: 'inherit' });
  } catch (err) {
    process.stderr.write(`cluster: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  }
  let stopping = false;
  for (const p of [...cluster.web, cluster.worker, cluster.haproxy]) {
    p.child.once('exit', (code, signal) => {
      if (!stopping) process.stderr.write(`cluster: ${p.name} exited (${code ?? signal})\n`);
    });
  }
  const stop = () => {
    if (stopping) return;
    stopping = true;
    process.stderr.write('cluster: stopping…\n');
    void cluster.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // The front is up once HAProxy sees a ready replica.
  for (let i = 0; i < 240 && !stopping; i++) {
    const ok = await fetch(`${cluster.front}/readyz`).then((r) => r.ok, () => false);
    if (ok) break;
    await sleep(500);
  }
  process.stdout.write(
    `cluster: ${replicas} web replica(s) on ports ${cluster.web.map((w) => w.port).join(', ')} + 1 worker behind HAProxy\nFRONT ${cluster.front}\n`,
  );
}

if (process.argv[1] && pathToFileURL(resolve(process.argv[1])).href === import.meta.url) await main();
