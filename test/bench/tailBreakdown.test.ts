import { describe, expect, it } from 'vitest';
import { summarise, type TraceSample } from '../../bench/lib/tailBreakdown.js';

const turn = (totalMs: number, startedMs: number, stages: Record<string, number>, attributes: Record<string, unknown> = {}): TraceSample => ({
  totalMs,
  startedMs,
  stages,
  attributes,
});

describe('tail breakdown of the open-loop bench', () => {
  // 99 fast turns spread over 99 s, one slow turn whose time went into the dialog and a lock wait.
  const fast = Array.from({ length: 99 }, (_, i) => turn(10, i * 1000, { nlu: 4, dialog: 6 }));
  const slow = turn(200, 50_500, { nlu: 5, dialog: 195 }, { turn_lock_wait_ms: 120, busy_reason: 'x' });
  const t = summarise([...fast, slow]);

  it('takes the slowest 1% of turns as the tail', () => {
    expect(t.turns).toBe(100);
    expect(t.trace_p99_ms).toBe(10);
    expect(t.trace_p50_ms).toBe(10);
    expect(t.tail_turns).toBe(1);
    expect(t.stages.dialog!.tail).toBe(195);
    expect(t.stages.turn_lock_wait_ms!.tail).toBe(120);
  });

  it('shows which stage the slow turns spent their time in, against all turns', () => {
    const many = Array.from({ length: 198 }, (_, i) => turn(10, i * 500, { nlu: 4, dialog: 6 }));
    const u = summarise([...many, turn(150, 10_000, { nlu: 5, dialog: 140 }), slow]);
    expect(u.tail_turns).toBe(2);
    expect(u.stages.dialog!.tail).toBeCloseTo((140 + 195) / 2);
    expect(u.stages.dialog!.all).toBeCloseTo((198 * 6 + 140 + 195) / 200);
    expect(u.stages.nlu!.tail).toBe(5);
    // A numeric wait attribute is shown beside the stages (0 for the turns that did not wait); others are not.
    expect(u.stages.turn_lock_wait_ms!.tail).toBe(60);
    expect(u.stages.busy_reason).toBeUndefined();
    expect(u.stages.total!.tail).toBe(175);
    // The two tail turns are 40 s apart: not bunched.
    expect(u.tail_max_share_in_1s).toBe(0.5);
  });

  it('sees a stall: tail turns that started within one second of each other', () => {
    const stall = [turn(300, 20_000, { dialog: 290 }), turn(280, 20_400, { dialog: 270 }), turn(260, 20_900, { dialog: 250 })];
    const u = summarise([...Array.from({ length: 297 }, (_, i) => turn(8, i * 300, { dialog: 5 })), ...stall]);
    expect(u.tail_turns).toBe(3);
    expect(u.tail_max_share_in_1s).toBe(1);
    expect(u.tail_bunch_start_ms).toBe(20_000);
  });

  it('dates the densest second of the tail, not its first turn', () => {
    // 400 fast turns; a lone slow turn at 5 s, then a bunch of three at 30.2–30.9 s.
    const slow = [turn(500, 5_000, {}), turn(300, 30_200, {}), turn(280, 30_600, {}), turn(260, 30_900, {})];
    const u = summarise([...Array.from({ length: 396 }, (_, i) => turn(8, i * 100, {})), ...slow]);
    expect(u.tail_turns).toBe(4);
    expect(u.tail_max_share_in_1s).toBe(0.75);
    expect(u.tail_bunch_start_ms).toBe(30_200);
  });
});
