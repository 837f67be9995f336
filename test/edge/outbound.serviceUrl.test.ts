/**
 * Outbound requests by origin, not host (issue 13, item 3). A server without Bot Framework auth
 * replies only to serviceUrls on SERVICE_URL_ALLOWLIST, matched by scheme + host + port:
 * - another port of an allowed host (an "internal admin" on loopback) → 403 and 0 connections at a
 *   counting sink (with the old host-only match the sink got the reply POSTs);
 * - the default list (loopback dynamic ports 32768-65535) never reaches a fixed service port;
 * - an allowed origin gets its replies;
 * - an IPv6 literal serviceUrl (`http://[::1]:port`) is decided by the list, and when allowed the
 *   reply arrives (the connector's HTTP client used to fail with `getaddrinfo ENOTFOUND [::1]`
 *   after ~10 s of retries, losing it).
 */
import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApp } from '../../src/app.js';
import { ConnectorReceiver } from '../../src/chat/connectorReceiver.js';
import { OriginAllowList, ServiceUrlPolicy, parseOriginRule } from '../../src/bot/http/serviceUrlPolicy.js';
import { loadConfig } from '../../src/config/config.js';
import { databaseTargets, type TestDatabase } from '../helpers/databases.js';
import { makeActivity, post, startTestApp } from '../helpers/testApp.js';

const pglite = (await databaseTargets()).find((t) => t.kind === 'pglite')!;

/** A TCP server that only counts connections (a stand-in for an internal service). */
class CountingSink {
  connections = 0;
  private server?: Server;

  async listen(host: string, port = 0): Promise<number> {
    const server = createServer((socket) => {
      this.connections += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    return (server.address() as AddressInfo).port;
  }

  /** Listens on a port below the dynamic range (where services live), trying a few. */
  async listenFixed(host: string): Promise<number> {
    for (let i = 0; i < 50; i++) {
      try {
        return await this.listen(host, 20_000 + Math.floor(Math.random() * 12_000));
      } catch {
        // taken: try another
      }
    }
    throw new Error('no free port below 32768');
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

const settle = () => new Promise((r) => setTimeout(r, 600)); // any reply (and its retries) would have started by then

describe('origin rules', () => {
  it('match scheme, host and port; canonical hosts; ranges, wildcards and the older bare-host form', () => {
    const policy = new ServiceUrlPolicy(['http://127.0.0.1:3979', 'https://*.trafficmanager.net', 'http://[::1]:40000-40010', 'http://localhost:*', 'legacy.example']);
    const cases: [string, boolean][] = [
      ['http://127.0.0.1:3979/v3/', true],
      ['http://127.0.0.1:3980/internal-admin/', false], // another port of an allowed host
      ['https://127.0.0.1:3979/', false], // another scheme
      ['http://127.1:3979/', true], // the same host, another spelling
      ['http://0x7f.0.0.1:3979/', true],
      ['http://127.0.0.1/', false], // default port 80
      ['http://user:pw@127.0.0.1:3979/', false],
      ['https://smba.trafficmanager.net/emea/', true],
      ['https://trafficmanager.net/', false], // a wildcard is for subdomains
      ['https://smba.trafficmanager.net:8443/', false],
      ['http://smba.trafficmanager.net/', false],
      ['http://[::1]:40005/', true],
      ['http://[::1]:40011/', false],
      ['http://[0:0:0:0:0:0:0:1]:40000/', true],
      ['http://localhost:1/', true],
      ['http://legacy.example:8080/', true], // bare host: any port, http or https (kept working)
      ['ftp://127.0.0.1:3979/', false],
      ['not a url', false],
    ];
    expect(cases.map(([url]) => [url, policy.isAllowed(url)])).toEqual(cases);
    expect(parseOriginRule('https://smba.trafficmanager.net').exact).toBe(true);
    expect(parseOriginRule('http://127.0.0.1:*').exact).toBe(false);
    for (const bad of ['http://127.0.0.1:0', 'http://127.0.0.1:70000', 'http://h:9-1', 'http://h/path', 'gopher://h', 'http://[::1']) {
      expect(() => new OriginAllowList([bad]), bad).toThrow(/invalid origin/);
    }
  });

  it('the default allow-list is loopback on dynamic ports only', () => {
    const policy = new ServiceUrlPolicy(loadConfig({}).serviceUrlAllowlist);
    expect(policy.isAllowed('http://127.0.0.1:45123/')).toBe(true);
    expect(policy.isAllowed('http://[::1]:45123/')).toBe(true);
    expect(policy.isAllowed('http://localhost:45123/')).toBe(true);
    for (const port of [80, 3978, 5432, 6379, 8080, 9200, 32767]) expect(policy.isAllowed(`http://127.0.0.1:${port}/`), String(port)).toBe(false);
    expect(policy.isAllowed('https://127.0.0.1:45123/')).toBe(false);
    expect(policy.isAllowed('http://10.0.0.5:45123/')).toBe(false);
  });
});

describe.skipIf(pglite.skip)('serviceUrl allow-list on a server without auth (real server, pglite)', () => {
  let t: TestDatabase;
  let exact: RunningApp | undefined;
  let defaults: RunningApp | undefined;
  const receiver = new ConnectorReceiver();
  const sink = new CountingSink();
  const fixedSink = new CountingSink();
  const v6Sink = new CountingSink();
  let sinkPort: number;
  let fixedPort: number;
  let v6SinkPort: number;
  let v6Server: HttpServer;
  let v6Port: number;
  const v6Posts: string[] = [];

  beforeAll(async () => {
    t = await pglite.create();
    await t.db.close();
    await receiver.start();
    sinkPort = await sink.listen('127.0.0.1');
    fixedPort = await fixedSink.listenFixed('127.0.0.1');
    v6SinkPort = await v6Sink.listenFixed('::1');
    // A channel connector on the IPv6 loopback (what a client bound to [::1] would be).
    v6Server = createHttpServer((req, res) => {
      v6Posts.push(`${req.method} ${req.url}`);
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' }); // not chained: restify patches writeHead
        res.end(JSON.stringify({ id: randomUUID() }));
      });
    });
    await new Promise<void>((resolve) => v6Server.listen(0, '::1', resolve));
    v6Port = (v6Server.address() as AddressInfo).port;
    const receiverPort = new URL(receiver.serviceUrl).port;
    exact = await startTestApp({ DATA_DIR: (t.config as { dataDir: string }).dataDir }, { SERVICE_URL_ALLOWLIST: `http://127.0.0.1:${receiverPort}` });
  });

  afterAll(async () => {
    await exact?.close();
    await defaults?.close();
    await receiver.stop();
    await Promise.all([sink.close(), fixedSink.close(), v6Sink.close()]);
    await new Promise<void>((resolve) => (v6Server ? v6Server.close(() => resolve()) : resolve()));
    await t?.dispose();
  });

  it('another port, scheme or host than the allowed origin → 403, and nothing reaches it', async () => {
    for (const serviceUrl of [`http://127.0.0.1:${sinkPort}/internal-admin/`, `http://localhost:${sinkPort}/`, `http://[::ffff:127.0.0.1]:${sinkPort}/`]) {
      const res = await post(`${exact!.url}/api/messages`, makeActivity({ serviceUrl, text: 'help' }));
      expect(res.status, serviceUrl).toBe(403);
      expect(res.text).toMatch(/service_url_not_allowed/);
    }
    await settle();
    expect(sink.connections).toBe(0);
  });

  it('the allowed origin gets its replies', async () => {
    const before = receiver.received.length;
    const res = await post(`${exact!.url}/api/messages`, makeActivity({ serviceUrl: receiver.serviceUrl, text: 'help' }));
    expect(res.status).toBe(200);
    const replies = await receiver.waitFor(before + 1, 10_000);
    expect(replies.length).toBeGreaterThan(before);
  });

  it('default allow-list: a fixed service port on loopback (v4 and v6) → 403, 0 connections; an IPv6-literal client gets its reply', async () => {
    await exact?.close(); // one server per embedded database
    exact = undefined;
    defaults = await startTestApp({ DATA_DIR: (t.config as { dataDir: string }).dataDir });
    for (const serviceUrl of [`http://127.0.0.1:${fixedPort}/internal-admin/`, `http://[::1]:${v6SinkPort}/`]) {
      const res = await post(`${defaults.url}/api/messages`, makeActivity({ serviceUrl, text: 'help' }));
      expect(res.status, serviceUrl).toBe(403);
    }
    const ok = await post(`${defaults.url}/api/messages`, makeActivity({ serviceUrl: `http://[::1]:${v6Port}`, text: 'help' }));
    expect(ok.status).toBe(200);
    // The reply reached the IPv6 connector (before the fix: ENOTFOUND [::1], retried ~10 s, lost).
    const t0 = Date.now();
    while (v6Posts.length === 0 && Date.now() - t0 < 8_000) await new Promise((r) => setTimeout(r, 20));
    expect(v6Posts.length).toBeGreaterThan(0);
    expect(v6Posts.every((p) => p.startsWith('POST /v3/conversations/'))).toBe(true);
    await settle();
    expect(fixedSink.connections).toBe(0);
    expect(v6Sink.connections).toBe(0);
  });
});
