import { performance } from 'node:perf_hooks';
import { BusyError, InferenceFailedError } from '../pool/errors.js';
import {
  describeIssues,
  errorResponseSchema,
  inferenceResponseSchema,
  modelMetadataSchema,
  type InferenceRequest,
  type InferenceResponse,
  type ModelMetadata,
} from './oipSchema.js';

export interface OipClientOptions {
  /** Base URL of the server, e.g. http://triton:8000 (the `/v2/...` paths are appended). */
  url: string;
  /** Model name as the server knows it (Triton: the model repository folder). */
  model: string;
  /** Longest wait for one HTTP exchange; past it the call fails with a BusyError (`timeout`). */
  timeoutMs: number;
}

/**
 * A small Open Inference Protocol (KServe v2) REST client over Node's fetch (undici: keep-alive
 * connections are reused). Failures become the pool's errors: unreachable, 429/503 → BusyError
 * `unavailable`; no answer in time → BusyError `timeout`; anything else → InferenceFailedError.
 */
export class OipClient {
  readonly baseUrl: string;
  readonly model: string;
  readonly timeoutMs: number;

  constructor(options: OipClientOptions) {
    const url = new URL(options.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`INFERENCE_URL must be http(s), got ${options.url}`);
    this.baseUrl = url.href.replace(/\/+$/, '');
    this.model = options.model;
    this.timeoutMs = options.timeoutMs;
  }

  private get modelPath(): string {
    return `/v2/models/${encodeURIComponent(this.model)}`;
  }

  /** GET /v2/health/ready: 200 = ready (the body, if any, is not needed). */
  async serverReady(): Promise<boolean> {
    return (await this.request('GET', '/v2/health/ready')).status === 200;
  }

  /** GET /v2/models/{name}/ready. */
  async modelReady(): Promise<boolean> {
    return (await this.request('GET', `${this.modelPath}/ready`)).status === 200;
  }

  /** GET /v2/models/{name}: inputs/outputs with datatypes and shapes (-1 = variable). */
  async metadata(): Promise<ModelMetadata> {
    const res = await this.request('GET', this.modelPath);
    const body = await this.json(res, 'model metadata');
    const parsed = modelMetadataSchema.safeParse(body);
    if (!parsed.success) throw new InferenceFailedError(`model metadata from ${this.baseUrl} is not KServe v2: ${describeIssues(parsed.error)}`);
    return parsed.data;
  }

  /** POST /v2/models/{name}/infer; `roundtripMs` is the whole exchange, body read included. */
  async infer(body: InferenceRequest): Promise<{ response: InferenceResponse; roundtripMs: number }> {
    const t0 = performance.now();
    const res = await this.request('POST', `${this.modelPath}/infer`, JSON.stringify(body));
    const json = await this.json(res, 'inference');
    const roundtripMs = performance.now() - t0;
    const parsed = inferenceResponseSchema.safeParse(json);
    if (!parsed.success) throw new InferenceFailedError(`inference response is not KServe v2: ${describeIssues(parsed.error)}`);
    return { response: parsed.data, roundtripMs };
  }

  private async request(method: 'GET' | 'POST', path: string, body?: string): Promise<Response> {
    try {
      return await fetch(`${this.baseUrl}${path}`, {
        method,
        ...(body !== undefined ? { body, headers: { 'content-type': 'application/json' } } : {}),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw this.transportError(err);
    }
  }

  /** The body as JSON on 200; a server's error status and `{error}` message as the pool's error otherwise. */
  private async json(res: Response, what: string): Promise<unknown> {
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      throw this.transportError(err);
    }
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (res.ok && body !== undefined) return body;
    const parsedError = errorResponseSchema.safeParse(body);
    const message = parsedError.success ? parsedError.data.error : text.slice(0, 200) || res.statusText;
    const detail = `${what} at ${this.baseUrl}: HTTP ${res.status}: ${message}`;
    if (res.status === 429 || res.status === 503) throw new BusyError(`inference server busy (${detail})`, 'unavailable');
    if (res.status === 504) throw new BusyError(`inference server timed out (${detail})`, 'timeout');
    throw new InferenceFailedError(res.ok ? `${what} at ${this.baseUrl}: body is not JSON` : detail);
  }

  private transportError(err: unknown): Error {
    const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
    if (e.name === 'TimeoutError' || e.name === 'AbortError') {
      return new BusyError(`inference server ${this.baseUrl} did not answer within ${this.timeoutMs} ms`, 'timeout');
    }
    const cause = e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
    return new BusyError(`inference server ${this.baseUrl} unreachable: ${cause}`, 'unavailable');
  }
}
