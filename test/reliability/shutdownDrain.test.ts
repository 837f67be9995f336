/**
 * SIGTERM under keep-alive load (issue 12, defect 8): the real server (`src/main.ts`) in a child
 * process, 16 clients on keep-alive connections sending turns as fast as they are answered, each
 * turn ~300 ms long (the bot's reply goes to a slow connector on loopback). Then SIGTERM.
 *
 * The clients behave like a channel: they honour Retry-After, and stop once the connection is
 * refused (a channel retries elsewhere). A client that ignores Retry-After and reconnects in a tight
 * loop can also see a reset: connections still in the kernel's accept queue when the listener closes
 * are reset by TCP, before the server has read anything from them.
 *
 * Holds when:
 * - 0 turns accepted after the signal: no request written after the server logged the signal got a
 *   200 (they get 503 + Retry-After + Connection: close, or the connection is refused once the
 *   server has stopped listening);
 * - 0 cut in flight: every request written before the signal got an answer (200, or 503 if the
 *   server had not started it yet), every 200 turn's reply reached the connector, no turn ran
 *   whose answer was lost, and the server reports the drain complete and exits 0.
 *
 * Before the fix, busy keep-alive connections kept delivering turns after SIGTERM (837–1,210 in
 * three runs) and the drain ran into SHUTDOWN_TIMEOUT_MS and cut what was still running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import http, { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseConfig } from '../../src/db/database.js';
import { databaseTargets, type TestDatabase } from '../helpers/databases.js';

const CLIENTS = 16;
const TURN_MS = 300;
const LOAD_BEFORE_SIGNAL_MS = 2500;

const targets = await databaseTargets();
const target = targets.find((t) => t.kind === 'postgres' && !t.skip) ?? targets[0]!;
const envFor = (config: DatabaseConfig): Record<string, string> =>
  config.mode === 'embedded' ? { DATA_DIR: config.dataDir } : { DATABASE_URL: config.url };

interface Outcome {
  activityId: string;
  writtenAt: number;
  status?: number;
  retryAfter?: string;
  connection?: string;
  /** The error code of a refusal (`shutting_down` from the drain, `overloaded` from admission). */
  code?: string;
  error?: string;
}

/** The channel side: answers the bot's replies after TURN_MS, remembering which activity each answers. */
function slowConnector(): Promise<{ server: Server; url: string; repliedTo: Set<string> }> {
  const repliedTo = new Set<string>();
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const match = /\/v3\/conversations\/[^/]+\/activities\/([^/?]+)/.exec(req.url ?? '');
      setTimeout(() => {
        if (match?.[1]) repliedTo.add(decodeURIComponent(match[1]));
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: randomUUID() }));
      }, TURN_MS);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, repliedTo })));
}

interface LogLine {
  time: number;
  msg: string;
  level: number;
  [key: string]: unknown;
}

describe(`SIGTERM under keep-alive load (${target.name})`, () => {
  let t: TestDatabase;
  let connector: Awaited<ReturnType<typeof slowConnector>>;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    t = await target.create();
    await t.db.close();
    connector = await slowConnector();
  });

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await new Promise<void>((resolve) => connector?.server.close(() => resolve()));
    await t?.dispose();
  });

  it('accepts 0 turns after the signal and cuts 0 in flight, then exits 0', { timeout: 120_000 }, async () => {
    const logs: LogLine[] = [];
    child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: {
        ...process.env,
        ...envFor(t.config),
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_FORMAT: 'json',
        LOG_LEVEL: 'info',
        NLU_ENABLED: 'false',
        SHUTDOWN_TIMEOUT_MS: '20000',
        TRACE_FLUSH_MS: '50',
        // Admission control would shed some of this load by itself (its 503s are not the drain's).
        ADMISSION_TARGET_MS: '14000',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    let buffered = '';
    const listening = new Promise<string>((resolve, reject) => {
      child!.stderr!.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('utf8');
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          try {
            const parsed = JSON.parse(line) as LogLine;
            logs.push(parsed);
            if (parsed.msg === 'rpa-assistant listening') resolve(parsed.url as string);
          } catch {
            // not JSON (a Node warning): ignored
          }
        }
      });
      void exited.then((code) => reject(new Error(`server exited (${code}) before listening`)));
    });
    const url = await listening;

    const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
    const outcomes: Outcome[] = [];
    let stop = false;
    const sendTurn = (client: number, n: number) =>
      new Promise<Outcome>((resolve) => {
        const activityId = `c${client}-${n}-${randomUUID().slice(0, 8)}`;
        const body = JSON.stringify({
          type: 'message',
          id: activityId,
          channelId: 'test',
          serviceUrl: connector.url,
          conversation: { id: `drain-${client}` },
          from: { id: `user-${client}`, name: 'Load' },
          recipient: { id: 'bot', name: 'RPA Assistant' },
          text: 'hello',
        });
        const outcome: Outcome = { activityId, writtenAt: 0 };
        const req = http.request(`${url}/api/messages`, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            Object.assign(outcome, {
              status: res.statusCode,
              retryAfter: res.headers['retry-after'],
              connection: res.headers.connection,
            });
            if (res.statusCode === 503) outcome.code = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { error?: { code?: string } }).error?.code;
            resolve(outcome);
          });
        });
        req.on('error', (err: NodeJS.ErrnoException) => {
          outcome.error = err.code ?? err.message;
          resolve(outcome);
        });
        outcome.writtenAt = Date.now();
        req.end(body);
      });
    const client = async (id: number) => {
      for (let n = 0; !stop; n++) {
        const outcome = await sendTurn(id, n);
        outcomes.push(outcome);
        // A channel whose server went away retries elsewhere: this client stops once refused.
        if (outcome.error) return;
        // …and a channel told to come back later does so (Bot Framework backs off on 503).
        if (outcome.status === 503) await new Promise((r) => setTimeout(r, Number(outcome.retryAfter ?? 1) * 1000));
      }
    };
    const clients = Promise.all(Array.from({ length: CLIENTS }, (_, i) => client(i)));
    await new Promise((r) => setTimeout(r, LOAD_BEFORE_SIGNAL_MS));
    child.kill('SIGTERM');
    const cap = setTimeout(() => (stop = true), 30_000);
    const code = await exited;
    stop = true;
    await clients;
    clearTimeout(cap);
    agent.destroy();

    const signalled = logs.find((l) => /shutting down gracefully/.test(l.msg));
    expect(signalled, 'the server logged the signal').toBeDefined();
    const signalAt = signalled!.time;
    const before = outcomes.filter((o) => o.writtenAt < signalAt);
    const after = outcomes.filter((o) => o.writtenAt > signalAt);
    const summary = {
      before: tally(before),
      after: tally(after),
      repliesAtConnector: connector.repliedTo.size,
      drain: logs.find((l) => /HTTP drained|shutdown timeout/.test(l.msg)),
    };
    console.info(`shutdown drain: ${JSON.stringify(summary)}`);

    // The load really was on keep-alive connections, with turns in flight at the signal.
    expect(before.filter((o) => o.status === 200).length).toBeGreaterThan(CLIENTS);
    // 0 accepted after the signal.
    expect(after.filter((o) => o.status === 200)).toEqual([]);
    // Every refusal says when to retry; the drain's close their connection.
    for (const o of outcomes.filter((x) => x.status === 503)) expect(o.retryAfter).toMatch(/^\d+$/);
    for (const o of outcomes.filter((x) => x.code === 'shutting_down')) expect(o.connection).toBe('close');
    expect(after.filter((o) => o.status === 503 && o.code !== 'shutting_down')).toEqual([]);
    // 0 cut in flight: everything written before the signal was answered (200, or 503 if not started).
    expect(before.filter((o) => o.error !== undefined || (o.status !== 200 && o.status !== 503))).toEqual([]);
    // After the signal: refused politely, or the connection was refused once the listener closed.
    expect(after.filter((o) => o.status !== 503 && o.error !== 'ECONNREFUSED')).toEqual([]);
    // Every accepted turn's reply reached the channel, and no turn ran whose answer was lost.
    const accepted = new Set(outcomes.filter((o) => o.status === 200).map((o) => o.activityId));
    expect([...accepted].filter((id) => !connector.repliedTo.has(id))).toEqual([]);
    expect([...connector.repliedTo].filter((id) => !accepted.has(id))).toEqual([]);
    // The server drained within its timeout and exited cleanly.
    expect(logs.find((l) => l.msg === 'HTTP drained')).toMatchObject({ drained: true, cut: 0 });
    expect(logs.filter((l) => l.level >= 50)).toEqual([]);
    expect(code).toBe(0);
  });
});

function tally(outcomes: Outcome[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const o of outcomes) {
    const key = o.error ?? String(o.status);
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}
