/**
 * The drain at the HTTP edge, step by step, in process (src/bot/http/drain.ts; the SIGTERM test in
 * shutdownDrain.test.ts runs the whole thing under load in a child process). Once close() begins:
 * a turn already running finishes with its reply and `Connection: close`; a new turn on an open
 * keep-alive connection — /api/messages and Direct Line alike — gets 503 + Retry-After +
 * `Connection: close`; /readyz says not ready; other requests are still served, with close; then
 * the server stops.
 */
import http, { type IncomingHttpHeaders } from 'node:http';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApp } from '../../src/app.js';
import type { BotRecognizer } from '../../src/bot/bots/recognizer.js';
import { ConnectorReceiver } from '../../src/chat/connectorReceiver.js';
import { freshPgliteDataDir } from '../helpers/databases.js';
import { makeActivity, startTestApp } from '../helpers/testApp.js';

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

describe('graceful shutdown at the HTTP edge', () => {
  let app: RunningApp | undefined;
  let dataDir: string;
  const receiver = new ConnectorReceiver();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  let entered!: () => void;
  const inTurn = new Promise<void>((resolve) => (entered = resolve));
  let slowMode = false;

  beforeAll(async () => {
    dataDir = await freshPgliteDataDir();
    await receiver.start();
    const slow: BotRecognizer = {
      recognize: async () => {
        if (slowMode) {
          entered();
          await new Promise((r) => setTimeout(r, 700));
        }
        return { intent: 'assistant.thanks', confidence: 0.99, entities: [] };
      },
    };
    app = await startTestApp({ DATA_DIR: dataDir }, {}, { recognizer: slow });
  });

  afterAll(async () => {
    agent.destroy();
    await app?.close();
    await receiver.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const send = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    new Promise<Answer>((resolve, reject) => {
      const req = http.request(`${app!.url}${path}`, { method, agent, headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      });
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  const turn = (text: string) => send('POST', '/api/messages', makeActivity({ serviceUrl: receiver.serviceUrl, text, deliveryMode: 'expectReplies' }));

  it('finishes the running turn, refuses new ones on open connections with 503 + Retry-After, then stops', async () => {
    const a = app!;
    // Warm keep-alive connections: a web chat conversation, and several idle sockets in the agent.
    const started = await send('POST', '/v3/directline/tokens/generate', { user: { id: 'drain-user' } });
    expect(started.status).toBe(200);
    const { conversationId, token } = JSON.parse(started.body) as { conversationId: string; token: string };
    const warm = await Promise.all([turn('hello'), turn('hello'), turn('hello'), send('GET', '/healthz')]);
    expect(warm.map((w) => w.status)).toEqual([200, 200, 200, 200]);
    expect(started.headers.connection).toBe('keep-alive');

    slowMode = true;
    const running = turn('thanks');
    await inTurn;
    const closed = a.close();

    const refused = await turn('hello');
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toMatch(/^\d+$/);
    expect(refused.headers.connection).toBe('close');
    expect(JSON.parse(refused.body)).toMatchObject({ error: { code: 'shutting_down' } });

    const directLine = await send('POST', `/v3/directline/conversations/${encodeURIComponent(conversationId)}/activities`, { type: 'message', text: 'hi' }, { authorization: `Bearer ${token}` });
    expect(directLine.status).toBe(503);
    expect(directLine.headers['retry-after']).toMatch(/^\d+$/);

    const ready = await send('GET', '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.headers.connection).toBe('close');
    const health = await send('GET', '/healthz');
    expect(health.status).toBe(200);
    expect(health.headers.connection).toBe('close');

    const finished = await running;
    expect(finished.status).toBe(200);
    expect(finished.headers.connection).toBe('close');
    expect((JSON.parse(finished.body) as { activities: unknown[] }).activities.length).toBeGreaterThan(0);

    await closed;
    app = undefined;
    await expect(fetch(`${a.url}/healthz`)).rejects.toThrow();
  });
});
