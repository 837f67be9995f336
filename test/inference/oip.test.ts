/**
 * INFERENCE_BACKEND=remote: the pool's batches over the Open Inference Protocol (KServe v2 REST),
 * against our own `inference:serve` server on loopback (real HTTP, the tiny model).
 */
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnnxClassifierSession } from '../../src/inference/onnxSession.js';
import { GptTokenizer } from '../../src/inference/tokenizer.js';
import { createModelPool, isBusyError, type InferencePool } from '../../src/inference/pool/index.js';
import { createOipServer } from '../../src/inference/remote/oipServer.js';
import { createRemotePool } from '../../src/inference/remote/remotePool.js';
import { loadNlu } from '../../src/nlu/NluPipeline.js';
import { TurnTrace, runWithTrace } from '../../src/tracing/turnTrace.js';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { freshPgliteDataDir } from '../helpers/databases.js';
import { startTestApp } from '../helpers/testApp.js';

const FIXTURE = 'test/fixtures/tiny-gpt2';
const NAME = 'intent-gpt2-smoke';
const TEXTS = [
  'hi',
  'raise a PO for 200 steel bearings from Globex',
  'what is the status of PO-10452',
  'move 40 boxes of gloves from WH-A to Rotterdam tomorrow',
  'thanks!',
  'what is the weather in paris',
  'cancel order 7',
  '日本語のテキスト 😀',
  'approve PO-1003',
];

async function listen(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

const same = (a: Float32Array, b: Float32Array): boolean => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

describe('remote pool against inference:serve (loopback HTTP)', () => {
  let serverPool: InferencePool;
  let server: Server;
  let url: string;
  let remote: InferencePool;
  let seqs: number[][];

  beforeAll(async () => {
    serverPool = await createModelPool(FIXTURE, { sessions: 1, workers: false, intraOpNumThreads: 1, maxBatchSize: 8, warmup: { seqLens: [8] } });
    server = createOipServer({ runner: serverPool, modelName: NAME, numLabels: 16, ready: () => serverPool.ready });
    url = await listen(server);
    remote = await createRemotePool(FIXTURE, { url, modelName: NAME, sessions: 2, maxBatchSize: 8, timeoutMs: 10_000, warmup: { seqLens: [8] } });
    const tokenizer = await GptTokenizer.fromDir(FIXTURE, { maxLength: 32, padTokenId: 50256 });
    seqs = TEXTS.map((t) => tokenizer.encode(t));
  });

  afterAll(async () => {
    await remote?.close();
    if (server) await stop(server);
    await serverPool?.close();
  });

  it('gives every row, batched with others over HTTP, the logits of a local session run alone (bit for bit)', async () => {
    const session = await OnnxClassifierSession.load(`${FIXTURE}/model.onnx`, { padTokenId: 50256, intraOpNumThreads: 1 });
    try {
      const alone: Float32Array[] = [];
      for (const s of seqs) alone.push((await session.run([s])).logits[0]!);
      // Concurrent callers: the remote pool batches them, the server's pool batches again.
      const [one, ...many] = await Promise.all([remote.run(seqs), ...seqs.map((s) => remote.run([s]))]);
      one!.logits.forEach((row, i) => expect(same(row, alone[i]!), `row ${i} in one request`).toBe(true));
      many.forEach((r, i) => expect(same(r.logits[0]!, alone[i]!), `row ${i} alone`).toBe(true));
      expect(remote.stats()).toMatchObject({ mode: 'remote', provider: 'remote', requests: { error: 0 } });
      expect(remote.stats().batches).toBeLessThan(1 + seqs.length + 20); // warm-up batches + ours, merged
    } finally {
      await session.close();
    }
  });

  it('the NLU over the remote pool decides as over a local session, and traces inference and network apart', async () => {
    const plain = await loadNlu(FIXTURE);
    // A second remote pool (loadNlu closes its runner with it).
    const runner = await createRemotePool(FIXTURE, { url, modelName: NAME, sessions: 1, maxBatchSize: 8, timeoutMs: 10_000, warmup: false });
    const pooled = await loadNlu(FIXTURE, { runner });
    try {
      const trace = new TurnTrace({});
      const results = await runWithTrace(trace, () => Promise.all(TEXTS.map((t) => pooled.recognize(t))));
      const expected = await Promise.all(TEXTS.map((t) => plain.recognize(t)));
      expect(results.map((r) => [r.intent, r.confidence])).toEqual(expected.map((r) => [r.intent, r.confidence]));
      const record = trace.end();
      // inference = what our server reported for its batches; network = the rest of the round trip.
      expect(record.stages.inference).toBeGreaterThan(0);
      expect(record.stages.network).toBeGreaterThanOrEqual(0);
      expect(record.stages.queue_wait).toBeGreaterThanOrEqual(0);
    } finally {
      await pooled.close();
      await plain.close();
    }
  });

  it('the app with INFERENCE_BACKEND=remote serves its NLU through the server, and /readyz says so', async () => {
    const before = serverPool.stats().requests.ok;
    const app = await startTestApp(
      { DATA_DIR: await freshPgliteDataDir() },
      { MODEL_DIR: FIXTURE, INFERENCE_BACKEND: 'remote', INFERENCE_URL: url, INFERENCE_MODEL_NAME: NAME, INFERENCE_SESSIONS: '1', INFERENCE_MAX_BATCH: '4' },
      { recognizer: undefined },
    );
    try {
      const res = await fetch(`${app.url}/readyz`);
      const body = (await res.json()) as { checks?: { inference?: unknown }; inference?: unknown };
      expect(res.status).toBe(200);
      expect(JSON.stringify(body)).toMatch(/"mode":"remote"/);
      expect(JSON.stringify(body)).toMatch(/"provider":"remote"/);
      // Its warm-up and loadNlu's check went to our server.
      expect(serverPool.stats().requests.ok).toBeGreaterThan(before);
    } finally {
      await app.close();
    }
  });

  it('refuses a model the server does not serve, at start-up, with a clear message', async () => {
    await expect(createRemotePool(FIXTURE, { url, modelName: 'nope', warmup: false })).rejects.toThrow(/model "nope" is not ready/);
  });
});

describe('configuration', () => {
  it('INFERENCE_BACKEND=remote needs INFERENCE_URL; with it the remote settings reach the app', () => {
    expect(() => loadConfig({ INFERENCE_BACKEND: 'remote' })).toThrow(ConfigError);
    expect(() => loadConfig({ INFERENCE_BACKEND: 'remote' })).toThrow(/INFERENCE_URL: required/);
    expect(() => loadConfig({ INFERENCE_BACKEND: 'remote', INFERENCE_URL: 'ftp://x' })).toThrow(/INFERENCE_URL/);
    expect(loadConfig({}).inference).toMatchObject({ backend: 'local' });
    expect(loadConfig({}).inference.remote).toBeUndefined();
    expect(loadConfig({ INFERENCE_BACKEND: 'remote', INFERENCE_URL: 'http://triton:8000' }).inference).toMatchObject({
      backend: 'remote',
      remote: { url: 'http://triton:8000', modelName: 'intent-gpt2' },
    });
  });
});

describe('inference server down or overloaded: a clear busy result, no hang', () => {
  it('start-up against a closed port fails at once saying the server is unreachable', async () => {
    const s = createOipServer({ runner: { provider: 'x', run: () => Promise.reject(new Error('unused')), close: async () => {} }, modelName: NAME, numLabels: 16 });
    const url = await listen(s);
    await stop(s); // the port is now closed
    await expect(createRemotePool(FIXTURE, { url, modelName: NAME, warmup: false })).rejects.toThrow(/unreachable/);
  });

  it('a server that goes away mid-life: requests fail as busy (`unavailable`) long before their deadline', async () => {
    const serverPool = await createModelPool(FIXTURE, { sessions: 1, workers: false, intraOpNumThreads: 1, warmup: false });
    const s = createOipServer({ runner: serverPool, modelName: NAME, numLabels: 16 });
    const url = await listen(s);
    // A 60 s deadline: a `timeout` here would mean the request hung until then.
    const remote = await createRemotePool(FIXTURE, { url, modelName: NAME, timeoutMs: 60_000, warmup: false });
    try {
      expect((await remote.run([[1, 2, 3]])).logits).toHaveLength(1);
      await stop(s);
      const err = await remote.run([[1, 2, 3]]).catch((e: unknown) => e);
      expect(isBusyError(err)).toBe(true);
      expect(err).toMatchObject({ reason: 'unavailable', message: expect.stringMatching(/unreachable/) });
      expect(remote.stats().requests).toMatchObject({ error: 1, timeout: 0 });
    } finally {
      await remote.close();
      await serverPool.close();
    }
  });

  it('a server that accepts the connection and never answers: busy (`timeout`) at the deadline', async () => {
    const serverPool = await createModelPool(FIXTURE, { sessions: 1, workers: false, intraOpNumThreads: 1, warmup: false });
    let hang = false;
    const real = createOipServer({ runner: serverPool, modelName: NAME, numLabels: 16 });
    const s = (await import('node:http')).createServer((req, res) => {
      if (!hang) real.emit('request', req, res);
      // else: never answer
    });
    const url = await listen(s);
    const remote = await createRemotePool(FIXTURE, { url, modelName: NAME, timeoutMs: 500, warmup: false });
    try {
      hang = true;
      const err = await remote.run([[1, 2, 3]]).catch((e: unknown) => e);
      expect(isBusyError(err)).toBe(true);
      expect(err).toMatchObject({ reason: 'timeout' });
    } finally {
      await remote.close(100);
      await stop(s);
      await serverPool.close();
    }
  });

  it("the server's full queue (503) reaches the caller as busy, and the server says Retry-After", async () => {
    const { BusyError } = await import('../../src/inference/pool/errors.js');
    let busy = false;
    const serverPool = await createModelPool(FIXTURE, { sessions: 1, workers: false, intraOpNumThreads: 1, warmup: false });
    const runner = { provider: 'cpu', close: async () => {}, run: (s: readonly (readonly number[])[]) => (busy ? Promise.reject(new BusyError('inference queue is full (1/1 waiting)')) : serverPool.run(s)) };
    const s = createOipServer({ runner, modelName: NAME, numLabels: 16 });
    const url = await listen(s);
    const remote = await createRemotePool(FIXTURE, { url, modelName: NAME, timeoutMs: 60_000, warmup: false });
    try {
      busy = true;
      const err = await remote.run([[1, 2, 3]]).catch((e: unknown) => e);
      expect(isBusyError(err)).toBe(true);
      expect(err).toMatchObject({ reason: 'unavailable', message: expect.stringMatching(/busy.*HTTP 503.*queue is full/) });
      const res = await fetch(`${url}/v2/models/${NAME}/infer`, {
        method: 'POST',
        body: JSON.stringify({ inputs: [{ name: 'input_ids', shape: [1, 1], datatype: 'INT64', data: [1] }, { name: 'attention_mask', shape: [1, 1], datatype: 'INT64', data: [1] }] }),
      });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
    } finally {
      await remote.close();
      await stop(s);
      await serverPool.close();
    }
  });
});
