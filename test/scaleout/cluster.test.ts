/**
 * `npm run cluster` (deploy/cluster.ts): Debian's HAProxy in front of 2 web replicas and a worker
 * on a real PostgreSQL. The front answers turns from both replicas (round robin: each replica's
 * own trace count grows), and Ctrl-C (SIGINT) stops every process it started.
 */
import { spawn, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execute } from '../../src/db/sql.js';
import { databaseTargets, type TestDatabase } from '../helpers/databases.js';
import { makeActivity, post } from '../helpers/testApp.js';

const postgres = (await databaseTargets()).find((t) => t.kind === 'postgres')!;
const haproxy = spawnSync('haproxy', ['-v']).status === 0;
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const ps = (pid: number) => spawnSync('ps', ['-o', 'stat=,args=', '-p', String(pid)], { encoding: 'utf8' }).stdout.trim();
/** Alive and not a zombie (exited, waiting to be reaped). */
const running = (pid: number) => alive(pid) && !ps(pid).startsWith('Z');

describe.skipIf(postgres.skip || !haproxy)('npm run cluster', () => {
  let db: TestDatabase | undefined;
  beforeAll(async () => {
    db = await postgres.create();
  }, 60_000);
  afterAll(() => db?.dispose());

  it('HAProxy spreads turns over the web replicas; SIGINT stops everything', async () => {
    const port = 20_000 + Math.floor(Math.random() * 10_000);
    const url = db!.config.mode === 'postgres' ? db!.config.url : '';
    const child = spawn(process.execPath, ['--import', 'tsx', 'deploy/cluster.ts', '--replicas', '2', '--port', String(port)], {
      env: { ...process.env, DATABASE_URL: url, NLU_ENABLED: 'false', LOG_LEVEL: 'silent', TRACE_FLUSH_MS: '20' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      let out = '';
      child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr!.on('data', () => undefined);
      for (let i = 0; i < 240 && !/FRONT (\S+)/.test(out); i++) await new Promise((r) => setTimeout(r, 500));
      const front = /FRONT (\S+)/.exec(out)?.[1];
      expect(front).toBe(`http://127.0.0.1:${port}`);
      const ports = /on ports ([\d, ]+) \+/.exec(out)![1]!.split(',').map((p) => Number(p.trim()));
      expect(ports).toHaveLength(2);
      // Both replicas ready, then HAProxy's next check (every second) puts them in rotation.
      for (let i = 0; i < 300; i++) {
        const ready = await Promise.all(ports.map((p) => fetch(`http://127.0.0.1:${p}/readyz`).then((r) => r.ok, () => false)));
        if (ready.every(Boolean)) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      await new Promise((r) => setTimeout(r, 2_500));
      const serviceUrl = 'http://127.0.0.1:45678';
      for (let i = 0; i < 8; i++) {
        const res = await post(`${front}/api/messages`, makeActivity({ serviceUrl, text: 'hi', deliveryMode: 'expectReplies' }));
        expect(res.status).toBe(200);
      }
      // Each replica's /readyz counts the traces it wrote: round robin gives both of them turns.
      const traceCounts = () =>
        Promise.all(
          ports.map(async (p) => ((await (await fetch(`http://127.0.0.1:${p}/readyz`)).json()) as { checks: { traces: { written: number } } }).checks.traces.written),
        );
      // Traces are written in the background (TRACE_FLUSH_MS): wait for all 8 (a loaded box is slow).
      let written = await traceCounts();
      for (let i = 0; i < 100 && written.reduce((a, b) => a + b, 0) < 8; i++) {
        await new Promise((r) => setTimeout(r, 200));
        written = await traceCounts();
      }
      expect(written.reduce((a, b) => a + b, 0)).toBe(8);
      for (const n of written) expect(n).toBeGreaterThanOrEqual(2);
      const { rows } = await execute<{ n: number }>(db!.db.dataSource, 'SELECT count(*)::int AS n FROM turn_traces');
      expect(rows[0]!.n).toBe(8);
      const pids = spawnSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
      expect(pids.length).toBeGreaterThanOrEqual(4); // 2 web + worker + haproxy
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      // A process that has exited but is not yet reaped by init (its parent, the cluster, is gone) is
      // a zombie: dead. Give the kernel a moment under load, then every child must be gone.
      for (let i = 0; i < 50 && pids.some(running); i++) await new Promise((r) => setTimeout(r, 200));
      for (const pid of pids) expect(running(pid), `pid ${pid}: ${ps(pid)}`).toBe(false);
    } finally {
      // A failed assertion must not leave HAProxy and the replicas running: Ctrl-C, then force.
      if (child.exitCode === null && child.signalCode === null) {
        const children = spawnSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
        child.kill('SIGINT');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
        for (const pid of children) if (alive(pid)) process.kill(pid, 'SIGKILL');
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    }
  }, 180_000);
});
