import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { LogitsRunner } from '../onnxSession.js';
import { isBusyError } from '../pool/errors.js';
import { INPUT_NAMES, OUTPUT_NAME, SERVER_INFERENCE_MS } from './RemoteExecutor.js';
import { describeIssues, flatNumbers, inferenceRequestSchema, type InferenceResponse, type ModelMetadata, type RequestInput } from './oipSchema.js';

export interface OipServerOptions {
  /** Usually the batching InferencePool: rows of many HTTP requests share its batches. */
  runner: LogitsRunner;
  /** Served at /v2/models/{modelName}. */
  modelName: string;
  numLabels: number;
  /** False while the runner cannot serve (e.g. the pool has no live session). Default: always ready. */
  ready?: () => boolean;
  /** Largest request body (default 16 MiB); beyond, 413. */
  maxBodyBytes?: number;
  /** Most rows in one request (default 1024); beyond, 400. */
  maxRows?: number;
}

const VERSION = '1';

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Serves a LogitsRunner over the Open Inference Protocol (KServe v2) REST API: health, server and
 * model metadata, model ready and infer (JSON tensors; binary extensions are not implemented). A
 * request's rows go through the runner's queue like any other caller's, so its batching,
 * back-pressure (queue full → 503) and deadlines (→ 504) apply; errors are `{"error": "..."}`.
 */
export function createOipServer(options: OipServerOptions): Server {
  const ready = options.ready ?? (() => true);
  const maxBodyBytes = options.maxBodyBytes ?? 16 * 1024 * 1024;
  const maxRows = options.maxRows ?? 1024;
  const metadata: ModelMetadata = {
    name: options.modelName,
    versions: [VERSION],
    platform: 'onnxruntime_onnx',
    inputs: INPUT_NAMES.map((name) => ({ name, datatype: 'INT64', shape: [-1, -1] })),
    outputs: [{ name: OUTPUT_NAME, datatype: 'FP32', shape: [-1, options.numLabels] }],
  };
  const modelRoute = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(\/ready|\/infer)?$/;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const method = req.method ?? 'GET';
    if (path === '/v2/health/live') return send(res, 200, { live: true });
    if (path === '/v2/health/ready') return send(res, ready() ? 200 : 400, { ready: ready() });
    if (path === '/v2') return send(res, 200, { name: 'rpa-assistant-inference', version: '1', extensions: [] });
    const m = modelRoute.exec(path);
    if (!m) throw new HttpError(404, `no route ${method} ${path}`);
    const [, rawName, version, action] = m;
    if (decodeURIComponent(rawName!) !== options.modelName) throw new HttpError(404, `unknown model "${decodeURIComponent(rawName!)}"`);
    if (version !== undefined && version !== VERSION) throw new HttpError(404, `unknown version "${version}" of model "${options.modelName}"`);
    if (action === '/infer') {
      if (method !== 'POST') throw new HttpError(405, 'infer takes POST');
      return send(res, 200, await infer(await readJson(req, maxBodyBytes)));
    }
    if (method !== 'GET') throw new HttpError(405, `${path} takes GET`);
    if (action === '/ready') return send(res, ready() ? 200 : 400, { name: options.modelName, ready: ready() });
    return send(res, 200, metadata);
  }

  async function infer(body: unknown): Promise<InferenceResponse> {
    const parsed = inferenceRequestSchema.safeParse(body);
    if (!parsed.success) throw new HttpError(400, `not a KServe v2 inference request: ${describeIssues(parsed.error)}`);
    const request = parsed.data;
    for (const o of request.outputs ?? []) if (o.name !== OUTPUT_NAME) throw new HttpError(400, `unknown output "${o.name}" (model has "${OUTPUT_NAME}")`);
    const rows = rowsOf(request.inputs, maxRows);
    let out;
    try {
      out = await options.runner.run(rows);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (isBusyError(err)) throw new HttpError((err as { reason?: string }).reason === 'timeout' ? 504 : 503, message);
      if ((err as { code?: string }).code === 'INFERENCE_POOL_CLOSED') throw new HttpError(503, message);
      throw new HttpError(500, message);
    }
    const data: number[] = [];
    for (const row of out.logits) for (const v of row) data.push(v);
    return {
      model_name: options.modelName,
      model_version: VERSION,
      ...(request.id !== undefined ? { id: request.id } : {}),
      parameters: { [SERVER_INFERENCE_MS]: out.timings.padMs + out.timings.inferenceMs },
      outputs: [{ name: OUTPUT_NAME, datatype: 'FP32', shape: [rows.length, out.numLabels], data }],
    };
  }

  return createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : 500;
      send(res, status, { error: err instanceof Error ? err.message : String(err) }, status === 503 ? { 'retry-after': '1' } : {});
    });
  });
}

/** Unpadded token rows from right-padded input_ids + attention_mask ([batch, seq], INT64). */
function rowsOf(inputs: readonly RequestInput[], maxRows: number): number[][] {
  const [ids, mask] = INPUT_NAMES.map((name) => {
    const t = inputs.find((i) => i.name === name);
    if (!t) throw new HttpError(400, `missing input "${name}"`);
    if (t.datatype !== 'INT64' && t.datatype !== 'INT32') throw new HttpError(400, `input "${name}" must be INT64, got ${t.datatype}`);
    if (t.shape.length !== 2 || t.shape[0]! < 1 || t.shape[1]! < 1) throw new HttpError(400, `input "${name}" must have shape [batch, sequence], got [${t.shape.join(', ')}]`);
    try {
      return { shape: t.shape, data: flatNumbers(t.data, t.shape, name) };
    } catch (err) {
      throw new HttpError(400, (err as Error).message);
    }
  }) as [{ shape: number[]; data: number[] }, { shape: number[]; data: number[] }];
  const [batch, seq] = ids.shape as [number, number];
  if (mask.shape[0] !== batch || mask.shape[1] !== seq) throw new HttpError(400, 'input_ids and attention_mask must have the same shape');
  if (batch > maxRows) throw new HttpError(400, `at most ${maxRows} rows per request, got ${batch}`);
  const rows: number[][] = [];
  for (let r = 0; r < batch; r++) {
    const m = mask.data.slice(r * seq, (r + 1) * seq);
    const len = m.indexOf(0) === -1 ? seq : m.indexOf(0);
    // The classifier reads the last real token: only right padding (ones, then zeros) keeps that meaning.
    if (len === 0 || m.some((v, i) => v !== (i < len ? 1 : 0))) throw new HttpError(400, `attention_mask row ${r} must be ones then zeros (right padding), with at least one 1`);
    const row = ids.data.slice(r * seq, r * seq + len);
    if (row.some((v) => !Number.isSafeInteger(v) || v < 0)) throw new HttpError(400, `input_ids row ${r} must hold non-negative integers`);
    rows.push(row);
  }
  return rows;
}

async function readJson(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new HttpError(413, `request body over ${maxBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'request body is not JSON');
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
