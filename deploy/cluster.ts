/**
 * A local cluster on real parts: Debian's HAProxy (round robin, health checks on /readyz) in front
 * of N web replicas (ROLE=web) and one worker (ROLE=worker), all on the PostgreSQL of DATABASE_URL.
 *
 *   DATABASE_URL=postgres://… npm run cluster -- --replicas 3
 *
 * Prints the front URL; Ctrl-C (or SIGTERM) stops HAProxy and sends every replica SIGTERM (they
 * drain), then waits for all of them.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    replicas: { type: 'string', default: '3' },
    port: { type: 'string', default: '8080' },
    haproxy: { type: 'string', default: 'haproxy' },
  },
});
const replicas = Number(values.replicas);
const frontPort = Number(values.port);

function fail(message: string): never {
  process.stderr.write(`cluster: ${message}\n`);
  process.exit(2);
}

if (!process.env.DATABASE_URL) fail('DATABASE_URL is required (the embedded database serves one process)');
if (!Number.isInteger(replicas) || replicas < 1 || replicas > 32) fail('--replicas must be 1…32');
if (spawnSync(values.haproxy, ['-v']).status !== 0) fail(`${values.haproxy} not found (apt-get install haproxy)`);

/** A free loopback port (the OS picks; closed again at once). */
const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });

function haproxyConfig(ports: number[]): string {
  return `global
    maxconn 4096
defaults
    mode http
    option redispatch
    retries 2
    retry-on conn-failure
    timeout connect 2s
    timeout client 30s
    timeout server 30s
frontend front
    bind 127.0.0.1:${frontPort}
    default_backend web
backend web
    balance roundrobin
    option httpchk
    http-check send meth GET uri /readyz
    http-check expect status 200
    default-server inter 1s fall 2 rise 1
${ports.map((p, i) => `    server web${i + 1} 127.0.0.1:${p} check`).join('\n')}
`;
}

const children: { name: string; child: ChildProcess }[] = [];

function run(name: string, command: string, args: string[], env: Record<string, string>): void {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit'] });
  child.once('exit', (code, signal) => {
    if (!stopping) process.stderr.write(`cluster: ${name} exited (${code ?? signal})\n`);
  });
  children.push({ name, child });
}

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  process.stderr.write('cluster: stopping…\n');
  await Promise.all(
    children.map(
      ({ child }) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        }),
    ),
  );
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}

const dir = mkdtempSync(join(tmpdir(), 'rpa-cluster-'));
const front = `http://127.0.0.1:${frontPort}`;
const ports = await Promise.all(Array.from({ length: replicas }, () => freePort()));
const common = { HOST: '127.0.0.1', PUBLIC_BASE_URL: front };
ports.forEach((port, i) => run(`web${i + 1}`, process.execPath, ['--import', 'tsx', 'src/main.ts'], { ...common, ROLE: 'web', PORT: String(port) }));
run('worker', process.execPath, ['--import', 'tsx', 'src/main.ts'], { ...common, ROLE: 'worker', PORT: String(await freePort()) });
const cfg = join(dir, 'haproxy.cfg');
writeFileSync(cfg, haproxyConfig(ports));
run('haproxy', values.haproxy, ['-db', '-f', cfg], {});
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());

// The front is up once HAProxy sees a ready replica.
for (let i = 0; i < 240 && !stopping; i++) {
  const ok = await fetch(`${front}/readyz`).then((r) => r.ok, () => false);
  if (ok) break;
  await new Promise((r) => setTimeout(r, 500));
}
process.stdout.write(`cluster: ${replicas} web replica(s) on ports ${ports.join(', ')} + 1 worker behind HAProxy\nFRONT ${front}\n`);
