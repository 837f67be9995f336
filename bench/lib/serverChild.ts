/** The process under test, started the way `npm start` starts it: a child node running a TS entry point. */
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../../src/util/freePort.js';
import pg from 'pg';

export { freePort };

/** Polls /readyz until the child server is warm (model loaded, database migrated). */
export async function waitReady(baseUrl: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with code ${child.exitCode}`);
    try {
      const res = await fetch(`${baseUrl}/readyz`);
      if (res.ok && ((await res.json()) as { ready: boolean }).ready) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('server did not become ready within 180 s');
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

/** Starts `node --import tsx [nodeArgs] <entry>` on a free loopback port and waits for /readyz. */
export async function startTsxChild(
  entry: string,
  cwd: string,
  env: Record<string, string>,
  /** Extra node options for the child (e.g. `--cpu-prof`), after the tsx loader. */
  nodeArgs: string[] = [],
): Promise<{ child: ChildProcess; baseUrl: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', ...nodeArgs, entry], {
    cwd,
    env: { ...env, HOST: '127.0.0.1', PORT: String(port) },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  await waitReady(baseUrl, child);
  return { child, baseUrl };
}

/** A fresh database on TEST_POSTGRES_URL's server (or the local one), dropped by `drop`. */
export async function createBenchDatabase(name: string): Promise<{ url: string; name: string; admin: pg.Client; drop: () => Promise<void> }> {
  const adminUrl = process.env.TEST_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    name,
    admin,
    drop: async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

/**
 * The production image's NODE_OPTIONS (Dockerfile: a 32 MB semi-space, see docs/configuration.md):
 * the benches' server runs with the same young generation, so their numbers are the image's.
 */
export const SERVER_NODE_OPTIONS = '--max-semi-space-size=32';

/** `SERVER_NODE_OPTIONS` ahead of the caller's NODE_OPTIONS, unless those choose a semi-space size themselves. */
export function serverNodeOptions(existing: string | undefined): string {
  const own = existing?.trim() ?? '';
  if (/--max-semi-space-size\b|--max_semi_space_size\b/.test(own)) return own;
  return own ? `${SERVER_NODE_OPTIONS} ${own}` : SERVER_NODE_OPTIONS;
}

/** The server's environment under the benches: this process's, plus a private data dir / database. */
export function benchServerEnv(o: { dataDir: string; databaseUrl?: string; modelDir: string; adminToken: string }): Record<string, string> {
  return {
    ...(process.env as Record<string, string>),
    // As the image runs it (a --node-arg=--max-semi-space-size=N still wins: the command line beats NODE_OPTIONS).
    NODE_OPTIONS: serverNodeOptions(process.env.NODE_OPTIONS),
    HOST: '127.0.0.1',
    DATA_DIR: o.dataDir,
    ...(o.databaseUrl ? { DATABASE_URL: o.databaseUrl } : {}),
    // Same demo master data on Postgres as on the embedded database.
    SEED_DEMO_DATA: 'true',
    MODEL_DIR: o.modelDir,
    ADMIN_TOKEN: o.adminToken,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    // The bench measures turns, not the automations a message might start later.
    SIMULATOR_DELAY_MS: process.env.SIMULATOR_DELAY_MS ?? '600000',
  };
}
