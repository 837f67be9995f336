import { createHmac, timingSafeEqual } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import WebSocket from 'ws';
import type { Logger } from '../../logger.js';
import { HttpError } from '../http/httpErrors.js';
import type { DirectLineStore } from './conversations.js';

/**
 * The Direct Line stream, Web Chat's default transport. Starting (or reconnecting to) a
 * conversation returns a `streamUrl`; the client opens a WebSocket there and gets every activity
 * of the conversation after the watermark as an activity set `{activities, watermark}`, pushed the
 * moment it is appended (no polling delay) — by this replica or any other (the store's feed:
 * LISTEN/NOTIFY on PostgreSQL).
 *
 * Browsers cannot put headers on a WebSocket, so the URL carries a stream ticket instead of the
 * conversation token: signed with a key every replica shares (keys.ts), bound to one
 * conversation, valid for `ticketTtlMs` and for one connection (its use is recorded in the
 * database, so a ticket opens once across all replicas). botframework-directlinejs asks for a fresh
 * `streamUrl` (GET conversations/:id?watermark=…) every time its socket closes, so nothing is lost.
 * The sockets themselves are this process's by nature.
 */

const STREAM_PATH = /^\/v3\/directline\/conversations\/([A-Za-z0-9_-]{1,64})\/stream$/;
/** A client that reads slower than this is cut off; it reconnects from its watermark. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

export interface DirectLineStreamOptions {
  store: Pick<DirectLineStore, 'get' | 'since' | 'subscribe' | 'redeemTicket'>;
  /** The shared ticket key (keys.ts), loaded once. */
  ticketKey: () => Promise<Buffer>;
  logger: Logger;
  /** The Direct Line routes' origin check (throws HttpError); runs on the upgrade request too. */
  checkOrigin: (req: IncomingMessage) => void;
  ticketTtlMs?: number;
  /** WebSocket ping interval; a peer that misses one pong is dropped. */
  heartbeatMs?: number;
  /** Streams per conversation; the oldest closes when another opens. */
  maxPerConversation?: number;
}

export class DirectLineStreams {
  private readonly wss = new WebSocket.Server({ noServer: true, maxPayload: 16 * 1024 });
  private readonly open = new Map<string, Set<WebSocket>>();
  private readonly ticketTtlMs: number;
  private readonly heartbeatMs: number;
  private readonly maxPerConversation: number;

  constructor(private readonly options: DirectLineStreamOptions) {
    this.ticketTtlMs = options.ticketTtlMs ?? 60_000;
    this.heartbeatMs = options.heartbeatMs ?? 30_000;
    this.maxPerConversation = options.maxPerConversation ?? 4;
  }

  /** The `streamUrl` for a client that reached us at `req` (same host, ws/wss as it came). */
  async streamUrl(req: IncomingMessage, conversationId: string, watermark?: string | null): Promise<string> {
    const expires = Date.now() + this.ticketTtlMs;
    const ticket = `${expires}.${this.sign(await this.options.ticketKey(), conversationId, expires)}`;
    const tls = (req.socket as { encrypted?: boolean }).encrypted === true || /^https\b/i.test(String(req.headers['x-forwarded-proto'] ?? ''));
    const host = String(req.headers.host ?? 'localhost');
    const query = new URLSearchParams({ t: ticket, ...(watermark && /^\d+$/.test(watermark) ? { watermark } : {}) });
    return `${tls ? 'wss' : 'ws'}://${host}/v3/directline/conversations/${encodeURIComponent(conversationId)}/stream?${query}`;
  }

  /** Takes the HTTP server's upgrade requests; its closeAllConnections() also closes the streams. */
  attach(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.upgrade(req, socket, head));
    // Upgraded sockets are no longer the HTTP server's connections: graceful shutdown
    // (http/drain.ts) ends with closeAllConnections(), which must end them too.
    const closeAll = server.closeAllConnections.bind(server);
    server.closeAllConnections = () => {
      this.closeAll();
      closeAll();
    };
  }

  closeAll(): void {
    for (const client of this.wss.clients) client.terminate();
  }

  get connections(): number {
    return this.wss.clients.size;
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://localhost');
    const match = STREAM_PATH.exec(url.pathname);
    try {
      if (!match?.[1]) throw new HttpError(404, 'not_found', 'Not found.');
      this.options.checkOrigin(req);
      const conversationId = match[1];
      if (!(await this.redeem(conversationId, url.searchParams.get('t') ?? ''))) throw new HttpError(403, 'forbidden', 'Invalid or expired stream URL.');
      const conversation = await this.options.store.get(conversationId);
      if (!conversation) throw new HttpError(404, 'not_found', 'Conversation not found.');
      if (socket.destroyed) return;
      this.wss.handleUpgrade(req, socket as Socket, head, (ws) => this.serve(ws, conversation.id, url.searchParams.get('watermark')));
    } catch (err) {
      const status = err instanceof HttpError ? err.status : 500;
      if (!(err instanceof HttpError)) this.options.logger.error({ err }, 'direct line stream: upgrade failed');
      socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    }
  }

  /** Pushes the backlog after `watermark`, then every append, until either side closes. */
  private serve(ws: WebSocket, conversationId: string, watermark: string | null): void {
    const mine = this.open.get(conversationId) ?? new Set<WebSocket>();
    this.open.set(conversationId, mine);
    mine.add(ws);
    if (mine.size > this.maxPerConversation) {
      const oldest = mine.values().next().value;
      oldest?.close(1008, 'too many streams for this conversation');
    }

    let last = watermark ?? '';
    // One read at a time per stream: an append heard twice (here and through NOTIFY), or during a
    // read, runs one more read after it, from the watermark the previous one reached — never twice.
    let reading = false;
    let again = false;
    const push = async (): Promise<void> => {
      if (reading) {
        again = true;
        return;
      }
      reading = true;
      try {
        do {
          again = false;
          if (ws.readyState !== WebSocket.OPEN) return;
          const set = await this.options.store.since(conversationId, last);
          if (!set) {
            ws.close(1000, 'conversation ended');
            return;
          }
          if (set.activities.length === 0 || ws.readyState !== WebSocket.OPEN) continue;
          if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
            ws.terminate();
            return;
          }
          last = set.watermark;
          ws.send(JSON.stringify(set));
        } while (again);
      } catch (err) {
        // The database is away: the client reconnects from its watermark.
        this.options.logger.warn({ err }, 'direct line stream: read failed; closing the stream');
        ws.close(1011, 'try again');
      } finally {
        reading = false;
      }
    };
    const unsubscribe = this.options.store.subscribe(conversationId, {
      appended: () => void push(),
      ended: () => ws.close(1000, 'conversation ended'),
    });

    let alive = true;
    ws.on('pong', () => {
      alive = true;
    });
    const heartbeat = setInterval(() => {
      if (!alive) {
        ws.terminate();
        return;
      }
      alive = false;
      ws.ping();
    }, this.heartbeatMs);
    heartbeat.unref();

    // directlinejs sends empty messages as keep-alives; a client says nothing else on the stream.
    ws.on('message', () => undefined);
    ws.on('error', () => ws.terminate());
    ws.on('close', () => {
      clearInterval(heartbeat);
      unsubscribe();
      mine.delete(ws);
      if (mine.size === 0 && this.open.get(conversationId) === mine) this.open.delete(conversationId);
    });
    void push();
  }

  private sign(key: Buffer, conversationId: string, expires: number): string {
    return createHmac('sha256', key).update(`${conversationId}.${expires}`).digest('base64url');
  }

  /** True once (across every replica) for a valid, unexpired ticket of this conversation. */
  private async redeem(conversationId: string, ticket: string): Promise<boolean> {
    const match = /^(\d{1,15})\.([A-Za-z0-9_-]{43})$/.exec(ticket);
    if (!match?.[1] || !match[2]) return false;
    const expires = Number(match[1]);
    if (expires < Date.now()) return false;
    const expected = Buffer.from(this.sign(await this.options.ticketKey(), conversationId, expires));
    const given = Buffer.from(match[2]);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return false;
    return this.options.store.redeemTicket(match[2], expires);
  }
}
