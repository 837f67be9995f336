import { randomUUID } from 'node:crypto';
import { readFileSync, existsSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

/** One user message as a Bot Framework channel posts it, for the load generators. */
export function benchMessage(serviceUrl: string, conversationId: string, from: { id: string; name: string }, text: string | undefined) {
  return {
    type: 'message',
    id: randomUUID(),
    channelId: 'bench',
    serviceUrl,
    conversation: { id: conversationId },
    from,
    recipient: { id: 'bot', name: 'RPA Assistant' },
    text,
    timestamp: new Date().toISOString(),
  };
}

export const quantile = (sorted: readonly number[], q: number): number =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;

export const round = (n: number, digits = 2): number => {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
};

/**
 * Realistic utterances: the training splits (what users of this bot type), else the raw intent
 * files. Deterministically shuffled so consecutive requests have mixed lengths.
 */
export function loadUtterances(root: string, limit = 5000): string[] {
  const texts: string[] = [];
  const splits = path.join(root, 'training/splits');
  for (const f of ['test.jsonl', 'val.jsonl', 'train.jsonl']) {
    const file = path.join(splits, f);
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const t = (JSON.parse(line) as { text?: unknown }).text;
      if (typeof t === 'string' && t.trim()) texts.push(t);
    }
  }
  if (texts.length === 0) {
    const dir = path.join(root, 'training/data/intents');
    for (const f of existsSync(dir) ? readdirSync(dir) : []) {
      for (const line of readFileSync(path.join(dir, f), 'utf8').split('\n')) if (line.trim() && !line.startsWith('#')) texts.push(line.trim());
    }
  }
  if (texts.length === 0) throw new Error('no utterances found under training/splits or training/data/intents');
  // xorshift shuffle, fixed seed
  let s = 0x9e3779b9;
  const rnd = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
  for (let i = texts.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [texts[i], texts[j]] = [texts[j]!, texts[i]!];
  }
  return texts.slice(0, limit);
}

/** Busy and total CPU time of the whole machine (ms, all cores), from /proc/stat; undefined elsewhere. */
function machineCpu(): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = f;
    const tick = 1000 / 100; // USER_HZ is 100 on Linux
    return { busy: (user + nice + system + irq + softirq + steal) * tick, total: (user + nice + system + idle + iowait + irq + softirq + steal) * tick };
  } catch {
    return undefined;
  }
}

/**
 * Samples this process's CPU time (all threads, workers included) and peak RSS over a run, and
 * how much CPU everything else on the machine used meanwhile (other helpers' tests, training).
 */
export class ResourceMeter {
  private readonly machine0 = machineCpu();
  private readonly cpu0 = process.cpuUsage();
  private readonly t0 = performance.now();
  private peakRss = process.memoryUsage.rss();
  private readonly timer = setInterval(() => {
    this.peakRss = Math.max(this.peakRss, process.memoryUsage.rss());
  }, 25);

  /** CPU % (100 = one core busy), other processes' CPU % and peak RSS in MiB since construction. */
  stop(): { cpuPct: number; otherCpuPct: number; peakRssMb: number; wallMs: number } {
    clearInterval(this.timer);
    this.peakRss = Math.max(this.peakRss, process.memoryUsage.rss());
    const cpu = process.cpuUsage(this.cpu0);
    const wallMs = performance.now() - this.t0;
    const cpuPct = ((cpu.user + cpu.system) / 1000 / wallMs) * 100;
    const m1 = machineCpu();
    let otherCpuPct = 0;
    if (this.machine0 && m1 && m1.total > this.machine0.total) {
      const busyPct = ((m1.busy - this.machine0.busy) / (m1.total - this.machine0.total)) * os.cpus().length * 100;
      otherCpuPct = Math.max(0, busyPct - cpuPct);
    }
    return { cpuPct, otherCpuPct, peakRssMb: this.peakRss / 2 ** 20, wallMs };
  }
}

export interface LoadResult {
  concurrency: number;
  requests: number;
  errors: number;
  seconds: number;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  mean: number;
  cpuPct: number;
  /** CPU used by other processes meanwhile (100 = one core): contention during the measurement. */
  otherCpuPct: number;
  peakRssMb: number;
}

/**
 * Closed loop: `concurrency` virtual users, each sending its next request as soon as the last one
 * answered, for `seconds` (after `warmSeconds` not counted) or until `maxRequests`.
 */
export async function closedLoop(
  concurrency: number,
  inputs: readonly string[],
  call: (text: string) => Promise<unknown>,
  opts: { seconds: number; warmSeconds?: number; maxRequests?: number },
): Promise<LoadResult> {
  let next = 0;
  const pick = () => inputs[next++ % inputs.length]!;
  // warm-up phase (JIT, allocators, the pool's batch shapes at this load)
  const warmEnd = performance.now() + (opts.warmSeconds ?? 0) * 1000;
  if (opts.warmSeconds) {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < warmEnd) await call(pick()).catch(() => undefined);
      }),
    );
  }
  const latencies: number[] = [];
  let errors = 0;
  const meter = new ResourceMeter();
  const t0 = performance.now();
  const end = t0 + opts.seconds * 1000;
  const max = opts.maxRequests ?? Number.POSITIVE_INFINITY;
  let started = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end && started < max) {
        started++;
        const t = performance.now();
        try {
          await call(pick());
          latencies.push(performance.now() - t);
        } catch {
          errors++;
        }
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const res = meter.stop();
  latencies.sort((a, b) => a - b);
  return {
    concurrency,
    requests: latencies.length,
    errors,
    seconds,
    rps: latencies.length / seconds,
    p50: quantile(latencies, 0.5),
    p95: quantile(latencies, 0.95),
    p99: quantile(latencies, 0.99),
    mean: latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length),
    cpuPct: res.cpuPct,
    otherCpuPct: res.otherCpuPct,
    peakRssMb: res.peakRssMb,
  };
}

/** CPU ticks (user + system) and resident memory of another process, from /proc (Linux). */
/** CPU time (user + system, all threads; 10 ms ticks) of a /proc/<pid>/stat line. */
export function statCpuMs(stat: string): number {
  // Fields after the parenthesised command name; utime and stime are the 14th and 15th fields.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

function procUsage(pid: number): { cpuMs: number; rssMb: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    return { cpuMs: statCpuMs(stat), rssMb: rssKb / 1024 };
  } catch {
    return undefined;
  }
}

/** ResourceMeter for a child process (the server in bench:e2e): its CPU % and peak RSS. */
export class ProcessMeter {
  private readonly cpu0: number;
  private readonly t0 = performance.now();
  private peakRss = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pid: number) {
    const u = procUsage(pid);
    this.cpu0 = u?.cpuMs ?? 0;
    this.peakRss = u?.rssMb ?? 0;
    this.timer = setInterval(() => {
      this.peakRss = Math.max(this.peakRss, procUsage(pid)?.rssMb ?? 0);
    }, 50);
  }

  /** cpuMs: CPU time (user + system, all threads) the process used since construction (10 ms ticks). */
  stop(): { cpuPct: number; cpuMs: number; peakRssMb: number; wallMs: number } {
    clearInterval(this.timer);
    const u = procUsage(this.pid);
    const wallMs = performance.now() - this.t0;
    this.peakRss = Math.max(this.peakRss, u?.rssMb ?? 0);
    const cpuMs = u ? u.cpuMs - this.cpu0 : NaN;
    return { cpuPct: (cpuMs / wallMs) * 100, cpuMs, peakRssMb: this.peakRss, wallMs };
  }
}
