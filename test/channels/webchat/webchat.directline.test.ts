import { request as httpRequest } from 'node:http';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApp } from '../../../src/app.js';
import { HELP_TEXT, NON_TEXT_TEXT, WELCOME_TEXT } from '../../../src/bot/bots/replies.js';
import { ConfigError, loadConfig } from '../../../src/config/config.js';
import { freshPgliteDataDir, waitFor } from '../../helpers/databases.js';
import { LocalTokenIssuer } from '../../helpers/tokenIssuer.js';
import { makeActivity, post, startTestApp } from '../../helpers/testApp.js';

/**
 * The local web channel at the HTTP level: the Direct Line 3.0 calls Web Chat makes when it polls,
 * and the connector calls the bot makes back (reply, card update).
 */

const CONNECTOR_SECRET = 'test-connector-secret-0123456789';

interface Activity {
  type: string;
  id: string;
  text?: string;
  replyToId?: string;
  from: { id: string; name?: string; role?: string };
  channelData?: Record<string, unknown>;
  attachments?: { contentType: string; contentUrl?: string; name?: string; content?: unknown }[];
  serviceUrl?: string;
  [key: string]: unknown;
}

interface ActivitySet {
  activities: Activity[];
  watermark: string;
}

interface Started {
  conversationId: string;
  token: string;
  expires_in: number;
}

/** A minimal Direct Line client: what botframework-directlinejs sends when it polls. */
class DirectLineClient {
  watermark = '';
  constructor(
    readonly base: string,
    readonly conversationId: string,
    readonly token: string,
  ) {}

  static async start(url: string, auth?: string, body?: unknown): Promise<DirectLineClient> {
    const res = await fetch(`${url}/v3/directline/conversations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${auth}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    expect(res.status).toBe(201);
    const started = (await res.json()) as Started;
    return new DirectLineClient(url, started.conversationId, started.token);
  }

  async send(activity: Record<string, unknown>, token = this.token): Promise<{ status: number; json: unknown }> {
    const res = await post(`${this.base}/v3/directline/conversations/${encodeURIComponent(this.conversationId)}/activities`, activity, {
      authorization: `Bearer ${token}`,
    });
    return { status: res.status, json: res.json };
  }

  async poll(watermark = this.watermark): Promise<ActivitySet> {
    const res = await fetch(
      `${this.base}/v3/directline/conversations/${encodeURIComponent(this.conversationId)}/activities?watermark=${watermark}`,
      { headers: { authorization: `Bearer ${this.token}` } },
    );
    expect(res.status).toBe(200);
    const set = (await res.json()) as ActivitySet;
    this.watermark = set.watermark;
    return set;
  }

  /** Polls until `count` new activities have arrived (the bot replies before POST returns, but be safe). */
  async next(count: number): Promise<Activity[]> {
    const got: Activity[] = [];
    await waitFor(async () => {
      got.push(...(await this.poll()).activities);
      return got.length >= count;
    }, 10_000, `${count} activities`);
    return got;
  }

  get connector(): string {
    return `${this.base}/webchat/connector/${CONNECTOR_SECRET}/v3/conversations/${encodeURIComponent(this.conversationId)}/activities`;
  }
}

function rawRequest(url: string, options: { method: string; headers: Record<string, string> }): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, options, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('local web channel (Direct Line 3.0 subset)', () => {
  let app: RunningApp;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await freshPgliteDataDir();
    app = await startTestApp({ DATA_DIR: dataDir }, {}, { webchat: { connectorSecret: CONNECTOR_SECRET } });
  });

  afterAll(async () => {
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts a conversation and greets the user through the bot', async () => {
    const dl = await DirectLineClient.start(app.url);
    expect(dl.conversationId).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(dl.token.length).toBeGreaterThanOrEqual(40);
    const [welcome] = await dl.next(1);
    expect(welcome).toMatchObject({ type: 'message', text: WELCOME_TEXT, from: { role: 'bot' } });
    expect(welcome?.serviceUrl).toBeUndefined(); // the connector URL (and its secret) stays server-side
  });

  it('posts a message, echoes it with its clientActivityID, then delivers the reply; the watermark advances', async () => {
    const dl = await DirectLineClient.start(app.url);
    await dl.next(1); // welcome
    const sent = await dl.send({
      type: 'message',
      text: 'hello',
      from: { id: 'ignored', name: 'Alice' },
      channelData: { clientActivityID: 'client-1' },
      serviceUrl: 'http://evil.example/', // a client cannot choose where the bot replies
    });
    expect(sent.status).toBe(200);
    const { id } = sent.json as { id: string };
    expect(id).toMatch(new RegExp(`^${dl.conversationId}\\|\\d{7}$`));

    const watermarkBefore = Number(dl.watermark);
    const [echo, reply] = await dl.next(2);
    expect(echo).toMatchObject({ id, type: 'message', text: 'hello', from: { role: 'user', name: 'Alice' } });
    expect(echo?.channelData?.clientActivityID).toBe('client-1');
    expect(echo?.from.id).toMatch(/^webchat:/);
    expect(reply).toMatchObject({ type: 'message', text: HELP_TEXT, replyToId: id, from: { role: 'bot' } });
    expect(Number(dl.watermark)).toBe(watermarkBefore + 2);

    // Nothing new after the watermark; everything again without one.
    expect((await dl.poll()).activities).toEqual([]);
    expect((await dl.poll('')).activities.map((a) => a.id)).toContain(id);
  });

  it('tokens/generate reserves a conversation bound to a user; the start call with that token opens it', async () => {
    const gen = await post(`${app.url}/v3/directline/tokens/generate`, { user: { id: 'alice', name: 'Alice' } });
    expect(gen.status).toBe(200);
    const { conversationId, token } = gen.json as Started;
    const dl = await DirectLineClient.start(app.url, token);
    expect(dl.conversationId).toBe(conversationId);
    expect(dl.token).toBe(token);
    await dl.next(1);
    await dl.send({ type: 'message', text: 'hi', from: { id: 'webchat:bob' }, channelData: { clientActivityID: 'c' } });
    const [echo] = await dl.next(2);
    expect(echo?.from).toMatchObject({ id: 'webchat:alice', name: 'Alice' });

    const refresh = await fetch(`${app.url}/v3/directline/tokens/refresh`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(refresh.status).toBe(200);
    expect(await refresh.json()).toMatchObject({ conversationId, token });
    const reconnect = await fetch(`${app.url}/v3/directline/conversations/${conversationId}?watermark=0`, { headers: { authorization: `Bearer ${token}` } });
    expect(reconnect.status).toBe(200);

    const bad = await post(`${app.url}/v3/directline/tokens/generate`, { user: { id: 'no spaces <allowed>' } });
    expect(bad.status).toBe(400);
  });

  it('shows a card the bot sends, passes its Action.Submit value to the bot, and shows the card update (PUT)', async () => {
    const dl = await DirectLineClient.start(app.url);
    await dl.next(1);
    const card = (text: string, withButton: boolean) => ({
      type: 'message',
      from: { id: 'rpa-assistant', name: 'RPA Assistant' },
      attachments: [
        {
          contentType: 'application/vnd.microsoft.card.adaptive',
          content: {
            type: 'AdaptiveCard',
            version: '1.5',
            body: [{ type: 'TextBlock', text }],
            actions: withButton ? [{ type: 'Action.Submit', title: 'Confirm', data: { action: 'confirm' } }] : [],
          },
        },
      ],
    });
    const posted = await post(dl.connector, card('Order 5 × SKU-1 — confirm?', true));
    expect(posted.status).toBe(200);
    const cardId = (posted.json as { id: string }).id;
    const [shown] = await dl.next(1);
    expect(shown).toMatchObject({ id: cardId, from: { role: 'bot' } });
    const sequence = shown?.channelData?.['webchat:sequence-id'];

    // The button click: Web Chat posts a message with the card's data as `value`.
    const click = await dl.send({ type: 'message', value: { action: 'confirm' }, channelData: { clientActivityID: 'click-1' } });
    expect(click.status).toBe(200);
    const [clickEcho, botAnswer] = await dl.next(2);
    expect(clickEcho).toMatchObject({ value: { action: 'confirm' }, from: { role: 'user' } });
    expect(botAnswer).toMatchObject({ text: NON_TEXT_TEXT, replyToId: (click.json as { id: string }).id });

    const update = await fetch(`${dl.connector}/${encodeURIComponent(cardId)}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...card('Order 5 × SKU-1 — confirmed ✓', false), id: cardId }),
    });
    expect(update.status).toBe(200);
    const { id: updatedId } = (await update.json()) as { id: string };
    const [updated] = await dl.next(1);
    // A new id, as Direct Line gives every activity; Web Chat replaces the card by its clientActivityID.
    expect(updated?.id).toBe(updatedId);
    expect(updatedId).not.toBe(cardId);
    expect(updated?.channelData?.clientActivityID).toBe(cardId);
    expect(updated?.timestamp).toBe(shown?.timestamp);
    expect(updated?.channelData?.['webchat:sequence-id']).toBe(sequence); // stays in place in the transcript
    expect(JSON.stringify(updated?.attachments)).toContain('confirmed ✓');

    const unknown = await fetch(`${dl.connector}/${encodeURIComponent(`${dl.conversationId}|9999999`)}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(card('x', false)),
    });
    expect(unknown.status).toBe(404);
  });

  it('uploads a file: the bot gets an absolute contentUrl, the client a relative one that serves the bytes', async () => {
    const dl = await DirectLineClient.start(app.url);
    await dl.next(1);
    const form = new FormData();
    form.append('activity', new Blob([JSON.stringify({ type: 'message', text: 'see attached', channelData: { clientActivityID: 'up-1' } })], { type: 'application/vnd.microsoft.activity' }));
    const bytes = Buffer.from('<html><script>alert(1)</script></html>');
    form.append('file', new Blob([bytes], { type: 'text/html' }), 'note.html');
    const res = await fetch(`${app.url}/v3/directline/conversations/${dl.conversationId}/upload?userId=x`, {
      method: 'POST',
      headers: { authorization: `Bearer ${dl.token}` },
      body: form,
    });
    expect(res.status).toBe(200);
    const [echo, reply] = await dl.next(2);
    expect(echo?.channelData?.clientActivityID).toBe('up-1');
    const attachment = echo?.attachments?.[0];
    expect(attachment).toMatchObject({ name: 'note.html', contentType: 'text/html' });
    expect(attachment?.contentUrl).toMatch(/^\/webchat\/files\/[A-Za-z0-9_-]{20,}$/);
    expect(reply?.text).toBe(HELP_TEXT); // the bot saw text + attachment

    const file = await fetch(`${app.url}${attachment?.contentUrl}`);
    expect(file.status).toBe(200);
    expect(Buffer.from(await file.arrayBuffer())).toEqual(bytes);
    // Uploaded HTML is never served as a page.
    expect(file.headers.get('content-type')).toBe('application/octet-stream');
    expect(file.headers.get('content-disposition')).toMatch(/^attachment/);
    expect(file.headers.get('content-security-policy')).toContain('sandbox');
    expect(file.headers.get('x-content-type-options')).toBe('nosniff');
    expect((await fetch(`${app.url}/webchat/files/not-a-file`)).status).toBe(404);
  });

  it('traces web chat turns like any other channel', async () => {
    const dl = await DirectLineClient.start(app.url);
    await dl.next(1);
    await dl.send({ type: 'message', text: 'trace me', channelData: { clientActivityID: 't' } });
    await app.traceWriter.flush();
    const res = await fetch(`${app.url}/api/traces?limit=1000`);
    const { traces } = (await res.json()) as { traces: { conversationId?: string; channelId?: string; outcome: string; stages: Record<string, number> }[] };
    const mine = traces.filter((t) => t.conversationId === dl.conversationId);
    expect(mine).toHaveLength(2); // conversationUpdate + message
    for (const t of mine) {
      expect(t).toMatchObject({ channelId: 'webchat', outcome: 'ok' });
      expect(t.stages.receive).toBeGreaterThanOrEqual(0);
    }
  });

  describe('refuses', () => {
    let dl: DirectLineClient;
    let other: DirectLineClient;
    beforeAll(async () => {
      dl = await DirectLineClient.start(app.url);
      other = await DirectLineClient.start(app.url);
    });
    const activities = (id: string) => `${app.url}/v3/directline/conversations/${encodeURIComponent(id)}/activities`;

    it('no token → 401', async () => {
      expect((await fetch(activities(dl.conversationId))).status).toBe(401);
      expect((await post(activities(dl.conversationId), { type: 'message', text: 'x' })).status).toBe(401);
    });

    it('a wrong token, or another conversation’s token → 403', async () => {
      expect((await dl.send({ type: 'message', text: 'x' }, 'not-the-token')).status).toBe(403);
      expect((await dl.send({ type: 'message', text: 'x' }, other.token)).status).toBe(403);
      const res = await fetch(activities(dl.conversationId), { headers: { authorization: `Bearer ${other.token}` } });
      expect(res.status).toBe(403);
    });

    it('an unknown conversation → 404', async () => {
      const res = await fetch(activities('no-such-conversation'), { headers: { authorization: `Bearer ${dl.token}` } });
      expect(res.status).toBe(404);
      expect((await post(activities('no-such-conversation'), { type: 'message' }, { authorization: `Bearer ${dl.token}` })).status).toBe(404);
    });

    it('activities a client may not send → 400', async () => {
      expect((await dl.send({ type: 'invoke', name: 'adaptiveCard/action' })).status).toBe(400);
      expect((await dl.send({ type: 'message', text: 'x'.repeat(16_001) })).status).toBe(400);
      expect((await dl.send({ type: 'message', attachments: [{ contentType: 'text/plain', contentUrl: 'http://evil.example/' }] })).status).toBe(400);
      expect((await post(activities(dl.conversationId), '{not json', { authorization: `Bearer ${dl.token}` })).status).toBe(400);
    });

    it('the connector under a wrong secret → 404 (nobody else can speak as the bot)', async () => {
      const url = `${app.url}/webchat/connector/wrong-secret/v3/conversations/${dl.conversationId}/activities`;
      expect((await post(url, { type: 'message', text: 'I am the bot' })).status).toBe(404);
      const unknownConversation = `${app.url}/webchat/connector/${CONNECTOR_SECRET}/v3/conversations/nope/activities`;
      expect((await post(unknownConversation, { type: 'message', text: 'x' })).status).toBe(404);
    });

    it('starting a conversation through a non-loopback Host name (DNS rebinding) → 401', async () => {
      const status = await rawRequest(`${app.url}/v3/directline/conversations`, { method: 'POST', headers: { host: 'attacker.example:3978' } });
      expect(status).toBe(401);
      const ok = await rawRequest(`${app.url}/v3/directline/conversations`, { method: 'POST', headers: { host: `localhost:${app.port}` } });
      expect(ok).toBe(201);
    });
  });
});

describe('local web channel with WEBCHAT_TOKEN', () => {
  let app: RunningApp;
  let dataDir: string;
  const WEBCHAT_TOKEN = 'a-long-enough-webchat-token';

  beforeAll(async () => {
    dataDir = await freshPgliteDataDir();
    app = await startTestApp({ DATA_DIR: dataDir }, { WEBCHAT_TOKEN });
  });

  afterAll(async () => {
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('needs the token to start a conversation (401 without, 403 wrong), then the conversation token', async () => {
    const start = (auth?: string) =>
      fetch(`${app.url}/v3/directline/conversations`, { method: 'POST', headers: auth ? { authorization: `Bearer ${auth}` } : {} });
    expect((await start()).status).toBe(401);
    expect((await start('wrong-token-of-some-length')).status).toBe(403);
    expect((await post(`${app.url}/v3/directline/tokens/generate`, {})).status).toBe(401);
    const dl = await DirectLineClient.start(app.url, WEBCHAT_TOKEN);
    expect(dl.token).not.toBe(WEBCHAT_TOKEN);
    await dl.next(1);
    // The shared token is not a conversation token.
    expect((await dl.send({ type: 'message', text: 'x' }, WEBCHAT_TOKEN)).status).toBe(403);
    expect((await dl.send({ type: 'message', text: 'x', channelData: { clientActivityID: '1' } })).status).toBe(200);
  });
});

describe('local web channel with Bot Framework auth on', () => {
  const APP_ID = '00000000-0000-0000-0000-00000000b07a';
  let app: RunningApp;
  let issuer: LocalTokenIssuer;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await freshPgliteDataDir();
    issuer = new LocalTokenIssuer();
    const metadataUrl = await issuer.start();
    app = await startTestApp(
      { DATA_DIR: dataDir },
      { MicrosoftAppId: APP_ID, MicrosoftAppPassword: 'never-used', BOT_OPENID_METADATA_URL: metadataUrl },
    );
  });

  afterAll(async () => {
    await app?.close();
    await issuer?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('chats without a Bot Framework JWT (its own tokens instead), while /api/messages still demands one', async () => {
    const anonymous = await post(`${app.url}/api/messages`, makeActivity({ serviceUrl: 'http://127.0.0.1:9/', text: 'hi', deliveryMode: 'expectReplies' }));
    expect(anonymous.status).toBe(401);
    const dl = await DirectLineClient.start(app.url);
    const [welcome] = await dl.next(1);
    expect(welcome?.text).toBe(WELCOME_TEXT);
    expect(welcome?.from.id).toBe(APP_ID);
    expect((await dl.send({ type: 'message', text: 'hello', channelData: { clientActivityID: 'a' } })).status).toBe(200);
    const [, reply] = await dl.next(2);
    expect(reply?.text).toBe(HELP_TEXT);
  });
});

describe('web chat switch', () => {
  it('is on by default on loopback, off elsewhere unless WEBCHAT_TOKEN is set', () => {
    expect(loadConfig({}).webchat).toEqual({ enabled: true, token: undefined });
    const publicAuth = { HOST: '0.0.0.0', MicrosoftAppId: 'app', MicrosoftAppPassword: 'secret' };
    expect(loadConfig(publicAuth).webchat.enabled).toBe(false);
    expect(loadConfig({ ...publicAuth, WEBCHAT_TOKEN: 'x'.repeat(16) }).webchat).toEqual({ enabled: true, token: 'x'.repeat(16) });
    expect(() => loadConfig({ ...publicAuth, WEBCHAT_ENABLED: 'true' })).toThrowError(ConfigError);
    expect(() => loadConfig({ ...publicAuth, WEBCHAT_ENABLED: 'true' })).toThrowError(/WEBCHAT_TOKEN/);
    expect(() => loadConfig({ WEBCHAT_TOKEN: 'short' })).toThrowError(/WEBCHAT_TOKEN/);
  });

  it('WEBCHAT_ENABLED=false removes the page and the channel', async () => {
    const dataDir = await freshPgliteDataDir();
    const app = await startTestApp({ DATA_DIR: dataDir }, { WEBCHAT_ENABLED: 'false' });
    try {
      expect((await fetch(`${app.url}/`)).status).toBe(404);
      expect((await fetch(`${app.url}/v3/directline/conversations`, { method: 'POST' })).status).toBe(404);
      expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
    } finally {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('serves the page with a strict CSP, and Web Chat from node_modules', async () => {
    const dataDir = await freshPgliteDataDir();
    const app = await startTestApp({ DATA_DIR: dataDir });
    try {
      const page = await fetch(`${app.url}/`);
      expect(page.status).toBe(200);
      const csp = page.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
      const html = await page.text();
      expect(html).toContain('/webchat/vendor/webchat.js');
      expect(html).not.toMatch(/https?:\/\//); // nothing from another origin
      const bundle = await fetch(`${app.url}/webchat/vendor/webchat.js`);
      expect(bundle.status).toBe(200);
      expect((await bundle.text()).length).toBeGreaterThan(1_000_000);
    } finally {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
