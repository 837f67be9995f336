/**
 * The open-loop generator's own CPU per request: global fetch (undici, what bench/lib/openLoop.ts
 * used until 2026-12-07) against node:http with a keep-alive agent (bench/lib/postJson.ts), in
 * interleaved rounds, against a minimal HTTP server in a child process (its CPU is not counted).
 * The generator shares the box with the server it measures, so its CPU is load on the measurement.
 *
 *   npx tsx bench/generatorCost.ts [--rate 200] [--seconds 5] [--rounds 4]
 */
import { fork } from 'node:child_process';
import { parseArgs } from 'node:util';
import { postJson } from './lib/postJson.js';
import { benchMessage } from './lib/load.js';

const { values } = parseArgs({
  options: { rate: { type: 'string', default: '200' }, seconds: { type: 'string', default: '5' }, rounds: { type: 'string', default: '4' }, child: { type: 'boolean', default: false } },
});

if (values.child) {
  // The target: answers every POST with 200 and a small JSON body once the request has been read.
  const { createServer } = await import('node:http');
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"1"}'));
  });
  server.listen(0, '127.0.0.1', () => process.send!((server.address() as { port: number }).port));
} else {
  const rate = Number(values.rate);
  const seconds = Number(values.seconds);
  const child = fork(new URL(import.meta.url).pathname, ['--child'], { execArgv: ['--import', 'tsx'] });
  const port = await new Promise<number>((r) => child.once('message', (m) => r(Number(m))));
  const url = new URL(`http://127.0.0.1:${port}/api/messages`);
  const body = (i: number) => JSON.stringify(benchMessage('http://127.0.0.1:1', `gen-${i % 50}`, { id: 'u', name: 'Bench User' }, 'what is the status of PO-1001?'));
  const clients = {
    fetch: async (i: number) => {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body(i), signal: AbortSignal.timeout(30_000) });
      await res.arrayBuffer();
      return res.status;
    },
    'node:http': (i: number) => postJson(url, body(i), {}, 30_000),
  };
  const round = async (name: keyof typeof clients): Promise<number> => {
    const n = rate * seconds;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const inflight: Promise<number>[] = [];
    for (let i = 0; i < n; i++) {
      const wait = t0 + (i * 1000) / rate - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      inflight.push(clients[name](i));
    }
    const statuses = await Promise.all(inflight);
    if (statuses.some((s) => s !== 200)) throw new Error(`${name}: non-200 answers`);
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / n; // µs per request
  };
  await round('fetch');
  await round('node:http'); // warm both
  const order: (keyof typeof clients)[] = [];
  for (let r = 0; r < Number(values.rounds); r++) order.push(...(r % 2 === 0 ? (['fetch', 'node:http'] as const) : (['node:http', 'fetch'] as const)));
  const got: Record<string, number[]> = { fetch: [], 'node:http': [] };
  for (const name of order) got[name]!.push(await round(name));
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(`${new Date().toISOString()} load ${(await import('node:os')).loadavg().map((x) => x.toFixed(2)).join(' ')}; ${rate}/s × ${seconds} s per round`);
  for (const [name, xs] of Object.entries(got)) console.log(`${name.padEnd(10)} CPU µs per request: ${xs.map((x) => x.toFixed(0)).join(' ')} (median ${median(xs).toFixed(0)})`);
  console.log(`node:http / fetch: ${(median(got['node:http']!) / median(got.fetch!)).toFixed(2)}`);
  child.kill();
}
