import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { SharedFiles } from './sharedFiles.js';

/** An activity as the bot sends it over the wire (only the fields a client renders). */
export interface WireActivity {
  type: string;
  id?: string;
  text?: string;
  replyToId?: string;
  conversation?: { id: string };
  from?: { id: string; name?: string };
  attachments?: { contentType: string; content?: unknown }[];
  suggestedActions?: { actions: { type: string; title?: string; value?: unknown }[] };
  [key: string]: unknown;
}

export interface ReceivedActivity {
  method: 'POST' | 'PUT';
  conversationId: string;
  activity: WireActivity;
  receivedAt: number;
}

/** One request the bot made, whatever the answer (`status` 200 ones are also in `received`). */
export interface ConnectorAttempt {
  method: 'POST' | 'PUT';
  conversationId: string;
  /** The activity id in the path (PUT: the updated activity; POST: the one replied to). */
  activityId?: string;
  activity: WireActivity;
  status: number;
  at: number;
  /** The request's Authorization header as sent (none when the bot runs without credentials). */
  authorization?: string;
}

/**
 * An answer the channel gives instead of accepting the activity, as Teams does: 403 (bot removed
 * or blocked), 429 with Retry-After, 412, 502… `times` limits how often (default: every match).
 */
export interface ConnectorFault {
  match?: (attempt: Omit<ConnectorAttempt, 'status' | 'at'>) => boolean;
  status: number;
  /** Retry-After in seconds (429/503). */
  retryAfter?: number;
  /** The error code in the body (`{"error":{"code":…}}`). */
  code?: string;
  times?: number;
}

/**
 * The channel side of the Bot Framework connector protocol: the bot POSTs replies to
 * `{serviceUrl}/v3/conversations/{id}/activities[/{replyToId}]` and PUTs card updates.
 * The terminal chat and the HTTP tests use it as their serviceUrl; it listens on loopback only.
 */
export class ConnectorReceiver {
  readonly received: ReceivedActivity[] = [];
  /** Files this client sends the bot (the terminal chat's attachments), served at GET /files/<token>. */
  readonly sharedFiles = new SharedFiles(() => this.serviceUrl);
  /** Every request, accepted or failed by a fault (the latest 10,000). */
  readonly attempts: ConnectorAttempt[] = [];
  private faults: { fault: ConnectorFault; used: number }[] = [];
  private server?: Server;
  private listeners: ((r: ReceivedActivity) => void)[] = [];

  onActivity(listener: (r: ReceivedActivity) => void): void {
    this.listeners.push(listener);
  }

  /** Answers matching requests with an error (as a channel would) until removed; returns the remover. */
  inject(fault: ConnectorFault): () => void {
    const entry = { fault, used: 0 };
    this.faults.push(entry);
    return () => {
      this.faults = this.faults.filter((f) => f !== entry);
    };
  }

  async start(port = 0): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(port, '127.0.0.1', resolve));
    return this.serviceUrl;
  }

  get serviceUrl(): string {
    const address = this.server?.address() as AddressInfo | null;
    if (!address) throw new Error('ConnectorReceiver is not started');
    return `http://127.0.0.1:${address.port}`;
  }

  /** Waits until `count` activities (optionally matching) have arrived. */
  async waitFor(
    count: number,
    timeoutMs = 10_000,
    match: (r: ReceivedActivity) => boolean = () => true,
  ): Promise<ReceivedActivity[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hits = this.received.filter(match);
      if (hits.length >= count) return hits;
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${count} activities, got ${hits.length}`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    this.server = undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.sharedFiles.serve(req, res)) return;
    const match = /^\/v3\/conversations\/([^/]+)\/activities(?:\/([^/?]+))?/.exec(req.url ?? '');
    const method = req.method === 'PUT' ? 'PUT' : req.method === 'POST' ? 'POST' : undefined;
    if (!match || !method) {
      reply(res, 404, '{"error":{"code":"NotFound"}}');
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let activity: WireActivity;
    try {
      activity = JSON.parse(Buffer.concat(chunks).toString('utf8')) as WireActivity;
    } catch {
      reply(res, 400, '{"error":{"code":"BadArgument"}}');
      return;
    }
    const attempt: Omit<ConnectorAttempt, 'status' | 'at'> = {
      method,
      conversationId: decodeURIComponent(match[1] ?? ''),
      activityId: match[2] ? decodeURIComponent(match[2]) : undefined,
      activity,
      authorization: typeof req.headers.authorization === 'string' ? req.headers.authorization : undefined,
    };
    const fault = this.faults.find((f) => (f.fault.times === undefined || f.used < f.fault.times) && (f.fault.match?.(attempt) ?? true));
    this.attempts.push({ ...attempt, status: fault ? fault.fault.status : 200, at: Date.now() });
    if (this.attempts.length > 10_000) this.attempts.shift();
    if (fault) {
      fault.used += 1;
      const { status, retryAfter, code } = fault.fault;
      res.writeHead(status, { 'content-type': 'application/json', ...(retryAfter !== undefined ? { 'retry-after': String(retryAfter) } : {}) });
      res.end(JSON.stringify({ error: { code: code ?? `Http${status}`, message: `The channel answered ${status}.` } }));
      return;
    }
    const id = method === 'PUT' ? (match[2] ?? randomUUID()) : randomUUID();
    const record: ReceivedActivity = {
      method,
      conversationId: decodeURIComponent(match[1] ?? ''),
      activity: { ...activity, id },
      receivedAt: Date.now(),
    };
    this.received.push(record);
    for (const listener of this.listeners) listener(record);
    reply(res, 200, JSON.stringify({ id }));
  }
}

function reply(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(body);
}
