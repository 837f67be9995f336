/**
 * The thin reply client (src/bot/replyClient/replyClient.ts, issue 16) sends what the SDK's
 * ConnectorClient sends — same URL, headers (names, order, values; the request id is fresh per
 * call either way), body bytes — and hands back what the SDK hands back: the ResourceResponse of a
 * 200/201/202, the RestError of anything else, the same retries. Differential: every case goes
 * through a client with the thin path and an identical client without it, against one fake channel.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { ConfigurationServiceClientCredentialFactory } from 'botbuilder';
import { ClaimsIdentity, type ConnectorClient } from 'botframework-connector';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { compileActivityJson } from '../../src/bot/replyClient/activityJson.js';
import { installThinReplies, replyClientStats, urlPrefix } from '../../src/bot/replyClient/replyClient.js';
import { RetryingBotFrameworkAuthentication } from '../../src/bot/teams/connectorRetry.js';
import { createAdapter } from '../../src/bot/adapter.js';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/logger.js';

interface Seen {
  method: string;
  url: string;
  headers: string[];
  body: string;
}
interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** The channel: records every request, answers from a script (default 200 {"id":"r-N"}). */
class FakeChannel {
  seen: Seen[] = [];
  script: Answer[] = [];
  private server!: Server;
  url = '';

  async start(host = '127.0.0.1'): Promise<void> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.seen.push({ method: req.method!, url: req.url!, headers: req.rawHeaders, body: Buffer.concat(chunks).toString('utf8') });
        const answer = this.script.shift() ?? { status: 200, headers: { 'content-type': 'application/json' }, body: `{"id":"r-${this.seen.length}"}` };
        res.writeHead(answer.status, answer.headers ?? {});
        res.end(answer.body ?? '');
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, host, resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = host.includes(':') ? `http://[${host}]:${port}` : `http://${host}:${port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** Requests without the per-call request id (checked to be a UUID) — what must be identical. */
  take(): Seen[] {
    const out = this.seen.map((s) => {
      const headers = [...s.headers];
      const i = headers.findIndex((h) => h.toLowerCase() === 'x-ms-client-request-id');
      expect(i).toBeGreaterThanOrEqual(0);
      expect(headers[i + 1]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      headers[i + 1] = '(uuid)';
      return { ...s, headers };
    });
    this.seen = [];
    return out;
  }
}

const retry = { retries: 2, baseDelayMs: 1, maxDelayMs: 5, random: () => 0 };
const auth = new RetryingBotFrameworkAuthentication(
  { MicrosoftAppId: '', MicrosoftAppPassword: '' },
  new ConfigurationServiceClientCredentialFactory({ MicrosoftAppId: '', MicrosoftAppPassword: '' }),
  retry,
  createLogger('silent'),
);

/**
 * Two kinds of client: `factory` — what the authentication's createConnectorFactory builds
 * (proactive sends); `turn` — what an inbound request's connector factory builds (a turn's replies,
 * the thin path's main user). Both carry our retry policy (connectorRetry.ts).
 */
type Kind = 'factory' | 'turn';
async function clients(serviceUrl: string, kind: Kind = 'factory'): Promise<{ sdk: ConnectorClient; thin: ConnectorClient }> {
  const factory =
    kind === 'factory'
      ? auth.createConnectorFactory(new ClaimsIdentity([], true))
      : (await auth.authenticateRequest({ type: 'message', channelId: 'msteams', serviceUrl, conversation: { id: 'c' } } as never, '')).connectorFactory!;
  const sdk = await factory.create(serviceUrl, undefined);
  const thin = await factory.create(serviceUrl, undefined);
  expect((sdk as unknown as { client: { pipeline: { getOrderedPolicies(): { name: string }[] } } }).client.pipeline.getOrderedPolicies().map((p) => p.name)).toContain('rpaConnectorRetryPolicy');
  expect(await installThinReplies(thin, serviceUrl)).toBe(true);
  return { sdk, thin };
}

/** How many attempts each client makes for this answer (our retry policy, on both kinds). */
function attempts(_kind: Kind, status: number): number {
  return [412, 429, 502, 504].includes(status) ? retry.retries + 1 : 1;
}

/** What a call gave back: the result (own keys, JSON) or the error's visible fields. */
async function outcome(call: () => Promise<unknown>): Promise<unknown> {
  try {
    const r = (await call()) as Record<string, unknown>;
    const response = r && (Object.getOwnPropertyDescriptor(r, '_response')?.value as { status?: number; bodyAsText?: string } | undefined);
    return { ok: JSON.stringify(r), keys: Object.getOwnPropertyNames(r), status: response?.status, text: response?.bodyAsText };
  } catch (e) {
    const err = e as { name?: string; message?: string; code?: string; statusCode?: number; response?: { status?: number; parsedBody?: unknown; bodyAsText?: string } };
    return { name: err.name, message: err.message, code: err.code, statusCode: err.statusCode, status: err.response?.status, parsedBody: err.response?.parsedBody, text: err.response?.bodyAsText };
  }
}

const base = { type: 'message', serviceUrl: 'http://x', channelId: 'msteams', from: { id: 'b1', name: 'Bot' }, recipient: { id: 'u1', name: 'U' }, conversation: { id: 'a:1' } };
const ACTIVITIES: Record<string, unknown> = {
  plain: { ...base, text: 'hello', replyToId: 'in-1', inputHint: 'acceptingInput', locale: 'en-US' },
  'mention with extra entity fields': { ...base, text: '<at>x</at> hi', entities: [{ type: 'mention', text: '<at>x</at>', mentioned: { id: 'm', name: 'n', extra: 1 }, '@context': 'y' }, { type: 'clientInfo', locale: 'en' }] },
  'adaptive card + suggested actions': {
    ...base,
    attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: { type: 'AdaptiveCard', body: [{ type: 'TextBlock', text: 'a "b" ü €' }], actions: [{ type: 'Action.Submit', data: { verb: 'confirm', nonce: 'n' } }] }, name: undefined }],
    suggestedActions: { to: ['u1'], actions: [{ type: 'imBack', title: 'Yes', value: 'yes', extra: 2 }, null] },
    attachmentLayout: 'carousel',
  },
  'dates, nulls, unknown fields': { ...base, timestamp: new Date(1_700_000_000_123), localTimestamp: '2026-12-07T10:00:00+02:00', expiration: '2026-12-08', text: null, speak: undefined, unknownTop: 1, channelData: { a: undefined, b: [1, null], c: { d: 'e' } }, value: [1, { x: 2 }] },
  'every other field': {
    ...base,
    id: 'act-1',
    callerId: 'urn:botframework:azure',
    textFormat: 'markdown',
    membersAdded: [{ id: 'm1', name: 'M', aadObjectId: 'aad', role: 'user', properties: { p: 1 } }],
    membersRemoved: [],
    reactionsAdded: [{ type: 'like' }],
    topicName: 't',
    historyDisclosed: false,
    summary: 's',
    action: 'add',
    label: 'l',
    valueType: 'v',
    name: 'n',
    relatesTo: { activityId: 'x', user: { id: 'u' }, bot: { id: 'b' }, conversation: { id: 'c', isGroup: true, conversationType: 'channel', tenantId: 't' }, channelId: 'msteams', serviceUrl: 'http://y' },
    code: 'completedSuccessfully',
    importance: 'high',
    deliveryMode: 'normal',
    listenFor: ['a', 'b'],
    textHighlights: [{ text: 'x', occurrence: 1 }],
    semanticAction: { id: 's', state: 'start', entities: { e1: { type: 'mention', text: 't', other: 1 }, e2: null } },
    conversation: { id: 'a:1', isGroup: false, name: 'c', properties: { q: [1] } },
  },
};
const IDS: [string, string][] = [
  ['a:1', 'in-1'],
  ['19:abc@thread.tacv2;messageid=1700000000000', '1700000000000'],
  ['conv with spaces/and/slashes', "it's (a) *test*!~"],
  ['ünïcödé-€-😀', '%2e%2F..x'],
];

describe.each<Kind>(['turn', 'factory'])('thin reply client (%s clients): the same requests and answers as the SDK', (kind) => {
  const channel = new FakeChannel();
  let sdk: ConnectorClient;
  let thin: ConnectorClient;
  beforeAll(async () => {
    await channel.start();
    ({ sdk, thin } = await clients(`${channel.url}/amer`, kind));
  });
  afterAll(() => channel.stop());
  beforeEach(() => {
    channel.seen = [];
    channel.script = [];
  });

  it('replyToActivity and sendToConversation: identical URL, headers and body for every activity and id', async () => {
    const before = replyClientStats.thin;
    for (const [name, activity] of Object.entries(ACTIVITIES)) {
      for (const [conversationId, activityId] of IDS) {
        const a = await outcome(() => sdk.conversations.replyToActivity(conversationId, activityId, activity as never));
        const b = await outcome(() => thin.conversations.replyToActivity(conversationId, activityId, activity as never));
        const c = await outcome(() => sdk.conversations.sendToConversation(conversationId, activity as never));
        const d = await outcome(() => thin.conversations.sendToConversation(conversationId, activity as never));
        const [ra, rb, rc, rd] = channel.take();
        expect(rb, name).toEqual(ra);
        expect(rd, name).toEqual(rc);
        // the answers differ only by the id the channel made up (r-1 vs r-2): compare their shape
        expect(JSON.stringify(b).replace(/r-\d+/g, 'r-N'), name).toBe(JSON.stringify(a).replace(/r-\d+/g, 'r-N'));
        expect(JSON.stringify(d).replace(/r-\d+/g, 'r-N'), name).toBe(JSON.stringify(c).replace(/r-\d+/g, 'r-N'));
      }
    }
    expect(replyClientStats.thin - before).toBe(2 * Object.keys(ACTIVITIES).length * IDS.length);
  });

  it('answers: 200/201/202 bodies, 204, channel errors with and without a JSON body, bad JSON, gzip — the same result or RestError', async () => {
    const answers: Answer[] = [
      { status: 200, headers: { 'content-type': 'application/json; charset=utf-8' }, body: '{"id":"x","extra":[1]}' },
      { status: 201, body: '{"id":"no-content-type"}' },
      { status: 202 },
      { status: 200, headers: { 'content-type': 'text/plain' }, body: 'ok' },
      { status: 204 },
      { status: 403, headers: { 'content-type': 'application/json' }, body: '{"error":{"code":"BotNotInConversationRoster","message":"The bot is not part of the conversation roster."}}' },
      { status: 404, headers: { 'content-type': 'application/json' }, body: '{"message":"no error object"}' },
      { status: 400, headers: { 'content-type': 'application/json' }, body: '{not json' },
      { status: 200, headers: { 'content-type': 'application/json' }, body: '{not json' },
      { status: 200, headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: gzipSync('{"id":"zipped"}') },
      { status: 412, headers: { 'content-type': 'application/json' }, body: '{"error":{"code":"PreconditionFailed","message":"m"}}' },
      { status: 503, headers: { 'retry-after': '0' }, body: 'unavailable' },
    ];
    answers.push({ status: 500, headers: { 'content-type': 'text/plain' }, body: 'boom' }, { status: 502, body: '' });
    for (const answer of answers) {
      const label = `${answer.status} ${String(answer.body ?? '')}`;
      // a retried answer comes back for every attempt of both clients
      const times = attempts(kind, answer.status);
      channel.script = Array.from({ length: times }, () => answer);
      const a = await outcome(() => sdk.conversations.replyToActivity('c', 'r', ACTIVITIES.plain as never));
      channel.script = Array.from({ length: times }, () => answer);
      const b = await outcome(() => thin.conversations.replyToActivity('c', 'r', ACTIVITIES.plain as never));
      expect(b, label).toEqual(a);
      const seen = channel.take();
      expect(seen, label).toHaveLength(2 * times);
      expect(seen.slice(times), label).toEqual(seen.slice(0, times));
    }
  });

  it('a channel error is an instance of the very RestError class the SDK throws (instanceof holds)', async () => {
    const denied: Answer = { status: 403, headers: { 'content-type': 'application/json' }, body: '{"error":{"code":"BotNotInConversationRoster","message":"m"}}' };
    channel.script = [denied];
    const a = await sdk.conversations.replyToActivity('c', 'r', ACTIVITIES.plain as never).catch((e: unknown) => e);
    channel.script = [denied];
    const b = await thin.conversations.replyToActivity('c', 'r', ACTIVITIES.plain as never).catch((e: unknown) => e);
    channel.take();
    expect(Object.getPrototypeOf(b)).toBe(Object.getPrototypeOf(a));
    expect((b as { statusCode: number }).statusCode).toBe(403);
  });

  it('a redirect answer goes to the SDK: after the one redirected POST, the same requests and the same result as the SDK alone', async () => {
    const moved = (): Answer => ({ status: 307, headers: { location: `${channel.url}/moved/v3/conversations/c/activities/r` } });
    channel.script = [moved()];
    const a = await outcome(() => sdk.conversations.replyToActivity('c', 'r', ACTIVITIES.plain as never));
    const sdkRequests = channel.seen.length;
    // A channel that redirects this POST redirects it again when the SDK repeats it.
    channel.script = [moved(), moved()];
    const b = await outcome(() => thin.conversations.replyToActivity('c', 'r', ACTIVITIES.plain as never));
    const seen = channel.take();
    expect(sdkRequests).toBeGreaterThan(1);
    expect(seen).toHaveLength(2 * sdkRequests + 1);
    expect(seen[sdkRequests]).toEqual(seen[0]);
    expect(seen.slice(sdkRequests + 1)).toEqual(seen.slice(0, sdkRequests));
    expect(JSON.stringify(b).replace(/r-\d+/g, 'r-N')).toBe(JSON.stringify(a).replace(/r-\d+/g, 'r-N'));
  });

  it('retries 429 with Retry-After the same way, one request id for every attempt, then succeeds', async () => {
    const throttled: Answer = { status: 429, headers: { 'retry-after': '0' } };
    channel.script = [throttled, throttled];
    const a = await outcome(() => sdk.conversations.replyToActivity('c', 'r', ACTIVITIES.plain as never));
    const sdkIds = channel.seen.map((s) => s.headers[s.headers.indexOf('x-ms-client-request-id') + 1]);
    channel.script = [throttled, throttled];
    const b = await outcome(() => thin.conversations.replyToActivity('c', 'r', ACTIVITIES.plain as never));
    const thinIds = channel.seen.slice(3).map((s) => s.headers[s.headers.indexOf('x-ms-client-request-id') + 1]);
    expect(new Set(sdkIds).size).toBe(1);
    expect(new Set(thinIds).size).toBe(1);
    expect(thinIds).toHaveLength(3);
    const seen = channel.take();
    expect(seen.slice(3)).toEqual(seen.slice(0, 3));
    expect(JSON.stringify(b).replace(/r-\d+/g, 'r-N')).toBe(JSON.stringify(a).replace(/r-\d+/g, 'r-N'));
  });

  it("signs with the client's own credentials, once per call, with the same Authorization header", async () => {
    const signer = (calls: string[]) => ({
      async signRequest(resource: { headers: { set(n: string, v: string): void } }) {
        calls.push('sign');
        resource.headers.set('authorization', 'Bearer token-from-the-sdk-cache');
        return resource;
      },
    });
    const sdkCalls: string[] = [];
    const thinCalls: string[] = [];
    (sdk as unknown as { credentials: unknown }).credentials = signer(sdkCalls);
    (thin as unknown as { credentials: unknown }).credentials = signer(thinCalls);
    try {
      channel.script = [{ status: 429, headers: { 'retry-after': '0' } }];
      await sdk.conversations.replyToActivity('c', 'r', ACTIVITIES.plain as never);
      channel.script = [{ status: 429, headers: { 'retry-after': '0' } }];
      await thin.conversations.replyToActivity('c', 'r', ACTIVITIES.plain as never);
      const seen = channel.take();
      expect(seen).toHaveLength(4);
      expect(seen.slice(2)).toEqual(seen.slice(0, 2));
      expect(seen[2]!.headers).toContain('Bearer token-from-the-sdk-cache');
      expect(thinCalls).toEqual(sdkCalls);
      expect(thinCalls).toEqual(['sign']);
    } finally {
      const restore = await clients(`${channel.url}/amer`, kind);
      sdk = restore.sdk;
      thin = restore.thin;
    }
  });

  it('what it does not copy goes to the SDK unchanged: wrong types, options, a throwing getter, dot-segment ids', async () => {
    const odd: [string, () => [unknown, unknown, unknown, ...unknown[]]][] = [
      ['text is a number', () => ['c', 'r', { ...base, text: 5 }]],
      ['timestamp not a date', () => ['c', 'r', { ...base, timestamp: 'yesterday' }]],
      ['entities not an array', () => ['c', 'r', { ...base, entities: 'x' }]],
      ['from is a string', () => ['c', 'r', { ...base, from: 'bot' }]],
      ['String object', () => ['c', 'r', { ...base, text: new String('boxed') }]],
      ['activity id ..', () => ['c', '..', base]],
      ['conversation id .', () => ['.', 'r', base]],
      ['lone surrogate id', () => ['c\ud800', 'r', base]],
      ['cyclic channelData', () => { const cd: Record<string, unknown> = {}; cd.self = cd; return ['c', 'r', { ...base, channelData: cd }]; }],
      ['throwing getter', () => ['c', 'r', Object.defineProperty({ ...base }, 'text', { get() { throw new Error('getter'); }, enumerable: true })]],
      ['undefined activity', () => ['c', 'r', undefined]],
      ['options argument', () => ['c', 'r', base, { customHeaders: { 'x-extra': '1' } }]],
    ];
    for (const [label, args] of odd) {
      const sdkBefore = replyClientStats.sdk;
      const thinBefore = replyClientStats.thin;
      const a = await outcome(() => (sdk.conversations.replyToActivity as (...x: unknown[]) => Promise<unknown>)(...args()));
      const b = await outcome(() => (thin.conversations.replyToActivity as (...x: unknown[]) => Promise<unknown>)(...args()));
      expect(JSON.stringify(b).replace(/r-\d+/g, 'r-N'), label).toBe(JSON.stringify(a).replace(/r-\d+/g, 'r-N'));
      expect(replyClientStats.sdk - sdkBefore, label).toBe(1);
      expect(replyClientStats.thin - thinBefore, label).toBe(0);
      const seen = channel.take();
      expect(seen.length % 2, label).toBe(0);
      expect(seen.slice(seen.length / 2), label).toEqual(seen.slice(0, seen.length / 2));
    }
  });

  it('other operations are the SDK’s own', async () => {
    const a = await outcome(() => sdk.conversations.updateActivity('c', 'a1', ACTIVITIES.plain as never));
    const b = await outcome(() => thin.conversations.updateActivity('c', 'a1', ACTIVITIES.plain as never));
    expect(JSON.stringify(b).replace(/r-\d+/g, 'r-N')).toBe(JSON.stringify(a).replace(/r-\d+/g, 'r-N'));
    const [ra, rb] = channel.take();
    expect(rb).toEqual(ra);
    expect(ra!.method).toBe('PUT');
  });
});

// (factory clients only: the SDK's default policy retries network errors with seconds of backoff)
describe('thin reply client: network errors', () => {
  it('a channel that refuses the connection: the same RestError (code) from both', async () => {
    const closed = new FakeChannel();
    await closed.start();
    const url = `${closed.url}/`;
    const pair = await clients(url, 'factory');
    await closed.stop();
    const a = await outcome(() => pair.sdk.conversations.replyToActivity('c', 'r', ACTIVITIES.plain as never));
    const b = await outcome(() => pair.thin.conversations.replyToActivity('c', 'r', ACTIVITIES.plain as never));
    expect(b).toEqual(a);
    expect(a).toMatchObject({ name: 'RestError', code: 'ECONNREFUSED' });
  });

});

describe('thin reply client: where it stays off', () => {
  it('a proxy in the environment, a pipeline it was not written for, a serviceUrl with a query', async () => {
    const factory = auth.createConnectorFactory(new ClaimsIdentity([], true));
    const client = await factory.create('http://127.0.0.1:9/', undefined);
    const conversations = client.conversations;
    expect(await installThinReplies(client, 'http://127.0.0.1:9/', { HTTPS_PROXY: 'http://proxy:3128' })).toBe(false);
    expect(await installThinReplies(client, 'http://127.0.0.1:9/?x=1', {})).toBe(false);
    const pipeline = (client as unknown as { client: { pipeline: { addPolicy(p: unknown): void } } }).client.pipeline;
    pipeline.addPolicy({ name: 'somebodyElsesPolicy', sendRequest: (r: unknown, next: (r: unknown) => unknown) => next(r) });
    expect(await installThinReplies(client, 'http://127.0.0.1:9/', {})).toBe(false);
    expect(client.conversations).toBe(conversations);
    // Another retry policy in the retry slot (the SDK's own): not the pipeline it was written against.
    const other = await factory.create('http://127.0.0.1:9/', undefined);
    const otherPipeline = (other as unknown as { client: { pipeline: { addPolicy(p: unknown, o: unknown): void; removePolicy(o: unknown): void } } }).client.pipeline;
    otherPipeline.removePolicy({ name: 'rpaConnectorRetryPolicy' });
    otherPipeline.addPolicy({ name: 'defaultRetryPolicy', sendRequest: (r: unknown, next: (r: unknown) => unknown) => next(r) }, { phase: 'Retry' });
    expect(await installThinReplies(other, 'http://127.0.0.1:9/', {})).toBe(false);
  });

  it('URL prefix: core-client’s path joining', () => {
    expect(urlPrefix('https://smba.trafficmanager.net/amer/')).toBe('https://smba.trafficmanager.net/amer/');
    expect(urlPrefix('https://smba.trafficmanager.net/amer')).toBe('https://smba.trafficmanager.net/amer/');
    expect(urlPrefix('http://127.0.0.1:3979')).toBe('http://127.0.0.1:3979/');
    expect(urlPrefix('http://[::1]:3979/x')).toBe('http://[::1]:3979/x/');
    expect(urlPrefix('http://h/{conversationId}')).toBeUndefined();
    expect(urlPrefix('ftp://h/')).toBeUndefined();
  });

  it('the SDK mappers compile (a new botframework-connector that adds what this does not copy turns the thin path off)', () => {
    expect(() => compileActivityJson()).not.toThrow();
    expect(() => compileActivityJson({ Activity: { type: { name: 'Composite', className: 'Activity', modelProperties: { x: { serializedName: 'x', required: true, type: { name: 'String' } } } } } } as never)).toThrow();
  });
});

describe('thin reply client in a turn (createAdapter → connector client cache)', () => {
  const channel = new FakeChannel();
  beforeAll(() => channel.start());
  afterAll(() => channel.stop());

  it('the reply of a turn goes the thin way and the channel gets the SDK’s request', async () => {
    const adapter = createAdapter(loadConfig({ LOG_LEVEL: 'silent' } as never), createLogger('silent'));
    const inbound = { type: 'message', id: 'in-1', text: 'hi', channelId: 'msteams', serviceUrl: `${channel.url}/amer`, from: { id: 'u1', name: 'U' }, recipient: { id: 'b1', name: 'B' }, conversation: { id: 'a:conv' } };
    const before = replyClientStats.thin;
    const ids: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      await adapter.processInbound('', inbound as never, async (context) => {
        ids.push((await context.sendActivity('hello'))?.id);
      });
    }
    expect(replyClientStats.thin - before).toBe(3);
    expect(ids).toEqual(['r-1', 'r-2', 'r-3']);
    // the same reply through a plain SDK client of the same pipeline
    const { sdk } = await clients(`${channel.url}/amer`, 'turn');
    const sent = JSON.parse(channel.seen[0]!.body) as Record<string, unknown>;
    await sdk.conversations.replyToActivity('a:conv', 'in-1', sent as never);
    const seen = channel.take();
    expect(seen[3]!.url).toBe('/amer/v3/conversations/a%3Aconv/activities/in-1');
    expect(seen[3]!.headers).toEqual(seen[0]!.headers);
    expect(seen[3]!.body).toBe(seen[0]!.body);
  });
});

// An https channel with a self-signed certificate (made with openssl, as test/edge/outbound.downloads
// does): neither client trusts it, so both must fail the same way — the https branch is taken, with
// the same TLS checks and the same error.
describe.each<Kind>(['turn', 'factory'])('https serviceUrl (%s clients)', (kind) => {
  let dir = '';
  let server: Server;
  let url = '';
  let requests = 0;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'reply-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=reply-test', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    server = createTlsServer({ cert: readFileSync(join(dir, 'cert.pem')), key: readFileSync(join(dir, 'key.pem')) }, (_req, res) => {
      requests++;
      res.end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/amer/`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('an untrusted certificate: the same RestError from both, nothing delivered', async () => {
    const { sdk, thin } = await clients(url, kind);
    const thinBefore = replyClientStats.thin;
    const a = await outcome(() => sdk.conversations.replyToActivity('c', 'r', ACTIVITIES.plain as never));
    const b = await outcome(() => thin.conversations.replyToActivity('c', 'r', ACTIVITIES.plain as never));
    expect(replyClientStats.thin - thinBefore).toBe(1);
    expect(b).toEqual(a);
    expect(a).toMatchObject({ name: 'RestError', code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    expect(requests).toBe(0);
  });
});

describe('IPv6 literal serviceUrl', () => {
  const channel = new FakeChannel();
  beforeAll(() => channel.start('::1'));
  afterAll(() => channel.stop());

  it('reaches http://[::1]:port like the SDK', async () => {
        const { sdk, thin } = await clients(`${channel.url}/`);
    await sdk.conversations.replyToActivity('c', 'r', ACTIVITIES.plain as never);
    await thin.conversations.replyToActivity('c', 'r', ACTIVITIES.plain as never);
    const [a, b] = channel.take();
    expect(b).toEqual(a);
  });
});
