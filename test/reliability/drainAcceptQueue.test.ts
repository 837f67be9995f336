import http from 'node:http';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { ShutdownDrain } from '../../src/bot/http/drain.js';

/**
 * The race behind a reset seen once in CI: a request whose connection is still in the kernel's accept
 * queue (or accepted but not yet parsed) when the drain closes the listener. It must get the drain's
 * 503 + Retry-After, never a reset with its bytes unread.
 */
describe('shutdown drain and connections not yet accepted', () => {
  it('answers 503 to requests that reach the server as the drain begins (no reset)', async () => {
    const drain = new ShutdownDrain(5);
    const server = http.createServer((req, res) =>
      drain.pre(req, res, (arg?: unknown) => {
        if (arg === false) return;
        res.end('ok');
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    const body = '{"type":"message"}';
    const request = `POST /api/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;

    // Eight clients connect and write their request; the drain starts in the same tick as the last
    // client's connect callback, before the server's event loop has had a chance to accept them all.
    const CLIENTS = 8;
    let connected = 0;
    let closing: Promise<unknown> | undefined;
    const outcomes = await Promise.all(
      Array.from({ length: CLIENTS }, () =>
        new Promise<string>((resolve) => {
          const socket = net.connect(port, '127.0.0.1', () => {
            socket.write(request);
            connected += 1;
            if (connected === CLIENTS) closing = drain.close(server, () => 0, 5000);
          });
          let text = '';
          socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
          socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
          socket.on('close', () => resolve(text.split('\r\n')[0] ?? ''));
        }),
      ),
    );
    await closing;
    expect(outcomes).toEqual(Array.from({ length: CLIENTS }, () => 'HTTP/1.1 503 Service Unavailable'));
  });
});
