import type pg from 'pg';

/**
 * Where the slowest turns spend their time, from the server's own traces (turn_traces): for the
 * slowest 1% of turns (at least one), each stage's mean against its mean over all turns, and how
 * bunched in time those turns are. A tail that the traces do not show (client p99 far above the
 * traces' p99) was spent before the turn started: in the event loop, HTTP parsing or GC.
 */
export interface TailBreakdown {
  turns: number;
  trace_p50_ms: number;
  trace_p99_ms: number;
  tail_turns: number;
  /** stage → { all: mean ms over every turn, tail: mean ms over the tail turns } (a stage a turn did not run counts 0). */
  stages: Record<string, { all: number; tail: number }>;
  /** Largest share of the tail turns that started within one second of each other (1/tail_turns = spread out). */
  tail_max_share_in_1s: number;
  /** When that second began (epoch ms, the first tail turn in it): where to look for what the box was doing. */
  tail_bunch_start_ms: number;
}

const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;

/** Numeric attributes worth showing beside the stages (waits a stage does not time). */
const ATTRIBUTES = ['turn_lock_wait_ms'];

export async function tailBreakdown(db: pg.Client, conversationPrefix: string): Promise<TailBreakdown | null> {
  const { rows } = await db.query<{ total_ms: number; started_ms: string; stages: Record<string, number>; attributes: Record<string, unknown> }>(
    `SELECT total_ms, (extract(epoch FROM started_at) * 1000)::text AS started_ms, stages, attributes
       FROM turn_traces WHERE conversation_id LIKE $1`,
    [`${conversationPrefix}%`],
  );
  if (rows.length === 0) return null;
  return summarise(rows.map((r) => ({ totalMs: r.total_ms, startedMs: Number(r.started_ms), stages: r.stages ?? {}, attributes: r.attributes ?? {} })));
}

export interface TraceSample {
  totalMs: number;
  startedMs: number;
  stages: Record<string, number>;
  attributes: Record<string, unknown>;
}

/** Pure part of tailBreakdown (tested). */
export function summarise(samples: readonly TraceSample[]): TailBreakdown {
  const sorted = samples.map((s) => s.totalMs).sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
  const p99 = at(0.99);
  const tail = [...samples].sort((a, b) => b.totalMs - a.totalMs).slice(0, Math.max(1, Math.ceil(samples.length / 100)));
  const parts = (s: TraceSample): Record<string, number> => {
    const out: Record<string, number> = { ...s.stages };
    for (const a of ATTRIBUTES) if (typeof s.attributes[a] === 'number') out[a] = s.attributes[a];
    return out;
  };
  const names = new Set<string>();
  for (const s of samples) for (const k of Object.keys(parts(s))) names.add(k);
  const mean = (set: readonly TraceSample[], k: string): number => set.reduce((sum, s) => sum + (parts(s)[k] ?? 0), 0) / Math.max(1, set.length);
  const stages: TailBreakdown['stages'] = {};
  for (const k of [...names].sort()) stages[k] = { all: round(mean(samples, k)), tail: round(mean(tail, k)) };
  stages.total = { all: round(samples.reduce((s, x) => s + x.totalMs, 0) / samples.length), tail: round(tail.reduce((s, x) => s + x.totalMs, 0) / Math.max(1, tail.length)) };
  const starts = tail.map((s) => s.startedMs).sort((a, b) => a - b);
  let best = 0;
  let bunchStart = starts[0] ?? NaN;
  for (let i = 0, j = 0; j < starts.length; j++) {
    while (starts[j]! - starts[i]! > 1000) i++;
    if (j - i + 1 > best) {
      best = j - i + 1;
      bunchStart = starts[i]!;
    }
  }
  return {
    turns: samples.length,
    trace_p50_ms: round(at(0.5)),
    trace_p99_ms: round(p99),
    tail_turns: tail.length,
    stages,
    tail_max_share_in_1s: round(best / Math.max(1, tail.length), 3),
    tail_bunch_start_ms: bunchStart,
  };
}

export function describeTail(t: TailBreakdown): string[] {
  const lines = [
    `tail (server traces, ${t.turns} turns): trace p50 ${t.trace_p50_ms} ms, p99 ${t.trace_p99_ms} ms; the slowest ${t.tail_turns} turns (1%), ` +
      `${Math.round(t.tail_max_share_in_1s * 100)}% of them within one second:`,
  ];
  for (const [k, v] of Object.entries(t.stages)) lines.push(`  ${k.padEnd(20)} mean ${String(v.all).padStart(8)} ms   tail ${String(v.tail).padStart(8)} ms`);
  return lines;
}
