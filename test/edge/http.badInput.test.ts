import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApp } from '../../src/app.js';
import { ConnectorReceiver } from '../../src/chat/connectorReceiver.js';
import { makeActivity, post, startTestApp } from '../helpers/testApp.js';

/** Bad input never crashes the server nor leaks internals; the server keeps answering afterwards. */
describe('POST /api/messages with bad input', () => {
  let app: RunningApp;
  let receiver: ConnectorReceiver;
  let dataDir: string;
  let endpoint: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'rpa-bad-'));
    receiver = new ConnectorReceiver();
    await receiver.start();
    app = await startTestApp({ DATA_DIR: dataDir }, { MAX_BODY_BYTES: '4096' });
    endpoint = `${app.url}/api/messages`;
  });

  afterAll(async () => {
    await app?.close();
    await receiver?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const expectCleanError = (res: { text: string; json: unknown }, code: string) => {
    expect(res.json).toMatchObject({ error: { code } });
    expect(res.text).not.toMatch(/\bat .+\.(ts|js):\d+|stack|TypeError|ZodError|SyntaxError/);
  };

  it.each([
    ['malformed JSON', '{"type": "message", '],
    ['a JSON array', '[1,2,3]'],
    ['a JSON string', '"hello"'],
    ['an empty body', ''],
  ])('%s → 400 with a JSON error', async (_name, body) => {
    const res = await post(endpoint, body);
    expect(res.status).toBe(400);
    expect(res.json).toHaveProperty('error.code');
    expectCleanError(res, (res.json as { error: { code: string } }).error.code);
  });

  it('a wrong type for `type` ({"type":5}) → 400, not a crash', async () => {
    const res = await post(endpoint, { type: 5 });
    expect(res.status).toBe(400);
    expectCleanError(res, 'invalid_activity');
  });

  it.each([
    ['missing conversation', { conversation: undefined }],
    ['missing from', { from: undefined }],
    ['missing serviceUrl', { serviceUrl: undefined }],
    ['serviceUrl not a URL', { serviceUrl: 'javascript:alert(1)' }],
    ['conversation id not a string', { conversation: { id: { $ne: null } } }],
  ])('%s → 400 naming the field', async (_name, patch) => {
    const res = await post(endpoint, { ...makeActivity({ serviceUrl: receiver.serviceUrl, text: 'hi' }), ...patch });
    expect(res.status).toBe(400);
    expectCleanError(res, 'invalid_activity');
  });

  it('a body over MAX_BODY_BYTES → 413', async () => {
    const res = await post(endpoint, makeActivity({ serviceUrl: receiver.serviceUrl, text: 'x'.repeat(5000) }));
    expect(res.status).toBe(413);
    expectCleanError(res, 'payload_too_large');
  });

  it('a chunked body over the limit (no content-length) → 413', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(endpoint, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      for (let i = 0; i < 10; i++) req.write('x'.repeat(1000));
      req.end();
    });
    expect(status).toBe(413);
  });

  it('a serviceUrl outside the allow-list is refused (no open relay) and nothing is sent there', async () => {
    const res = await post(endpoint, makeActivity({ serviceUrl: 'http://example.com/relay', text: 'hi' }));
    expect(res.status).toBe(403);
    expectCleanError(res, 'service_url_not_allowed');
  });

  it('injection attempts are just text: answered, schema intact', async () => {
    const text = "'; DROP TABLE turn_traces; -- <script>alert(1)</script> \u0000";
    const activity = makeActivity({ serviceUrl: receiver.serviceUrl, text, deliveryMode: 'expectReplies' });
    const res = await post(endpoint, activity);
    expect(res.status).toBe(200);
    await app.traceWriter.flush();
    const traces = await fetch(`${app.url}/api/traces?limit=100`);
    expect(traces.status).toBe(200);
    const { traces: rows } = (await traces.json()) as { traces: { conversationId?: string; outcome: string }[] };
    expect(rows.filter((r) => r.conversationId === activity.conversation.id)).toEqual([
      expect.objectContaining({ outcome: 'ok' }),
    ]);
    expect(app.traceWriter.stats().rejectedRows).toBe(0);
  });

  it('unknown routes and bad query parameters get JSON errors', async () => {
    const notFound = await fetch(`${app.url}/api/nope`);
    expect(notFound.status).toBe(404);
    const badLimit = await fetch(`${app.url}/api/traces?limit=abc`);
    expect(badLimit.status).toBe(400);
    const badWindow = await fetch(`${app.url}/api/traces/summary?window=1y`);
    expect(badWindow.status).toBe(400);
  });

  it('still serves a normal turn after all of the above', async () => {
    const res = await post(endpoint, makeActivity({ serviceUrl: receiver.serviceUrl, text: 'hello', deliveryMode: 'expectReplies' }));
    expect(res.status).toBe(200);
    expect((res.json as { activities: unknown[] }).activities.length).toBeGreaterThan(0);
  });
});
