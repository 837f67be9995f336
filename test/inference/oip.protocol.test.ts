/**
 * Our client and server against the Open Inference Protocol's own examples
 * (test/fixtures/oip/spec-examples.json, copied from the spec): the server's answers have the
 * spec's shapes, and the client takes the spec's shapes (e.g. a server that reports no timing and
 * sends nested data, as Triton/KServe may).
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModelPool, type InferencePool } from '../../src/inference/pool/index.js';
import { createOipServer } from '../../src/inference/remote/oipServer.js';
import { createRemotePool } from '../../src/inference/remote/remotePool.js';
import {
  errorResponseSchema,
  inferenceRequestSchema,
  inferenceResponseSchema,
  modelMetadataSchema,
} from '../../src/inference/remote/oipSchema.js';

const FIXTURE = 'test/fixtures/tiny-gpt2';
const NAME = 'intent-gpt2-smoke';
const SPEC = JSON.parse(readFileSync('test/fixtures/oip/spec-examples.json', 'utf8')) as Record<string, unknown>;

async function listen(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

const keys = (o: unknown): string[] => Object.keys(o as object).sort();

describe('the spec examples', () => {
  it('parse with the schemas the client and server use', () => {
    expect(inferenceRequestSchema.safeParse(SPEC.inferenceRequest).success).toBe(true);
    expect(inferenceResponseSchema.safeParse(SPEC.inferenceResponse).success).toBe(true);
    expect(modelMetadataSchema.safeParse(SPEC.modelMetadataResponse).success).toBe(true);
    expect(errorResponseSchema.safeParse(SPEC.errorResponse).success).toBe(true);
  });

  it('the schemas refuse what the spec does not allow', () => {
    expect(inferenceRequestSchema.safeParse({ inputs: [] }).success).toBe(false); // at least one input
    expect(inferenceRequestSchema.safeParse({ inputs: [{ name: 'x', shape: [-1], datatype: 'INT64', data: [1] }] }).success).toBe(false); // shapes are unsigned
    expect(inferenceResponseSchema.safeParse({ outputs: [{ name: 'y', shape: [1], data: [1] }] }).success).toBe(false); // datatype required
  });
});

describe('our server speaks the spec', () => {
  let pool: InferencePool;
  let server: Server;
  let url: string;

  beforeAll(async () => {
    pool = await createModelPool(FIXTURE, { sessions: 1, workers: false, intraOpNumThreads: 1, warmup: false });
    server = createOipServer({ runner: pool, modelName: NAME, numLabels: 16, ready: () => pool.ready });
    url = await listen(server);
  });

  afterAll(async () => {
    if (server) await stop(server);
    await pool?.close();
  });

  it('health, server metadata, model metadata and model ready have the spec objects', async () => {
    expect((await fetch(`${url}/v2/health/live`)).status).toBe(200);
    expect((await fetch(`${url}/v2/health/ready`)).status).toBe(200);
    const serverMeta = await (await fetch(`${url}/v2`)).json();
    expect(keys(serverMeta)).toEqual(keys(SPEC.serverMetadataResponse));
    const meta = await (await fetch(`${url}/v2/models/${NAME}`)).json();
    expect(modelMetadataSchema.parse(meta)).toMatchObject({
      name: NAME,
      inputs: [
        { name: 'input_ids', datatype: 'INT64', shape: [-1, -1] },
        { name: 'attention_mask', datatype: 'INT64', shape: [-1, -1] },
      ],
      outputs: [{ name: 'logits', datatype: 'FP32', shape: [-1, 16] }],
    });
    expect(keys(meta)).toEqual(keys(SPEC.modelMetadataResponse));
    const versioned = await fetch(`${url}/v2/models/${NAME}/versions/1`);
    expect(versioned.status).toBe(200);
    const ready = await fetch(`${url}/v2/models/${NAME}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ name: NAME, ready: true });
  });

  it('answers an inference request with the spec response object: id echoed, model_name, FP32 [rows, labels]', async () => {
    const res = await fetch(`${url}/v2/models/${NAME}/versions/1/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      // Nested data, as the spec allows; row 2 right-padded.
      body: JSON.stringify({
        id: '42',
        inputs: [
          { name: 'input_ids', shape: [2, 3], datatype: 'INT64', data: [[10, 20, 30], [40, 50256, 50256]] },
          { name: 'attention_mask', shape: [2, 3], datatype: 'INT64', data: [[1, 1, 1], [1, 0, 0]] },
        ],
        outputs: [{ name: 'logits' }],
      }),
    });
    expect(res.status).toBe(200);
    const body = inferenceResponseSchema.parse(await res.json());
    expect(body).toMatchObject({ id: '42', model_name: NAME, outputs: [{ name: 'logits', datatype: 'FP32', shape: [2, 16] }] });
    expect(body.outputs[0]!.data).toHaveLength(32);
    const alone = await pool.run([[40]]);
    expect(body.outputs[0]!.data.slice(16)).toEqual(Array.from(alone.logits[0]!));
    // Every top-level key is one the spec's response object defines.
    for (const k of keys(body)) expect(['id', 'model_name', 'model_version', 'outputs', 'parameters']).toContain(k);
  });

  it("answers the spec's own example request with a spec error object (404 for its model, 400 for ours)", async () => {
    const post = (model: string, body: unknown) => fetch(`${url}/v2/models/${model}/infer`, { method: 'POST', body: JSON.stringify(body) });
    const unknown = await post('mymodel', SPEC.inferenceRequest);
    expect(unknown.status).toBe(404);
    expect(errorResponseSchema.parse(await unknown.json()).error).toMatch(/unknown model "mymodel"/);
    const wrong = await post(NAME, SPEC.inferenceRequest);
    expect(wrong.status).toBe(400);
    expect(errorResponseSchema.parse(await wrong.json()).error).toMatch(/unknown output "output0"/);
  });

  it.each([
    ['not JSON', '{"inputs": [', /not JSON/],
    ['no inputs', { inputs: [] }, /not a KServe v2 inference request/],
    ['missing mask', { inputs: [{ name: 'input_ids', shape: [1, 2], datatype: 'INT64', data: [1, 2] }] }, /missing input "attention_mask"/],
    ['data/shape mismatch', { inputs: [{ name: 'input_ids', shape: [1, 3], datatype: 'INT64', data: [1, 2] }, { name: 'attention_mask', shape: [1, 3], datatype: 'INT64', data: [1, 1, 1] }] }, /needs 3 values, got 2/],
    ['left padding', { inputs: [{ name: 'input_ids', shape: [1, 2], datatype: 'INT64', data: [0, 5] }, { name: 'attention_mask', shape: [1, 2], datatype: 'INT64', data: [0, 1] }] }, /ones then zeros/],
    ['FP32 ids', { inputs: [{ name: 'input_ids', shape: [1, 1], datatype: 'FP32', data: [1] }, { name: 'attention_mask', shape: [1, 1], datatype: 'INT64', data: [1] }] }, /must be INT64/],
  ])('bad input (%s) → 400 with {error}, and the server keeps serving', async (_label, body, message) => {
    const res = await fetch(`${url}/v2/models/${NAME}/infer`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });
    expect(res.status).toBe(400);
    expect(errorResponseSchema.parse(await res.json()).error).toMatch(message);
    expect((await fetch(`${url}/v2/health/ready`)).status).toBe(200);
  });
});

describe('our client against a server that answers exactly like the spec example (no timing, nested data)', () => {
  let server: Server;
  let url: string;
  let seen: unknown[];

  beforeAll(async () => {
    seen = [];
    const meta = {
      ...(SPEC.modelMetadataResponse as object),
      name: 'm',
      inputs: [
        { name: 'input_ids', datatype: 'INT64', shape: [-1, -1] },
        { name: 'attention_mask', datatype: 'INT64', shape: [-1, -1] },
      ],
      outputs: [{ name: 'logits', datatype: 'FP32', shape: [-1, 2] }],
    };
    server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        if (req.url === '/v2/health/ready' || req.url === '/v2/models/m/ready') return res.end('');
        if (req.url === '/v2/models/m') return res.end(JSON.stringify(meta));
        const request = JSON.parse(raw) as { inputs: { shape: number[] }[] };
        seen.push(request);
        const rows = request.inputs[0]!.shape[0]!;
        // The spec's response example, renamed to our output, rows as nested arrays.
        res.end(JSON.stringify({ outputs: [{ name: 'logits', shape: [rows, 2], datatype: 'FP32', data: Array.from({ length: rows }, (_, r) => [r + 1.0, r + 1.1]) }] }));
      });
    });
    url = await listen(server);
  });

  afterAll(async () => {
    if (server) await stop(server);
  });

  it('sends spec-valid requests (INT64 as JSON numbers, [batch, seq]) and reads the response; the whole round trip counts as inference', async () => {
    const remote = await createRemotePool(FIXTURE, { url, modelName: 'm', warmup: false, timeoutMs: 10_000 });
    try {
      const out = await remote.run([[5, 6, 7], [8]]);
      expect(out.logits.map((r) => Array.from(r))).toEqual([[1, Math.fround(1.1)], [2, Math.fround(2.1)]].map((r) => r.map(Math.fround)));
      expect(out.timings.inferenceMs).toBeGreaterThan(0);
      const request = inferenceRequestSchema.parse(seen.at(-1));
      expect(request.inputs).toEqual([
        { name: 'input_ids', shape: [2, 3], datatype: 'INT64', data: [5, 6, 7, 8, 50256, 50256] },
        { name: 'attention_mask', shape: [2, 3], datatype: 'INT64', data: [1, 1, 1, 1, 0, 0] },
      ]);
      expect(request.outputs).toEqual([{ name: 'logits' }]);
    } finally {
      await remote.close();
    }
  });
});
