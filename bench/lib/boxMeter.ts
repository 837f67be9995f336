/**
 * Where the box's CPU went during a measured window, beside the server's own CPU: the whole box's
 * busy share (/proc/stat), CPU pressure (/proc/pressure/cpu: time in which some runnable task
 * waited for a core), the load generator's own CPU (this process: it shares the box with the
 * server it measures) and PostgreSQL's (every `postgres` process on the box). Sampled every
 * 50 ms, so a stall of the tail can be put beside what the box was doing in that second.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { statCpuMs } from './load.js';

export interface BoxSample {
  /** End of the interval, epoch ms. */
  at: number;
  /** Share of the box's CPU time busy in the interval, 0–100. */
  busyPct: number;
  /** Milliseconds of the interval in which some task waited for a core (null: no PSI). */
  pressureMs: number | null;
  intervalMs: number;
}

export interface BoxStats {
  box_cpu_busy_pct: number;
  /** Milliseconds per second in which some runnable task waited for a core (null: no /proc/pressure). */
  cpu_pressure_ms_per_s: number | null;
  /** Share of the 50 ms samples in which the box was at least 95% busy. */
  saturated_share: number;
}

export interface BoxWindow extends BoxStats {
  generator_cpu_ms_per_turn: number;
  /** null when no postgres process runs on this box (a remote server). */
  postgres_cpu_ms_per_turn: number | null;
}

/** Total and idle (idle + iowait) jiffies of the first line of /proc/stat. */
export function parseCpuLine(stat: string): { total: number; idle: number } {
  const fields = stat.slice(0, stat.indexOf('\n') === -1 ? undefined : stat.indexOf('\n')).trim().split(/\s+/);
  if (fields[0] !== 'cpu') throw new Error('not a /proc/stat cpu line');
  const n = fields.slice(1, 9).map(Number);
  return { total: n.reduce((a, b) => a + b, 0), idle: n[3]! + n[4]! };
}

/** The `some` line's total (µs) of a /proc/pressure file. */
export function parsePressureTotalUs(text: string): number | undefined {
  const m = /^some .*\btotal=(\d+)/m.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** Busy share, pressure and saturation of the samples whose interval ends in [from, to]. */
export function summariseSamples(samples: readonly BoxSample[], from = -Infinity, to = Infinity): BoxStats {
  const inside = samples.filter((s) => s.at >= from && s.at <= to);
  const ms = inside.reduce((a, s) => a + s.intervalMs, 0);
  const withPressure = inside.filter((s) => s.pressureMs !== null);
  const pressureSpan = withPressure.reduce((a, s) => a + s.intervalMs, 0);
  return {
    box_cpu_busy_pct: ms > 0 ? round(inside.reduce((a, s) => a + s.busyPct * s.intervalMs, 0) / ms, 1) : NaN,
    cpu_pressure_ms_per_s: pressureSpan > 0 ? round((withPressure.reduce((a, s) => a + s.pressureMs!, 0) / pressureSpan) * 1000, 1) : null,
    saturated_share: inside.length > 0 ? round(inside.filter((s) => s.busyPct >= 95).length / inside.length, 3) : NaN,
  };
}

const round = (x: number, d: number): number => Math.round(x * 10 ** d) / 10 ** d;

function readPressureUs(): number | undefined {
  try {
    return parsePressureTotalUs(readFileSync('/proc/pressure/cpu', 'utf8'));
  } catch {
    return undefined;
  }
}

/** CPU ms of every process named `postgres` (undefined when there is none). */
export function postgresCpuMs(): number | undefined {
  let ms = 0;
  let found = false;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) !== 'postgres') continue;
      ms += statCpuMs(stat);
      found = true;
    } catch {
      // the process ended between readdir and read
    }
  }
  return found ? ms : undefined;
}

/**
 * Samples the box every `intervalMs` from construction to `stop`. Processes that start or end in
 * the window count for the part of it they ran (a backend that ended takes its CPU with it, so
 * PostgreSQL's figure is a lower bound when connections close inside the window).
 */
export class BoxMeter {
  readonly samples: BoxSample[] = [];
  private readonly timer: NodeJS.Timeout;
  private last: { at: number; cpu: { total: number; idle: number }; pressureUs: number | undefined };
  private readonly generator0 = process.cpuUsage();
  private readonly postgres0 = postgresCpuMs();

  constructor(intervalMs = 50) {
    this.last = { at: Date.now(), cpu: parseCpuLine(readFileSync('/proc/stat', 'utf8')), pressureUs: readPressureUs() };
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  private sample(): void {
    const now = { at: Date.now(), cpu: parseCpuLine(readFileSync('/proc/stat', 'utf8')), pressureUs: readPressureUs() };
    const total = now.cpu.total - this.last.cpu.total;
    if (total > 0 && now.at > this.last.at) {
      this.samples.push({
        at: now.at,
        busyPct: (100 * (total - (now.cpu.idle - this.last.cpu.idle))) / total,
        pressureMs: now.pressureUs !== undefined && this.last.pressureUs !== undefined ? (now.pressureUs - this.last.pressureUs) / 1000 : null,
        intervalMs: now.at - this.last.at,
      });
      this.last = now;
    }
  }

  stop(turns: number): BoxWindow {
    this.sample();
    clearInterval(this.timer);
    const g = process.cpuUsage(this.generator0);
    const pg1 = postgresCpuMs();
    const n = Math.max(1, turns);
    return {
      ...summariseSamples(this.samples),
      generator_cpu_ms_per_turn: round((g.user + g.system) / 1000 / n, 3),
      postgres_cpu_ms_per_turn: this.postgres0 !== undefined && pg1 !== undefined ? round(Math.max(0, pg1 - this.postgres0) / n, 3) : null,
    };
  }
}
