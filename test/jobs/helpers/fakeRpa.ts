/**
 * A fake RPA tool on loopback behind the webhook connector. It deduplicates by Idempotency-Key as
 * a real one must, so `effects` is what the supplier would have done: one entry per key. By
 * default it answers synchronously ("succeeded", with a reference); `hold` keeps a request open
 * (the server is killed meanwhile, or the database taken away) until `release()`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RpaCall {
  idempotencyKey: string;
  operation: string;
  jobId: number;
  attempt: number;
  at: number;
}

export class FakeRpa {
  readonly calls: RpaCall[] = [];
  /** Idempotency key → the reference of the one effect it had. */
  readonly effects = new Map<string, string>();
  /** Requests to hold open (the first N). */
  hold = 0;
  /** Answer 202 (result later by callback) instead of a synchronous result. */
  acceptOnly = false;
  private held: ServerResponse[] = [];
  private server?: Server;
  private waiters: { count: number; resolve: () => void }[] = [];

  async start(): Promise<string> {
    this.server = createServer((req, res) => this.onRequest(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/rpa`;
  }

  /** Resolves once `count` calls have arrived. */
  waitForCalls(count: number, timeoutMs = 30_000): Promise<void> {
    if (this.calls.length >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`fake RPA: ${this.calls.length} of ${count} calls after ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  /** Answers the held requests (the effect already happened when they arrived). */
  release(): void {
    for (const res of this.held.splice(0)) this.answer(res, this.calls[0]!);
  }

  async stop(): Promise<void> {
    for (const res of this.held.splice(0)) res.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Omit<RpaCall, 'at'>;
      const call: RpaCall = { idempotencyKey: String(req.headers['idempotency-key']), operation: body.operation, jobId: body.jobId, attempt: body.attempt, at: Date.now() };
      this.calls.push(call);
      if (!this.effects.has(call.idempotencyKey)) this.effects.set(call.idempotencyKey, `RPA-${this.effects.size + 1}`);
      for (const w of this.waiters.filter((w) => this.calls.length >= w.count)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve();
      }
      if (this.calls.length <= this.hold) {
        this.held.push(res);
        return;
      }
      this.answer(res, call);
    });
  }

  private answer(res: ServerResponse, call: RpaCall): void {
    if (res.destroyed) return;
    if (this.acceptOnly) {
      res.writeHead(202, { 'content-type': 'application/json' });
      res.end('{"accepted":true}');
      return;
    }
    const reference = this.effects.get(call.idempotencyKey)!;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'succeeded', data: { supplierReference: reference, confirmed: true } }));
  }
}
