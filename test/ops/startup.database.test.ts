/**
 * `npm start` with a database it cannot open (src/main.ts, src/db/startupError.ts): the real entry
 * point in a child process prints one line — what failed, the URL without its password, what to do
 * — and exits 1, with no stack trace. Cases: nothing listening on the port, a database name that
 * does not exist and a role that does not exist on a real PostgreSQL, and a host that is not found.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { databaseTargets, freshPgliteDataDir, TEST_POSTGRES_URL } from '../helpers/databases.js';

const postgres = (await databaseTargets()).find((t) => t.kind === 'postgres');

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

function start(databaseUrl: string, env: Record<string, string> = {}): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { ...process.env, DATABASE_URL: databaseUrl, PORT: '0', HOST: '127.0.0.1', NLU_ENABLED: 'false', DB_ACQUIRE_TIMEOUT_MS: '5000', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function expectOneClearLine(exit: Exit, ...wanted: (string | RegExp)[]): void {
  expect(exit.code, exit.stderr).toBe(1);
  const lines = exit.stderr.trim().split('\n');
  expect(lines, exit.stderr).toHaveLength(1);
  const line = lines[0] ?? '';
  expect(line).toMatch(/^rpa-assistant failed to start: cannot open the database at /);
  for (const w of wanted) expect(line).toMatch(w);
  expect(`${exit.stdout}${exit.stderr}`).not.toMatch(/\n\s+at /); // no stack trace anywhere
  expect(`${exit.stdout}${exit.stderr}`).not.toContain('s3cret-password');
}

describe('start with a database it cannot open', () => {
  it('nothing listening: "connection refused", the URL without its password, what to do', async () => {
    const port = await closedPort();
    const exit = await start(`postgres://app:s3cret-password@127.0.0.1:${port}/rpa`);
    expectOneClearLine(exit, `postgres://app:***@127.0.0.1:${port}/rpa`, /connection refused/, /Start PostgreSQL there, or fix DATABASE_URL/);
  }, 90_000);

  it('a host that is not found', async () => {
    const exit = await start('postgres://app:s3cret-password@no-such-host.invalid:5432/rpa');
    expectOneClearLine(exit, /no-such-host\.invalid/, /host not found/);
  }, 90_000);

  it.skipIf(postgres?.skip ?? true)('a database name that does not exist on a real PostgreSQL: says so and how to create it', async () => {
    const name = `rpa_missing_${randomBytes(4).toString('hex')}`;
    const url = new URL(TEST_POSTGRES_URL);
    url.pathname = `/${name}`;
    const exit = await start(url.toString());
    expectOneClearLine(exit, `database "${name}" does not exist`, `createdb ${name}`);
  }, 90_000);

  it.skipIf(postgres?.skip ?? true)('a role that does not exist: check the user and password', async () => {
    const url = new URL(TEST_POSTGRES_URL);
    url.username = `nobody_${randomBytes(4).toString('hex')}`;
    url.password = 's3cret-password';
    const exit = await start(url.toString());
    expectOneClearLine(exit, /Check the user and password in DATABASE_URL/);
  }, 90_000);
});

describe('start on a port that is taken', () => {
  it('one line naming the address and what to do, exit 1', async () => {
    const dataDir = await freshPgliteDataDir();
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      // The embedded database in a fresh directory (never a shared PostgreSQL database: the app migrates it).
      const exit = await start('', { PORT: String(port), DATA_DIR: dataDir, SEED_DEMO_DATA: 'false' });
      expect(exit.code, exit.stderr).toBe(1);
      const lines = exit.stderr.trim().split('\n').filter((l) => l.startsWith('rpa-assistant failed to start'));
      expect(lines).toEqual([`rpa-assistant failed to start: 127.0.0.1:${port} is already in use. Stop the other server there, or set PORT (0 picks a free port).`]);
      expect(exit.stderr).not.toMatch(/\n\s+at /);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 90_000);
});
