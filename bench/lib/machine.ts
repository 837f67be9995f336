/**
 * What a result needs next to it to be reproducible: when, on what, and whether the machine was
 * quiet (load average below half a run-queue slot per core when the run started and when it ended).
 */
import os from 'node:os';

export interface MachineSnapshot {
  date: string;
  cpu: string;
  cores: number;
  node: string;
  loadavg_start: number[];
  loadavg_end?: number[];
  /** loadavg (1 min) < 0.5 × cores at both ends of the run. */
  quiet?: boolean;
}

const QUIET_LOAD_PER_CORE = 0.5;
const load = (): number[] => os.loadavg().map((v) => Math.round(v * 100) / 100);

export function machineAtStart(): MachineSnapshot {
  const cpus = os.cpus();
  return { date: new Date().toISOString(), cpu: cpus[0]?.model.trim() ?? 'unknown cpu', cores: cpus.length, node: process.version, loadavg_start: load() };
}

export function machineAtEnd(m: MachineSnapshot): Required<MachineSnapshot> {
  const end = load();
  const limit = QUIET_LOAD_PER_CORE * m.cores;
  return { ...m, loadavg_end: end, quiet: (m.loadavg_start[0] ?? Infinity) < limit && (end[0] ?? Infinity) < limit };
}

/** One line for a report: "2026-12-06T23:10Z, 2 × Intel Xeon …, loadavg 0.12 → 0.31: quiet". */
export function describeMachine(m: MachineSnapshot): string {
  const loads = `loadavg ${m.loadavg_start[0]}${m.loadavg_end ? ` → ${m.loadavg_end[0]}` : ''}`;
  const verdict = m.quiet === undefined ? '' : m.quiet ? ': quiet' : `: NOT quiet (needs < ${QUIET_LOAD_PER_CORE * m.cores} at both ends) — numbers are contended`;
  return `${m.date.slice(0, 16)}Z, ${m.cores} × ${m.cpu}, node ${m.node}, ${loads}${verdict}`;
}

/** Median and spread (min–max) of a list of ratios or rates. */
export function spread(xs: readonly number[]): { median: number; min: number; max: number; n: number } {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length === 0 ? NaN : s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0] ?? NaN, max: s[s.length - 1] ?? NaN, n: s.length };
}
