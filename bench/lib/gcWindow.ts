/**
 * The bench's side of bench/lib/gcStats.mjs: reads the server child's cumulative GC counts and
 * turns two snapshots (the ends of a measured window) into per-window and per-turn numbers.
 */
import { existsSync, readFileSync } from 'node:fs';

export interface GcKindTotals {
  count: number;
  ms: number;
  max_ms: number;
}

export interface GcSnapshot {
  kinds: Record<string, GcKindTotals>;
  new_space_max_bytes: number;
  new_space_bytes: number;
}

export interface GcWindow {
  /** Per kind (scavenge, mark_sweep, incremental, weak_callbacks): collections and pause time in the window. */
  kinds: Record<string, { count: number; ms: number }>;
  scavenges_per_turn: number;
  /** Every kind's pause time, per answered turn (main thread). */
  gc_ms_per_turn: number;
  /** The young generation (new_space: both semi-spaces, committed) at the window's end and its largest since start. */
  new_space_mb: number;
  new_space_max_mb: number;
}

/** Two cumulative snapshots → the window between them. */
export function gcWindow(before: GcSnapshot, after: GcSnapshot, turns: number): GcWindow {
  const n = Math.max(1, turns);
  const kinds: GcWindow['kinds'] = {};
  let ms = 0;
  for (const [name, a] of Object.entries(after.kinds)) {
    const b = before.kinds[name] ?? { count: 0, ms: 0, max_ms: 0 };
    kinds[name] = { count: a.count - b.count, ms: Math.round((a.ms - b.ms) * 100) / 100 };
    ms += a.ms - b.ms;
  }
  return {
    kinds,
    scavenges_per_turn: Math.round(((kinds.scavenge?.count ?? 0) / n) * 1000) / 1000,
    gc_ms_per_turn: Math.round((ms / n) * 1000) / 1000,
    new_space_mb: Math.round((after.new_space_bytes / 2 ** 20) * 10) / 10,
    new_space_max_mb: Math.round((after.new_space_max_bytes / 2 ** 20) * 10) / 10,
  };
}

/** The newest snapshot the child wrote (it rewrites the file every 200 ms: wait that long first). */
export async function readGcSnapshot(file: string): Promise<GcSnapshot> {
  await new Promise((r) => setTimeout(r, 250));
  for (let waited = 0; waited < 5_000; waited += 100) {
    if (existsSync(file)) {
      try {
        return JSON.parse(readFileSync(file, 'utf8')) as GcSnapshot;
      } catch {
        // being replaced
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no GC snapshot from the server child (${file})`);
}

export function describeGc(w: GcWindow): string {
  const kinds = Object.entries(w.kinds)
    .filter(([, k]) => k.count > 0)
    .map(([name, k]) => `${name} ${k.count} (${k.ms} ms)`)
    .join(', ');
  return `gc (server main thread): ${kinds || 'none'}; ${w.scavenges_per_turn} scavenges/turn, ${w.gc_ms_per_turn} ms pause/turn; new space ${w.new_space_mb} MiB (max ${w.new_space_max_mb})`;
}
