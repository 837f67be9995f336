import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/**
 * The inference pool never terminates a worker thread inside onnxruntime's native session.run
 * (that aborts the whole process: exit 134). The pool runs in a real child process
 * (test/inference/poolChild.ts), so an abort is observed as such, not hidden by the test runner.
 * Breaking the guarantee on purpose (WorkerExecutor.retire calling worker.terminate()) makes the
 * `kill` child abort with 134 every time (see docs/notes/pool-outbound.md).
 */
interface ChildReport {
  requests: number;
  ok: number;
  busy: number;
  error: number;
  messages: string[];
  killsInBatch: number;
  restarts: number;
  alive: number;
  retired: number;
}

function runChild(mode: 'kill' | 'slow'): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/inference/poolChild.ts', mode], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

function report(out: { stdout: string }): ChildReport {
  const line = out.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as ChildReport;
}

describe('inference pool: a killed or hung worker is retired, never terminated mid-run', () => {
  it('kills a session under 64 concurrent requests, 10 rounds: the process lives and every request is answered', async () => {
    const out = await runChild('kill');
    expect(out.stderr).not.toMatch(/terminate called|Napi::Error/);
    expect({ code: out.code, signal: out.signal }).toEqual({ code: 0, signal: null });
    const r = report(out);
    expect(r.requests).toBe(640);
    expect(r.ok + r.busy + r.error).toBe(640); // every request got an answer (allSettled settled them all)
    expect(r.ok).toBe(640); // and with retries on another session, the answer was a result
    expect(r.killsInBatch).toBe(10); // each kill hit a session that was running a batch
    expect(r.restarts).toBe(10);
    expect(r.alive).toBe(2); // each killed session was replaced
    expect(r.retired).toBe(0); // and each killed thread ended by itself after its batch
  }, 180_000);

  it('watchdog: a really slow batch gets its session retired and replaced; the requests are served, the process lives', async () => {
    const out = await runChild('slow');
    expect(out.stderr).not.toMatch(/terminate called|Napi::Error/);
    expect({ code: out.code, signal: out.signal }).toEqual({ code: 0, signal: null });
    const r = report(out);
    expect(r.requests).toBe(64);
    expect(r.ok).toBe(64);
    expect(r.restarts).toBe(1); // retired by the watchdog
    expect(r.alive).toBe(1); // replaced
    expect(r.retired).toBe(0); // the slow thread finished its real session.run and ended on its own
  }, 180_000);
});
