import { rmSync } from 'node:fs';
import type { Activity, DirectLine as DirectLineClient, Message } from 'botframework-directlinejs';
import { ConnectionStatus, DirectLine } from 'botframework-directlinejs';
import { Observable } from 'rxjs/Observable.js';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApp } from '../../../src/app.js';
import { createAdapter } from '../../../src/bot/adapter.js';
import { HELP_TEXT, WELCOME_TEXT } from '../../../src/bot/bots/replies.js';
import { loadConfig } from '../../../src/config/config.js';
import { createLogger } from '../../../src/logger.js';
import { freshPgliteDataDir, waitFor } from '../../helpers/databases.js';
import { startTestApp } from '../../helpers/testApp.js';

/**
 * Microsoft's own Direct Line client, botframework-directlinejs (the one Web Chat uses), against
 * this server's Direct Line: secret mode and token mode, over the WebSocket stream and by
 * polling. It must start, post a message and get the reply, get a proactive message (sent the way
 * the bot sends them: CloudAdapter.continueConversationAsync) without a replyToId Web Chat would
 * wait for, and get a session id.
 *
 * In Node the client is given `fetch` as its ajax (it expects XMLHttpRequest) and the `ws`
 * package as its WebSocket; both are options the client takes (`Partial<Services>`).
 */

const SECRET = 'directline-secret-for-tests-0123456789abcdef';
const CONNECTOR_SECRET = 'directlinejs-connector-secret-0123';

interface AjaxRequest {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: unknown;
  timeout?: number;
}

/** rxjs' ajax on top of fetch, recording every request (method + path). */
function fetchAjax(requests: string[]) {
  return (request: AjaxRequest) =>
    Observable.create((subscriber: { next(v: unknown): void; complete(): void; error(e: unknown): void }) => {
      const controller = new AbortController();
      const timer = request.timeout ? setTimeout(() => controller.abort(), request.timeout) : undefined;
      const body =
        request.body === undefined || request.body instanceof FormData || typeof request.body === 'string'
          ? (request.body as RequestInit['body'])
          : JSON.stringify(request.body);
      requests.push(`${request.method ?? 'GET'} ${new URL(request.url).pathname}`);
      fetch(request.url, { method: request.method ?? 'GET', headers: request.headers, body, signal: controller.signal }).then(
        async (res) => {
          const text = await res.text();
          let response: unknown = text;
          try {
            response = text ? JSON.parse(text) : null;
          } catch {
            /* not JSON */
          }
          if (res.ok) {
            subscriber.next({ status: res.status, response });
            subscriber.complete();
          } else {
            subscriber.error({ status: res.status, response, xhr: { getResponseHeader: (name: string) => res.headers.get(name) } });
          }
        },
        (err: unknown) => subscriber.error({ status: 0, message: String(err) }),
      );
      return () => {
        clearTimeout(timer);
        controller.abort();
      };
    });
}

interface Client {
  dl: DirectLineClient;
  activities: Activity[];
  requests: string[];
  statuses: ConnectionStatus[];
  close(): void;
}

function connect(app: RunningApp, auth: { secret: string } | { token: string }, webSocket: boolean): Client {
  const requests: string[] = [];
  const activities: Activity[] = [];
  const statuses: ConnectionStatus[] = [];
  const global = globalThis as { WebSocket?: unknown };
  // The client decides between stream and polling from the global WebSocket, once, when built.
  const before = global.WebSocket;
  if (webSocket) global.WebSocket = WebSocket;
  let dl: DirectLineClient;
  try {
    dl = new DirectLine({
      ...auth,
      domain: `${app.url}/v3/directline`,
      webSocket,
      pollingInterval: 200,
      timeout: 10_000,
      ajax: fetchAjax(requests) as never,
      WebSocket: WebSocket as never,
    });
  } finally {
    global.WebSocket = before;
  }
  const activitySub = dl.activity$.subscribe((a) => activities.push(a));
  const statusSub = dl.connectionStatus$.subscribe((s) => statuses.push(s));
  return {
    dl,
    activities,
    requests,
    statuses,
    close() {
      activitySub.unsubscribe();
      statusSub.unsubscribe();
      dl.end();
    },
  };
}

type Reply = Message & { replyToId?: string };
const messages = (client: Client) => client.activities.filter((a): a is Reply => a.type === 'message');

async function post(client: Client, activity: Partial<Message>): Promise<string> {
  return new Promise((resolve, reject) => {
    client.dl.postActivity({ type: 'message', from: { id: 'someone' }, ...activity } as Message).subscribe({ next: resolve, error: reject });
  });
}

describe('botframework-directlinejs as the client', () => {
  let app: RunningApp;
  let dataDir: string;
  const adapter = createAdapter(loadConfig({ HOST: '127.0.0.1' }), createLogger('silent'));

  beforeAll(async () => {
    dataDir = await freshPgliteDataDir();
    app = await startTestApp({ DATA_DIR: dataDir }, { DIRECTLINE_SECRET: SECRET }, { webchat: { connectorSecret: CONNECTOR_SECRET } });
  });

  afterAll(async () => {
    // A stream still open at shutdown is closed by it (upgraded sockets are not HTTP connections).
    const open = lingering ? new Promise<number>((resolve) => lingering!.once('close', (code) => resolve(code))) : undefined;
    await app?.close();
    if (open) expect(await open).toBeGreaterThan(0);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });
  let lingering: WebSocket | undefined;

  /** What the job notifier does for a finished automation: continue the conversation from its reference. */
  async function sendProactive(conversationId: string, text: string): Promise<void> {
    const reference = {
      channelId: 'webchat',
      serviceUrl: `${app.url}/webchat/connector/${CONNECTOR_SECRET}`,
      conversation: { id: conversationId, isGroup: false, conversationType: 'personal', name: '' },
      bot: { id: 'rpa-assistant', name: 'RPA Assistant' },
    };
    await adapter.continueConversationAsync('', reference, async (context) => {
      await context.sendActivity(text);
    });
  }

  /** A token the way a site backend gets one for its page: POST tokens/generate with the secret. */
  async function tokenFromSecret(): Promise<string> {
    const res = await fetch(`${app.url}/v3/directline/tokens/generate`, { method: 'POST', headers: { authorization: `Bearer ${SECRET}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { token?: string; conversationId?: string };
    expect(body.token).toBeTruthy();
    return body.token!;
  }

  for (const mode of ['secret', 'token'] as const) {
    for (const webSocket of [true, false]) {
      it(`${mode} mode, ${webSocket ? 'WebSocket stream' : 'polling'}: welcome, message → reply, proactive message, session id`, async () => {
        const auth = mode === 'secret' ? { secret: SECRET } : { token: await tokenFromSecret() };
        const client = connect(app, auth, webSocket);
        try {
          await waitFor(() => messages(client).some((m) => m.text === WELCOME_TEXT), 15_000, 'the welcome');
          expect(client.dl.connectionStatus$.getValue()).toBe(ConnectionStatus.Online);
          const conversationId = messages(client)[0]!.conversation!.id;

          const id = await post(client, { text: 'hello' });
          expect(id).not.toBe('retry'); // what the client returns when the server refuses its credentials
          await waitFor(() => messages(client).some((m) => m.text === HELP_TEXT && m.replyToId === id), 15_000, 'the reply');

          await sendProactive(conversationId, `${mode}/${webSocket}: PO-1 is placed`);
          await waitFor(() => messages(client).some((m) => m.text?.endsWith('PO-1 is placed')), 15_000, 'the proactive message');
          const proactive = messages(client).find((m) => m.text?.endsWith('PO-1 is placed'))!;
          // Web Chat would hold a message back for 5 s waiting for the activity it "replies" to.
          expect(proactive.replyToId).toBeUndefined();
          expect(proactive.from.role).toBe('bot');

          const sessionId = await new Promise<string>((resolve, reject) => client.dl.getSessionId().subscribe({ next: resolve, error: reject }));
          expect(sessionId).toMatch(/^[A-Za-z0-9_-]{16,}$/);

          // Each activity exactly once, whatever the transport.
          const ids = client.activities.map((a) => a.id);
          expect(new Set(ids).size).toBe(ids.length);
          const polls = client.requests.filter((r) => /^GET .*\/activities$/.test(r)).length;
          if (webSocket) expect(polls).toBe(0);
          else expect(polls).toBeGreaterThan(0);
          expect(client.statuses).not.toContain(ConnectionStatus.ExpiredToken);
          expect(client.statuses).not.toContain(ConnectionStatus.FailedToConnect);
        } finally {
          client.close();
        }
      });
    }
  }

  it('a card update arrives as a new activity with a new id that replaces the card (same clientActivityID, same place)', async () => {
    const client = connect(app, { secret: SECRET }, true);
    try {
      await waitFor(() => messages(client).length > 0, 15_000, 'the welcome');
      const conversationId = messages(client)[0]!.conversation!.id;
      const connector = `${app.url}/webchat/connector/${CONNECTOR_SECRET}/v3/conversations/${encodeURIComponent(conversationId)}/activities`;
      const card = (text: string) => ({ type: 'message', text, from: { id: 'rpa-assistant' } });
      const sent = await fetch(connector, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(card('v1')) });
      const { id: firstId } = (await sent.json()) as { id: string };
      const put = (id: string, text: string) =>
        fetch(`${connector}/${encodeURIComponent(id)}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(card(text)) });
      const second = await put(firstId, 'v2');
      expect(second.status).toBe(200);
      const { id: secondId } = (await second.json()) as { id: string };
      // The bot may keep naming the original id, or use the one it got back.
      expect((await put(firstId, 'v3')).status).toBe(200);
      expect((await put(secondId, 'v4')).status).toBe(200);
      await waitFor(() => messages(client).some((m) => m.text === 'v4'), 15_000, 'the last update');

      const versions = messages(client).filter((m) => /^v\d$/.test(m.text ?? ''));
      expect(versions.map((m) => m.text)).toEqual(['v1', 'v2', 'v3', 'v4']);
      expect(new Set(versions.map((m) => m.id)).size).toBe(4);
      expect(versions[1]!.id).toBe(secondId);
      const data = versions.map((m) => m.channelData as Record<string, unknown>);
      expect(new Set(data.map((d) => d.clientActivityID))).toEqual(new Set([firstId]));
      expect(new Set(data.map((d) => d['webchat:sequence-id'])).size).toBe(1);
      expect(new Set(versions.map((m) => m.timestamp)).size).toBe(1);
    } finally {
      client.close();
    }
  });

  describe('the stream URL', () => {
    interface Started {
      conversationId: string;
      token?: string;
      streamUrl: string;
    }
    const start = async (): Promise<Started> => {
      const res = await fetch(`${app.url}/v3/directline/conversations`, { method: 'POST', headers: { authorization: `Bearer ${SECRET}` } });
      expect(res.status).toBe(201);
      return (await res.json()) as Started;
    };
    /** Opens a stream; resolves with the first activity set, or the HTTP status of a refusal. */
    const open = (url: string, origin?: string) =>
      new Promise<{ status: number; set?: { activities: { id: string; text?: string }[]; watermark: string }; ws: WebSocket }>((resolve) => {
        const ws = new WebSocket(url, origin ? { origin } : {});
        ws.once('message', (data) => resolve({ status: 101, set: JSON.parse(String(data)), ws }));
        ws.once('unexpected-response', (_req, res) => {
          resolve({ status: res.statusCode ?? 0, ws });
          ws.terminate();
        });
        ws.once('error', () => undefined);
      });

    it('works once, for its own conversation, from the same site only', async () => {
      const a = await start();
      const b = await start();
      expect(a.streamUrl).toMatch(new RegExp(`^ws://127\\.0\\.0\\.1:${app.port}/v3/directline/conversations/${a.conversationId}/stream\\?t=`));
      expect(a.streamUrl).not.toContain(a.token!); // the conversation token never goes into a URL
      expect((await open(a.streamUrl, 'http://evil.example')).status).toBe(403);
      const first = await open(a.streamUrl);
      expect(first.status).toBe(101);
      expect(first.set?.activities.map((x) => x.text)).toEqual([WELCOME_TEXT]);
      first.ws.close();
      expect((await open(a.streamUrl)).status).toBe(403); // used
      const ticket = new URL(a.streamUrl).searchParams.get('t')!;
      expect((await open(b.streamUrl.replace(/t=[^&]+/, `t=${ticket}`))).status).toBe(403); // another conversation's
      expect((await open(b.streamUrl.replace(/t=[^&]+/, 't=1.abc'))).status).toBe(403);
      expect((await open(b.streamUrl.replace('/stream', '/nope'))).status).toBe(404);
      expect((await open(`ws://127.0.0.1:${app.port}/api/messages`)).status).toBe(404);
    });

    it('resumes after the watermark a reconnect names; the secret is never echoed as a token', async () => {
      const a = await start();
      const first = await open(a.streamUrl);
      const watermark = first.set!.watermark;
      first.ws.close();
      const reconnect = await fetch(`${app.url}/v3/directline/conversations/${a.conversationId}?watermark=${watermark}`, {
        headers: { authorization: `Bearer ${SECRET}` },
      });
      const body = (await reconnect.json()) as Started;
      expect(body.token).toBeUndefined();
      expect(JSON.stringify(body)).not.toContain(SECRET);
      const connector = `${app.url}/webchat/connector/${CONNECTOR_SECRET}/v3/conversations/${a.conversationId}/activities`;
      await fetch(connector, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'message', text: 'after' }) });
      const second = await open(body.streamUrl);
      expect(second.set?.activities.map((x) => x.text)).toEqual(['after']);
      lingering = second.ws; // left open: shutdown must close it
    });
  });
});
