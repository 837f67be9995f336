/**
 * File downloads go only where the channel keeps its files (issue 13, item 3):
 * - Teams `file.download.info` links: only on activities of the Teams channel, only from the Teams
 *   file hosts, never to a loopback/private/link-local address unless that origin was named
 *   explicitly; every redirect re-checked; DNS resolved once and the checked address used.
 * - A channel's own file store (same origin as its serviceUrl): private addresses only when trusted.
 * Real local HTTPS servers (a self-signed certificate made with openssl) and an injected resolver
 * that points public-looking names at loopback; a counting sink proves 0 connections.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApp } from '../../src/app.js';
import { isPublicAddress, type Resolver } from '../../src/bot/files/addressGuard.js';
import { createFetchPolicy, readAttachment, TEAMS_FILE_DOWNLOAD_INFO, type FetchPolicy } from '../../src/bot/files/inbound.js';
import { databaseTargets, type TestDatabase } from '../helpers/databases.js';
import { makeActivity, post, startTestApp } from '../helpers/testApp.js';

const XLSX_BYTES = Buffer.from('PK\u0003\u0004 pretend workbook');

let dir: string;
let cert: Buffer;
let key: Buffer;

/** An https server on loopback that counts TCP connections and the requests it answers. */
class TlsServer {
  connections = 0;
  requests: string[] = [];
  port = 0;
  private server?: Server;

  constructor(private readonly routes: (path: string) => { status: number; headers?: Record<string, string>; body?: Buffer | string }) {}

  async listen(host = '127.0.0.1'): Promise<this> {
    const server = createServer({ cert, key }, (req, res) => {
      this.requests.push(req.url ?? '');
      const r = this.routes(req.url ?? '');
      res.writeHead(r.status, r.headers ?? {});
      res.end(r.body ?? ''); // not chained: restify's patched writeHead returns nothing
    });
    server.on('connection', () => (this.connections += 1));
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  close(): Promise<void> {
    this.server?.closeAllConnections();
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

const sink = new TlsServer(() => ({ status: 200, body: 'internal secret' }));
const sinkV6 = new TlsServer(() => ({ status: 200, body: 'internal secret' }));
const files = new TlsServer((path) => {
  if (path === '/ok.xlsx') return { status: 200, body: XLSX_BYTES };
  if (path === '/moved') return { status: 302, headers: { location: '/ok.xlsx' } };
  if (path === '/to-loopback') return { status: 302, headers: { location: `https://127.0.0.1:${sink.port}/secret` } };
  if (path === '/to-name') return { status: 302, headers: { location: `https://evil-my.sharepoint.com:${sink.port}/secret` } };
  if (path === '/to-metadata') return { status: 302, headers: { location: 'http://169.254.169.254/latest/meta-data/' } };
  if (path === '/to-v6') return { status: 302, headers: { location: `https://[::1]:${sinkV6.port}/secret` } };
  return { status: 404 };
});

/** DNS: SharePoint-looking names → loopback (a hostile or rebinding DNS answer). */
const lookups: string[] = [];
const resolve: Resolver = async (host) => {
  lookups.push(host);
  if (host.endsWith('.sharepoint.com')) return [{ address: '127.0.0.1', family: 4 }];
  throw new Error(`ENOTFOUND ${host}`);
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'outbound-tls-'));
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=outbound-test',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    '-addext', 'subjectAltName=DNS:contoso-my.sharepoint.com,DNS:evil-my.sharepoint.com,IP:127.0.0.1,IP:::1',
  ], { stdio: 'ignore' });
  cert = readFileSync(join(dir, 'cert.pem'));
  key = readFileSync(join(dir, 'key.pem'));
  await Promise.all([sink.listen(), sinkV6.listen('::1'), files.listen()]);
});

afterAll(async () => {
  await Promise.all([sink.close(), sinkV6.close(), files.close()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const teamsFile = (downloadUrl: string, name = 'orders.xlsx') => ({
  contentType: TEAMS_FILE_DOWNLOAD_INFO,
  name,
  content: { downloadUrl, fileType: 'xlsx' },
});
const teams = { serviceUrl: 'https://smba.trafficmanager.net/emea/', channelId: 'msteams' };

/** The operator named the (loopback) SharePoint stand-in exactly; SharePoint names in general need public addresses. */
const policy = (): FetchPolicy =>
  createFetchPolicy({
    maxBytes: 1024 * 1024,
    timeoutMs: 5_000,
    resolve,
    ca: cert,
    teamsFileHosts: [`https://contoso-my.sharepoint.com:${files.port}`, 'https://*.sharepoint.com:*'],
  });

const refused = async (p: Promise<unknown>): Promise<string> => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'the download was refused').toBeInstanceOf(Error);
  return (err as Error).message;
};

describe('public addresses', () => {
  it('only global unicast counts as public (IPv4-mapped IPv6 judged as IPv4)', () => {
    for (const a of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fe80::1', 'fc00::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', '224.0.0.1', 'not-an-ip']) {
      expect(isPublicAddress(a), a).toBe(false);
    }
    for (const a of ['8.8.8.8', '93.184.216.34', '2606:4700::1111', '::ffff:8.8.8.8']) expect(isPublicAddress(a), a).toBe(true);
  });
});

describe('Teams file links (real https servers on loopback, injected DNS)', () => {
  it('an explicitly allowed origin works, its own redirects included', async () => {
    const file = await readAttachment(teamsFile(`https://contoso-my.sharepoint.com:${files.port}/ok.xlsx`), teams, policy());
    expect(file.bytes.equals(XLSX_BYTES)).toBe(true);
    const moved = await readAttachment(teamsFile(`https://contoso-my.sharepoint.com:${files.port}/moved`), teams, policy());
    expect(moved.bytes.equals(XLSX_BYTES)).toBe(true);
  });

  it('https to loopback, directly or by redirect from the allowed host → refused, 0 connections at the sink', async () => {
    const before = files.requests.length;
    const direct = [
      `https://127.0.0.1:${sink.port}/secret`, // loopback literal, not a Teams host
      `https://evil-my.sharepoint.com:${sink.port}/secret`, // a SharePoint name whose DNS answer is loopback
      `https://[::1]:${sinkV6.port}/secret`,
      `https://[::ffff:127.0.0.1]:${sink.port}/secret`,
      `https://user:pw@contoso-my.sharepoint.com:${files.port}/ok.xlsx`,
    ];
    for (const url of direct) expect(await refused(readAttachment(teamsFile(url), teams, policy())), url).toMatch(/^I can't download "orders\.xlsx" from https:\/\//);
    for (const path of ['/to-loopback', '/to-name', '/to-v6', '/to-metadata']) {
      const message = await refused(readAttachment(teamsFile(`https://contoso-my.sharepoint.com:${files.port}${path}`), teams, policy()));
      expect(message, path).toMatch(/^I can't download "orders\.xlsx" from https?:\/\/(127\.0\.0\.1|evil-my\.sharepoint\.com|\[::1\]|169\.254\.169\.254)/);
    }
    expect(files.requests.length - before).toBe(4); // each redirect was served by the allowed host, then refused
    expect(sink.connections).toBe(0);
    expect(sinkV6.connections).toBe(0);
  });

  it('the same link from another channel than Teams is refused before any request', async () => {
    const before = files.requests.length;
    for (const channelId of ['webchat', 'emulator', 'slack', 'test']) {
      expect(await refused(readAttachment(teamsFile(`https://contoso-my.sharepoint.com:${files.port}/ok.xlsx`), { ...teams, channelId }, policy()))).toMatch(
        /only comes from Teams/,
      );
    }
    expect(files.requests.length).toBe(before);
  });

  it('the built-in Teams hosts need public addresses: a sharepoint.com name resolving to loopback is refused', async () => {
    const builtIn = createFetchPolicy({ maxBytes: 1024, resolve, ca: cert });
    expect(await refused(readAttachment(teamsFile(`https://evil-my.sharepoint.com:${sink.port}/x`), teams, builtIn))).toMatch(/^I can't download/);
    expect(await refused(readAttachment(teamsFile('https://evil.example/x'), teams, builtIn))).toMatch(/^I can't download "orders\.xlsx" from https:\/\/evil\.example/);
    expect(sink.connections).toBe(0);
  });

  it('DNS is asked once per hop and the checked address is the one connected to (no rebinding)', async () => {
    let calls = 0;
    // The first answer is public (passes the check), any later one loopback: a rebinding attack.
    const rebinding: Resolver = async () => (calls++ === 0 ? [{ address: '8.8.8.8', family: 4 }] : [{ address: '127.0.0.1', family: 4 }]);
    const p = createFetchPolicy({ maxBytes: 1024, resolve: rebinding, ca: cert, timeoutMs: 1_500, teamsFileHosts: ['https://*.sharepoint.com:*'] });
    // It goes to 8.8.8.8 (unreachable here, or a TLS failure): never to the loopback answer.
    await refused(readAttachment(teamsFile(`https://evil-my.sharepoint.com:${sink.port}/x`), teams, p));
    expect(calls).toBe(1);
    expect(sink.connections).toBe(0);
  });
});

describe("a channel's own file store (same origin as its serviceUrl)", () => {
  it('on loopback only when that origin is trusted; a redirect elsewhere is refused', async () => {
    const store = `https://127.0.0.1:${files.port}`;
    const att = { contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', name: 'a.xlsx', contentUrl: `${store}/ok.xlsx` };
    const untrusted = createFetchPolicy({ maxBytes: 1024 * 1024, ca: cert });
    expect(await refused(readAttachment(att, { serviceUrl: store, channelId: 'emulator' }, untrusted))).toMatch(/^I can't download "a\.xlsx" from https:\/\/127\.0\.0\.1/);
    const trusted = createFetchPolicy({ maxBytes: 1024 * 1024, ca: cert, isTrustedOrigin: (o) => o === store });
    expect((await readAttachment(att, { serviceUrl: store, channelId: 'emulator' }, trusted)).bytes.equals(XLSX_BYTES)).toBe(true);
    expect(await refused(readAttachment({ ...att, contentUrl: `${store}/to-loopback` }, { serviceUrl: store, channelId: 'emulator' }, trusted))).toMatch(
      /^I can't download "a\.xlsx" from https:\/\/127\.0\.0\.1:\d+\./,
    );
    expect(sink.connections).toBe(0);
  });
});

const pglite = (await databaseTargets()).find((t) => t.kind === 'pglite')!;

describe.skipIf(pglite.skip)('the server wires it (real server, default configuration)', () => {
  let t: TestDatabase;
  let app: RunningApp;

  beforeAll(async () => {
    t = await pglite.create();
    await t.db.close();
    app = await startTestApp({ DATA_DIR: (t.config as { dataDir: string }).dataDir });
  });
  afterAll(async () => {
    await app?.close();
    await t?.dispose();
  });

  it('a Teams link to loopback (from Teams, and from another channel) is answered with a refusal, 0 connections', async () => {
    for (const channelId of ['msteams', 'test']) {
      const res = await post(
        `${app.url}/api/messages`,
        makeActivity({ serviceUrl: 'http://127.0.0.1:65535', channelId, text: '', attachments: [teamsFile(`https://127.0.0.1:${sink.port}/secret`)], deliveryMode: 'expectReplies' }),
      );
      expect(res.status).toBe(200);
      expect(JSON.stringify(res.json)).toMatch(/I can't download \\"orders\.xlsx\\"/);
    }
    expect(sink.connections).toBe(0);
  });
});
