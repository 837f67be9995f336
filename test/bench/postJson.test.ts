import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { postJson } from '../../bench/lib/postJson.js';

let server: Server | undefined;
afterEach(() => {
  server?.closeAllConnections();
  server?.close();
  server = undefined;
});

async function listen(handle: (req: IncomingMessage, body: string, reply: (status: number) => void) => void): Promise<{ url: URL; connections: () => number }> {
  let connections = 0;
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => handle(req, body, (status) => res.writeHead(status, { 'content-type': 'application/json' }).end('{"ok":true}')));
  });
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return { url: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/messages`), connections: () => connections };
}

describe('the open-loop generator\'s POST (bench/lib/postJson.ts)', () => {
  it('sends the JSON body with its headers and resolves with the status', async () => {
    const seen: { body: string; type?: string; auth?: string; length?: string }[] = [];
    const { url } = await listen((req, body, reply) => {
      seen.push({ body, type: req.headers['content-type'], auth: req.headers.authorization, length: req.headers['content-length'] });
      reply(seen.length === 1 ? 200 : 503);
    });
    const body = JSON.stringify({ type: 'message', text: 'Grüße, order 5 of SKU-1001' });
    expect(await postJson(url, body, { authorization: 'Bearer x' }, 5_000)).toBe(200);
    expect(await postJson(url, body, {}, 5_000)).toBe(503);
    expect(seen[0]).toEqual({ body, type: 'application/json', auth: 'Bearer x', length: String(Buffer.byteLength(body)) });
  });

  it('keeps the connection alive between requests', async () => {
    const { url, connections } = await listen((_req, _body, reply) => reply(200));
    for (let i = 0; i < 5; i++) await postJson(url, '{}', {}, 5_000);
    expect(connections()).toBe(1);
  });

  it('rejects with a TimeoutError when no answer comes in time', async () => {
    const { url } = await listen(() => undefined);
    const t0 = Date.now();
    await expect(postJson(url, '{}', {}, 150)).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(Date.now() - t0).toBeLessThan(5_000);
  });

  it('rejects when nothing listens', async () => {
    const { url } = await listen((_req, _body, reply) => reply(200));
    server!.close();
    server!.closeAllConnections();
    server = undefined;
    await expect(postJson(url, '{}', {}, 5_000)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
