/**
 * Overload benchmark (issue 13, item 5): does the server turn away what it cannot take, fast and
 * politely, and keep answering what it took in time?
 *
 *   npm run bench:overload [-- --quick] [--conversations 1000] [--seconds 30] [--connections 3000]
 *                          [--spike-seconds 20] [--admission off] [--model DIR] [--tag NAME]
 *
 * Starts the server as a child process (`node --import tsx src/main.ts`, as bench:e2e does) on
 * 127.0.0.1 with an embedded database in a temp dir, raises the child's open-file limit, then runs
 * two scenarios against POST /api/messages over real loopback HTTP (replies come back to a local
 * connector endpoint, as a channel receives them):
 *
 *   A. `--conversations` concurrent conversations for `--seconds`: each sends its next message as
 *      soon as the last one was answered; a 503/429 is retried after its Retry-After (as a channel
 *      does). Pass: no response slower than 15 s, admitted turns' p99 ≤ 2 s.
 *   B. `--connections` clients at once for `--spike-seconds` (same loop). Pass: the excess answered
 *      503/429 *with* Retry-After, 0 socket errors, 0 "something went wrong" replies, peak RSS
 *      within 300 MB of the warm idle server's.
 *
 * Meanwhile GET /healthz is timed every 200 ms. `--admission off` runs the same load with the
 * limits lifted (ADMISSION_MAX_INFLIGHT=10000, fixed): the behaviour before admission control.
 * Writes bench/results/overload-<date>[-quick][-TAG].json. Loopback only; bounded in time and count.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { freePort } from '../src/util/freePort.js';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ConnectorReceiver } from '../src/chat/connectorReceiver.js';
import { benchMessage, loadUtterances, ProcessMeter, quantile, round } from './lib/load.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CHANNEL_PATIENCE_MS = 15_000;
const ADMITTED_P99_TARGET_MS = 2_000;
const RSS_HEADROOM_MB = 300;
/** A request still unanswered after this long counts as a socket error (the bench never hangs). */
const CLIENT_TIMEOUT_MS = 30_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitReady(baseUrl: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with code ${child.exitCode}`);
    try {
      const res = await fetch(`${baseUrl}/readyz`);
      if (res.ok && ((await res.json()) as { ready: boolean }).ready) return;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  throw new Error('server did not become ready within 180 s');
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(20_000)]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

interface Answer {
  status: number;
  ms: number;
  retryAfter?: string;
}

/** A request on a reused keep-alive socket that the server had just closed (the documented race). */
class StaleSocketError extends Error {}

/**
 * One POST over the shared keep-alive agent; rejects on socket errors and on CLIENT_TIMEOUT_MS.
 * A reset of a *reused* idle socket (the server closed it as we sent: Node's documented keep-alive
 * race) is retried once on a fresh connection, as HTTP clients do, and counted apart.
 */
async function postJson(agent: http.Agent, url: URL, body: string, headers: Record<string, string>, onStale: () => void): Promise<Answer> {
  try {
    return await postOnce(agent, url, body, headers);
  } catch (err) {
    if (!(err instanceof StaleSocketError)) throw err;
    onStale();
    return postOnce(agent, url, body, { ...headers, connection: 'close' });
  }
}

function postOnce(agent: http.Agent, url: URL, body: string, headers: Record<string, string>): Promise<Answer> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers } },
      (res) => {
        res.resume();
        res.on('end', () => {
          const ra = res.headers['retry-after'];
          resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0, retryAfter: typeof ra === 'string' ? ra : undefined });
        });
        res.on('error', reject);
      },
    );
    req.setTimeout(CLIENT_TIMEOUT_MS, () => req.destroy(new Error('client timeout')));
    req.on('error', (err: NodeJS.ErrnoException) => reject(req.reusedSocket && err.code === 'ECONNRESET' ? new StaleSocketError(err.message) : err));
    req.end(body);
  });
}

function getLatency(url: string): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200 ? performance.now() - t0 : Number.POSITIVE_INFINITY));
    });
    req.setTimeout(CLIENT_TIMEOUT_MS, () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(Number.POSITIVE_INFINITY));
  });
}

const pct = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: round(quantile(s, 0.5)), p99: round(quantile(s, 0.99)), max: round(s[s.length - 1] ?? NaN), count: s.length };
};

interface ScenarioResult {
  name: string;
  clients: number;
  seconds: number;
  requests: number;
  statuses: Record<string, number>;
  admitted: number;
  shed: number;
  shedWithoutRetryAfter: number;
  socketErrors: number;
  socketErrorKinds: Record<string, number>;
  /** Resets of reused idle keep-alive sockets, retried once on a new connection (not socket errors). */
  keepAliveRaceRetries: number;
  allMs: ReturnType<typeof pct>;
  admittedMs: ReturnType<typeof pct>;
  slowerThan15s: number;
  healthzMs: ReturnType<typeof pct>;
  replies: { total: number; wentWrong: number; busy: number };
  tracesSaved: number | null;
  /** Server-side turn time from the saved traces of the window (ms). */
  serverTurnMs: { p50: number; p99: number } | null;
  /** p99 of each stage of the saved traces (where the time of slow turns went). */
  stageP99Ms: Record<string, number>;
  /** The server's own event-loop delay, max over the scenario (prom-client nodejs_eventloop_lag_max_seconds). */
  serverEventLoopLagMaxMs: number;
  /** The load generator's own event-loop delay, max (its lag is in every client-side number). */
  benchEventLoopLagMaxMs: number;
  /** The adaptive in-flight limit, sampled once a second. */
  limitRange: { min: number; max: number } | null;
  peakRssMb: number;
  /** Where RSS went: the JS heap and V8 "external" memory (buffers, WASM) at the end of the scenario. */
  heapUsedMbAtEnd: number;
  externalMbAtEnd: number;
  cpuPct: number;
  metrics: Record<string, number>;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      conversations: { type: 'string' },
      seconds: { type: 'string' },
      connections: { type: 'string' },
      'spike-seconds': { type: 'string' },
      admission: { type: 'string', default: 'on' },
      model: { type: 'string' },
      tag: { type: 'string' },
      out: { type: 'string', default: path.join(ROOT, 'bench/results') },
    },
  });
  const quick = values.quick;
  const conversations = Number(values.conversations ?? (quick ? 300 : 1000));
  const seconds = Number(values.seconds ?? (quick ? 10 : 30));
  const connections = Number(values.connections ?? (quick ? 1000 : 3000));
  const spikeSeconds = Number(values['spike-seconds'] ?? (quick ? 8 : 20));
  const admissionOn = values.admission !== 'off';
  const texts = loadUtterances(ROOT);
  const load0 = os.loadavg()[0]!; // how busy the shared box was (2 cores: above 2 means contention)
  const runId = randomUUID().slice(0, 8);

  // ------------------------------------------------------------------ the server (child)
  const real = path.join(ROOT, 'models/intent-gpt2');
  const modelDir = path.resolve(values.model ?? (existsSync(path.join(real, 'model.onnx')) ? real : path.join(ROOT, 'test/fixtures/tiny-gpt2')));
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'rpa-overload-'));
  const adminToken = randomUUID().replace(/-/g, '');
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    HOST: '127.0.0.1',
    PORT: String(port),
    DATA_DIR: dataDir,
    SEED_DEMO_DATA: 'true',
    MODEL_DIR: modelDir,
    ADMIN_TOKEN: adminToken,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'error',
    SIMULATOR_DELAY_MS: process.env.SIMULATOR_DELAY_MS ?? '600000',
    ...(admissionOn ? {} : { ADMISSION_MAX_INFLIGHT: '10000', ADMISSION_TARGET_MS: '0', ADMISSION_QUEUE_MAX: '0' }),
  };
  delete env.DATABASE_URL;
  // Raise the child's open-file limit to the hard limit: thousands of sockets, loopback only.
  const child = spawn('bash', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" --import tsx src/main.ts', process.execPath], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const cleanup = async () => {
    await stopChild(child);
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await waitReady(baseUrl, child);
    const auth = { authorization: `Bearer ${adminToken}` };
    const receiver = new ConnectorReceiver();
    await receiver.start();
    const replies = { total: 0, wentWrong: 0, busy: 0 };
    receiver.onActivity((r) => {
      replies.total += 1;
      const text = r.activity.text ?? '';
      if (/went wrong/i.test(text)) replies.wentWrong += 1;
      if (/\bbusy\b/i.test(text)) replies.busy += 1;
    });
    // The receiver keeps what it got; the bench only counts.
    const trim = setInterval(() => {
      receiver.received.length = 0;
      receiver.attempts.length = 0;
    }, 1000);

    const scrape = async (): Promise<Record<string, number>> => {
      const text = await (await fetch(`${baseUrl}/metrics`, { headers: auth })).text();
      const out: Record<string, number> = {};
      for (const line of text.split('\n')) {
        if (!/^(rpa_turns_|nodejs_eventloop_lag_max_seconds|nodejs_heap_size_used_bytes|nodejs_external_memory_bytes)/.test(line)) continue;
        const i = line.lastIndexOf(' ');
        out[line.slice(0, i)] = Number(line.slice(i + 1));
      }
      return out;
    };
    const idleRss = new ProcessMeter(child.pid!);
    await sleep(1000);
    const idle = idleRss.stop().peakRssMb;
    const limits = await scrape();
    console.log(
      `server: child ${child.pid} on ${baseUrl}, embedded database, model ${path.relative(ROOT, modelDir)}, admission ${admissionOn ? 'on' : 'OFF'} ` +
        `(in flight ${limits['rpa_turns_admission_limit{limit="in_flight"}']}, queue ${limits['rpa_turns_admission_limit{limit="queue"}']}), idle RSS ${round(idle, 0)} MB`,
    );

    let next = 0;
    // Idle sockets are dropped after 4 s, before the server's 5 s keep-alive timeout closes them.
    const agent = new http.Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY, timeout: 4000 });
    const messagesUrl = new URL(`${baseUrl}/api/messages`);

    const runScenario = async (name: string, clients: number, durationS: number): Promise<ScenarioResult> => {
      const statuses: Record<string, number> = {};
      const all: number[] = [];
      const admittedMs: number[] = [];
      const errorKinds: Record<string, number> = {};
      let shed = 0;
      let shedWithoutRetryAfter = 0;
      let socketErrors = 0;
      let staleRetries = 0;
      const replies0 = { ...replies };
      const m0 = await scrape(); // also resets the server's event-loop delay histogram
      const health: number[] = [];
      const limitSamples: number[] = [];
      let lagMaxS = 0; // prom-client resets the event-loop histogram on every scrape: keep the max here
      const meter = new ProcessMeter(child.pid!);
      // The load generator's own event-loop delay: what of the client-side latency is the bench's.
      const benchLag = monitorEventLoopDelay({ resolution: 20 });
      benchLag.enable();
      const t0 = performance.now();
      const end = t0 + durationS * 1000;
      let polling = true;
      const poller = (async () => {
        for (let i = 0; polling; i++) {
          health.push(await getLatency(`${baseUrl}/healthz`));
          if (i % 5 === 0) {
            const m = await scrape().catch(() => ({}) as Record<string, number>);
            lagMaxS = Math.max(lagMaxS, m.nodejs_eventloop_lag_max_seconds ?? 0);
            const limit = m['rpa_turns_admission_limit{limit="in_flight"}'];
            if (limit !== undefined) limitSamples.push(limit);
          }
          await sleep(200);
        }
      })();
      let seed = 7;
      const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
      await Promise.all(
        Array.from({ length: clients }, async (_, c) => {
          const conversationId = `ovl-${name}-${runId}-${c}`;
          while (performance.now() < end) {
            const activity = benchMessage(receiver.serviceUrl, conversationId, { id: `user-${c}`, name: `User ${c}` }, texts[next++ % texts.length]);
            let answer: Answer;
            try {
              answer = await postJson(agent, messagesUrl, JSON.stringify(activity), {}, () => (staleRetries += 1));
            } catch (err) {
              socketErrors += 1;
              const kind = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
              errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
              await sleep(500);
              continue;
            }
            statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
            all.push(answer.ms);
            if (answer.status === 503 || answer.status === 429) {
              shed += 1;
              const after = Number(answer.retryAfter);
              if (!answer.retryAfter || !Number.isFinite(after)) shedWithoutRetryAfter += 1;
              // As a channel does: wait Retry-After (jittered), or 1 s if none was given.
              const waitMs = (Number.isFinite(after) && after > 0 ? after * 1000 : 1000) * (0.5 + rnd());
              await sleep(Math.min(waitMs, Math.max(0, end - performance.now())));
            } else if (answer.status < 300) {
              admittedMs.push(answer.ms);
            }
          }
        }),
      );
      const wall = (performance.now() - t0) / 1000;
      benchLag.disable();
      polling = false;
      await poller;
      const res = meter.stop();
      // Let the trace writer flush, then count the traces of this scenario's window.
      await sleep(1500);
      let tracesSaved: number | null = null;
      let serverTurnMs: ScenarioResult['serverTurnMs'] = null;
      const stageP99: Record<string, number> = {};
      try {
        const sum = (await (await fetch(`${baseUrl}/api/traces/summary?window=${Math.ceil(wall + 2)}s`, { headers: auth })).json()) as {
          count?: number;
          total?: { p50: number; p99: number } | null;
          stages?: Record<string, { p99: number }>;
        };
        tracesSaved = sum.count ?? null;
        serverTurnMs = sum.total ? { p50: round(sum.total.p50), p99: round(sum.total.p99) } : null;
        for (const [stage, v] of Object.entries(sum.stages ?? {})) stageP99[stage] = round(v.p99);
      } catch {
        tracesSaved = null;
      }
      const m1 = await scrape();
      const delta: Record<string, number> = {};
      for (const [k, v] of Object.entries(m1)) if (k.endsWith('_total') || k.includes('_total{')) delta[k] = v - (m0[k] ?? 0);
      return {
        name,
        clients,
        seconds: round(wall, 1),
        requests: all.length,
        statuses,
        admitted: admittedMs.length,
        shed,
        shedWithoutRetryAfter,
        socketErrors,
        socketErrorKinds: errorKinds,
        keepAliveRaceRetries: staleRetries,
        allMs: pct(all),
        admittedMs: pct(admittedMs),
        slowerThan15s: all.filter((ms) => ms > CHANNEL_PATIENCE_MS).length,
        healthzMs: pct(health.filter(Number.isFinite)),
        replies: { total: replies.total - replies0.total, wentWrong: replies.wentWrong - replies0.wentWrong, busy: replies.busy - replies0.busy },
        tracesSaved,
        serverTurnMs,
        stageP99Ms: stageP99,
        benchEventLoopLagMaxMs: round(benchLag.max / 1e6),
        serverEventLoopLagMaxMs: round(Math.max(lagMaxS, m1.nodejs_eventloop_lag_max_seconds ?? 0) * 1000),
        limitRange: limitSamples.length ? { min: Math.min(...limitSamples), max: Math.max(...limitSamples) } : null,
        peakRssMb: round(res.peakRssMb, 0),
        heapUsedMbAtEnd: round((m1.nodejs_heap_size_used_bytes ?? NaN) / 2 ** 20, 0),
        externalMbAtEnd: round((m1.nodejs_external_memory_bytes ?? NaN) / 2 ** 20, 0),
        cpuPct: round(res.cpuPct, 0),
        metrics: delta,
      };
    };

    const a = await runScenario('A', conversations, seconds);
    print(a);
    await sleep(3000); // drain between scenarios (and separate the trace windows)
    const b = await runScenario('B', connections, spikeSeconds);
    print(b);
    clearInterval(trim);
    await receiver.stop();
    agent.destroy();

    const checks = {
      A_no_response_slower_than_15s: a.slowerThan15s === 0 && a.socketErrors === 0,
      A_admitted_p99_le_2s: a.admittedMs.p99 <= ADMITTED_P99_TARGET_MS,
      B_excess_answered_with_retry_after: b.shed > 0 && b.shedWithoutRetryAfter === 0,
      B_zero_socket_errors: b.socketErrors === 0,
      B_zero_went_wrong_replies: b.replies.wentWrong === 0,
      B_rss_bounded: b.peakRssMb <= idle + RSS_HEADROOM_MB,
      healthz_under_1s: Math.max(a.healthzMs.max, b.healthzMs.max) < 1000,
    };
    const date = new Date().toISOString();
    const summary = {
      date,
      machine: `2-core shared dev box, not quiet (other engineers running tests meanwhile); ${os.cpus().length} CPUs, ${round(os.totalmem() / 2 ** 30, 0)} GiB, Node ${process.version}`,
      loadAverage1mStartEnd: [round(load0, 1), round(os.loadavg()[0]!, 1)],
      command: `npm run bench:overload --${quick ? ' --quick' : ''}${admissionOn ? '' : ' --admission off'}`,
      server: { database: 'embedded', model: path.relative(ROOT, modelDir), admission: admissionOn ? 'on' : 'off', limits, idleRssMb: round(idle, 0) },
      targets: { channelPatienceMs: CHANNEL_PATIENCE_MS, admittedP99Ms: ADMITTED_P99_TARGET_MS, rssHeadroomMb: RSS_HEADROOM_MB },
      checks,
      pass: Object.values(checks).every(Boolean),
      scenarios: [a, b],
    };
    console.log(`\nmachine load average (1 min) at start / end: ${summary.loadAverage1mStartEnd.join(' / ')} on ${os.cpus().length} CPUs`);
    console.log('\n| check | result |\n|---|---|');
    for (const [k, v] of Object.entries(checks)) console.log(`| ${k} | ${v ? 'pass' : 'FAIL'} |`);
    mkdirSync(values.out, { recursive: true });
    const file = path.join(values.out, `overload-${date.slice(0, 10)}${quick ? '-quick' : ''}${admissionOn ? '' : '-admission-off'}${values.tag ? `-${values.tag}` : ''}.json`);
    writeFileSync(file, `${JSON.stringify(summary, null, 2)}\n`);
    console.log(`\nwritten ${path.relative(ROOT, file)}`);
  } finally {
    await cleanup();
  }
}

function print(r: ScenarioResult): void {
  console.log(`\n## Scenario ${r.name}: ${r.clients} concurrent clients for ${r.seconds} s`);
  console.log('| measure | value |\n|---|---:|');
  const rows: [string, string | number][] = [
    ['requests', r.requests],
    ['statuses', Object.entries(r.statuses).map(([s, n]) => `${s}×${n}`).join(' ')],
    ['admitted (2xx)', r.admitted],
    ['shed (503/429)', r.shed],
    ['shed without Retry-After', r.shedWithoutRetryAfter],
    ['socket errors', `${r.socketErrors}${r.socketErrors ? ` ${JSON.stringify(r.socketErrorKinds)}` : ''}`],
    ['keep-alive races retried (reset of a reused idle socket)', r.keepAliveRaceRetries],
    ['admitted p50 / p99 / max (ms)', `${r.admittedMs.p50} / ${r.admittedMs.p99} / ${r.admittedMs.max}`],
    ['all responses p99 / max (ms)', `${r.allMs.p99} / ${r.allMs.max}`],
    ['responses slower than 15 s', r.slowerThan15s],
    ['/healthz p50 / p99 / max (ms)', `${r.healthzMs.p50} / ${r.healthzMs.p99} / ${r.healthzMs.max}`],
    ['replies (total / "went wrong" / "busy")', `${r.replies.total} / ${r.replies.wentWrong} / ${r.replies.busy}`],
    ['traces saved (summary window)', r.tracesSaved ?? '–'],
    ['server-side turn p50 / p99 (ms, traces)', r.serverTurnMs ? `${r.serverTurnMs.p50} / ${r.serverTurnMs.p99}` : '–'],
    ['server stage p99 (ms)', Object.entries(r.stageP99Ms).map(([k, v]) => `${k} ${v}`).join(', ') || '–'],
    ['server event-loop delay max (ms)', r.serverEventLoopLagMaxMs],
    ['load generator event-loop delay max (ms)', r.benchEventLoopLagMaxMs],
    ['adaptive in-flight limit (min–max)', r.limitRange ? `${r.limitRange.min}–${r.limitRange.max}` : '–'],
    ['server peak RSS (MB) / CPU %', `${r.peakRssMb} / ${r.cpuPct}`],
    ['server JS heap used / external at end (MB)', `${r.heapUsedMbAtEnd} / ${r.externalMbAtEnd}`],
  ];
  for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
