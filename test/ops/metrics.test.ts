import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApp } from '../../src/app.js';
import { BUSY_TEXT } from '../../src/bot/bots/replies.js';
import { InferencePool, registerPoolMetrics } from '../../src/inference/pool/index.js';
import { makeActivity, post, startTestApp } from '../helpers/testApp.js';

const FIXTURE = 'test/fixtures/tiny-gpt2';

/** The value of one sample line (`name{labels} value`) in Prometheus text, or undefined. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const wanted = labels ? `${name}{${labels}}` : name;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    if (line.slice(0, space) === wanted) return Number(line.slice(space + 1));
  }
  return undefined;
}

describe('inference pool metrics (prom-client)', () => {
  it('count what the pool did', async () => {
    const pool = await InferencePool.create({
      modelPath: `${FIXTURE}/model.onnx`,
      padTokenId: 50256,
      intraOpNumThreads: 1,
      warmup: { seqLens: [4] },
      maxDelayMs: 300,
      queueMax: 3,
    });
    const registry = new Registry();
    registerPoolMetrics(registry, pool);
    try {
      const seqs = [[40, 41], [1, 2, 3, 4, 5], [9], [15, 16, 17]];
      // three queue up (held by maxDelayMs), the fourth is refused: the queue holds 3
      const queued = seqs.slice(0, 3).map((s) => pool.run([s]));
      const depth = sample(await registry.metrics(), 'rpa_inference_queue_depth');
      await expect(pool.run([seqs[3]!])).rejects.toThrow(/queue is full/);
      await Promise.all(queued);
      for (const s of seqs) await pool.run([s]);

      const text = await registry.metrics();
      const stats = pool.stats();
      expect(depth).toBe(3);
      expect(sample(text, 'rpa_inference_queue_depth')).toBe(0);
      expect(sample(text, 'rpa_inference_requests_total', 'outcome="ok"')).toBe(7);
      expect(sample(text, 'rpa_inference_requests_total', 'outcome="busy"')).toBe(1);
      expect(sample(text, 'rpa_inference_requests_rejected_total', 'reason="queue_full"')).toBe(1);
      expect(sample(text, 'rpa_inference_batch_size_count')).toBe(stats.batches);
      expect(sample(text, 'rpa_inference_batch_size_sum')).toBe(7);
      expect(sample(text, 'rpa_inference_batch_seconds_count')).toBe(stats.batches);
      expect(sample(text, 'rpa_inference_request_seconds_count')).toBe(7);
      // the three queued requests rode in one batch
      expect(sample(text, 'rpa_inference_batch_size_bucket', 'le="2"')).toBe(stats.batches - 1);
      expect(sample(text, 'rpa_inference_provider', 'provider="cpu",requested="cpu"')).toBe(1);
      expect(sample(text, 'rpa_inference_ready')).toBe(1);
      expect(sample(text, 'rpa_inference_sessions', 'state="alive"')).toBe(1);
      expect(sample(text, 'rpa_inference_session_restarts_total')).toBe(0);
    } finally {
      await pool.close();
    }
  });
});

describe('GET /metrics, /readyz and the busy reply on the running app (fixture model, embedded database)', () => {
  let app: RunningApp;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'rpa-metrics-'));
    app = await startTestApp(
      { DATA_DIR: dataDir },
      {
        MODEL_DIR: FIXTURE,
        INFERENCE_PROVIDER: 'cuda', // not on this machine: falls back to CPU
        INFERENCE_SESSIONS: '1',
        INFERENCE_INTRA_THREADS: '1',
        INFERENCE_QUEUE_MAX: '1',
        // Holds a lone request for company: with a queue of one, the next concurrent turn is refused.
        INFERENCE_MAX_DELAY_MS: '1000',
      },
      { recognizer: undefined },
    );
  });

  afterAll(async () => {
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const turn = async (text: string, conversationId: string) => {
    const res = await post(
      `${app.url}/api/messages`,
      makeActivity({ serviceUrl: 'http://127.0.0.1:65535', text, conversationId, deliveryMode: 'expectReplies' }),
    );
    expect(res.status).toBe(200);
    return (res.json as { activities: { text: string }[] }).activities.map((a) => a.text);
  };

  it('reports the provider actually in use, and why, on /readyz', async () => {
    const res = await fetch(`${app.url}/readyz`);
    const body = (await res.json()) as { ready: boolean; checks: { inference: Record<string, unknown> } };
    expect(res.status).toBe(200);
    expect(body.ready).toBe(true);
    expect(body.checks.inference).toMatchObject({ ready: true, provider: 'cpu', requestedProvider: 'cuda' });
    expect(String(body.checks.inference.fallbackReason)).toMatch(/cuda/i);
  });

  it('answers "busy" when the inference queue is full, records it in the trace, and counts it in /metrics', async () => {
    const before = await (await fetch(`${app.url}/metrics`)).text();
    const ok0 = sample(before, 'rpa_inference_requests_total', 'outcome="ok"')!;
    expect(ok0).toBeGreaterThanOrEqual(1); // loadNlu's warm-up call went through the pool

    const replies = await Promise.all([turn('hello there', 'metrics-a'), turn('status of PO-1001', 'metrics-b'), turn('help', 'metrics-c')]);
    const busy = replies.filter((r) => r.includes(BUSY_TEXT));
    expect(busy.length).toBeGreaterThanOrEqual(1);
    expect(busy.length).toBeLessThanOrEqual(2);
    // a later turn is served again
    expect((await turn('thanks', 'metrics-d'))[0]).not.toBe(BUSY_TEXT);

    const res = await fetch(`${app.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await res.text();
    const served = 4 - busy.length;
    expect(sample(text, 'rpa_inference_requests_total', 'outcome="ok"')).toBe(ok0 + served);
    expect(sample(text, 'rpa_inference_requests_total', 'outcome="busy"')).toBe(busy.length);
    expect(sample(text, 'rpa_inference_requests_rejected_total', 'reason="queue_full"')).toBe(busy.length);
    expect(sample(text, 'rpa_inference_provider', 'provider="cpu",requested="cuda"')).toBe(1);
    expect(sample(text, 'rpa_inference_queue_depth')).toBe(0);
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);

    await app.traceWriter.flush();
    const { traces } = (await (await fetch(`${app.url}/api/traces?limit=100`)).json()) as {
      traces: { conversationId?: string; outcome: string; stages: Record<string, number>; attributes: Record<string, unknown> }[];
    };
    const mine = traces.filter((t) => t.conversationId?.startsWith('metrics-'));
    expect(mine.filter((t) => t.outcome === 'busy')).toHaveLength(busy.length);
    for (const t of mine.filter((x) => x.outcome === 'busy')) expect(t.attributes.busy_reason).toBe('queue_full');
    for (const t of mine.filter((x) => x.outcome === 'ok')) {
      expect(t.stages).toHaveProperty('queue_wait');
      expect(t.stages).toHaveProperty('inference');
      expect(t.stages).toHaveProperty('tokenize');
      expect(t.attributes.batch_size).toBeGreaterThanOrEqual(1);
    }
  });
});
