import { describe, expect, it } from 'vitest';
import { BoxMeter, parseCpuLine, parsePressureTotalUs, summariseSamples, type BoxSample } from '../../bench/lib/boxMeter.js';
import { statCpuMs } from '../../bench/lib/load.js';

describe('box meter of the open-loop bench (bench/lib/boxMeter.ts)', () => {
  it('reads total and idle jiffies from /proc/stat (idle + iowait count as idle)', () => {
    const stat = 'cpu  100 5 50 800 20 3 2 10 0 0\ncpu0 50 2 25 400 10 1 1 5 0 0\n';
    expect(parseCpuLine(stat)).toEqual({ total: 990, idle: 820 });
    expect(() => parseCpuLine('intr 1 2 3')).toThrow();
  });

  it('reads a process\'s utime + stime from /proc/<pid>/stat, whatever its command name holds', () => {
    const stat = '4242 (postgres: a) b) S 1 4242 4242 0 -1 4194560 100 0 0 0 150 25 0 0 20 0 1 0 100 1000 50\n';
    expect(statCpuMs(stat)).toBe(1750); // (150 + 25) ticks of 10 ms
  });

  it('reads the "some" total of a PSI file, not the "full" one', () => {
    const psi = 'some avg10=0.59 avg60=3.80 avg300=10.04 total=62415092\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=7\n';
    expect(parsePressureTotalUs(psi)).toBe(62415092);
    expect(parsePressureTotalUs('')).toBeUndefined();
  });

  it('weights busy share by interval, sums pressure per second and counts saturated samples in a time range', () => {
    const samples: BoxSample[] = [
      { at: 1_000, busyPct: 20, pressureMs: 0, intervalMs: 50 },
      { at: 1_050, busyPct: 100, pressureMs: 45, intervalMs: 50 },
      { at: 1_150, busyPct: 50, pressureMs: 10, intervalMs: 100 },
      { at: 5_000, busyPct: 100, pressureMs: 50, intervalMs: 50 },
    ];
    expect(summariseSamples(samples, 1_000, 1_200)).toEqual({ box_cpu_busy_pct: 55, cpu_pressure_ms_per_s: 275, saturated_share: 0.333 });
    expect(summariseSamples(samples)).toMatchObject({ saturated_share: 0.5 });
    expect(summariseSamples(samples.map((s) => ({ ...s, pressureMs: null }))).cpu_pressure_ms_per_s).toBeNull();
  });

  it("charges this process's CPU to the generator, per turn", async () => {
    const meter = new BoxMeter(20);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let x = 0;
    while (performance.now() - t0 < 250) x += Math.sqrt(x + 1);
    const loop = process.cpuUsage(cpu0);
    const loopMs = (loop.user + loop.system) / 1000;
    await new Promise((r) => setTimeout(r, 60));
    const w = meter.stop(2);
    expect(x).toBeGreaterThan(0);
    expect(loopMs).toBeGreaterThan(20);
    expect(w.generator_cpu_ms_per_turn * 2).toBeGreaterThanOrEqual(loopMs - 1); // the loop's CPU, over 2 turns
    expect(w.box_cpu_busy_pct).toBeGreaterThan(0);
    expect(meter.samples.length).toBeGreaterThan(0);
  });
});
