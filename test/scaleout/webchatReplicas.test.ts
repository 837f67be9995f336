/**
 * The local web channel with no replica-local state: two web processes (A, B) and a worker on one
 * real PostgreSQL, no connector secret configured (it comes from the database), Direct Line calls
 * sent to whichever replica — as a round-robin balancer does.
 *
 * Broken on purpose (docs/notes/dlstore.md has what failed): the in-memory store (before this
 * change) fails every cross-replica case; the stream's LISTEN not issued → "a stream ticket from A
 * opens on B…" gets nothing on B; the webchat proactive channel not registered → the worker's
 * notification goes over HTTP to the dead replica named in the reference and never arrives.
 */
import { rmSync } from 'node:fs';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApp } from '../../src/app.js';
import { renderActivity } from '../../src/chat/renderActivity.js';
import { databaseTargets, freshPgliteDataDir, waitFor, type TestDatabase } from '../helpers/databases.js';
import { IntentTableRecognizer } from '../helpers/intentTable.js';
import { rows, startProcurementApp, TEST_INTENT_PATTERNS, TEST_INTENTS } from '../helpers/procurementFixture.js';
import { post, startTestApp } from '../helpers/testApp.js';

const postgres = (await databaseTargets()).find((t) => t.kind === 'postgres')!;
const recognizer = new IntentTableRecognizer(TEST_INTENTS, TEST_INTENT_PATTERNS);

interface Activity {
  id: string;
  type: string;
  text?: string;
  from: { id: string; role?: string };
  channelData?: Record<string, unknown>;
  attachments?: { contentUrl?: string; name?: string }[];
  [key: string]: unknown;
}

/** A Direct Line client that sends each call to the replica it is given. */
class Client {
  watermark = '';
  /** Every activity this client polled, in the order it got them. */
  readonly received: Activity[] = [];

  constructor(
    readonly conversationId: string,
    readonly token: string,
  ) {}

  static async start(app: RunningApp, user: { id: string; name?: string }): Promise<Client> {
    const res = await post(`${app.url}/v3/directline/conversations`, { user });
    expect(res.status).toBe(201);
    const { conversationId, token } = res.json as { conversationId: string; token: string };
    return new Client(conversationId, token);
  }

  private url(app: RunningApp, tail = ''): string {
    return `${app.url}/v3/directline/conversations/${encodeURIComponent(this.conversationId)}${tail}`;
  }

  async send(app: RunningApp, activity: Record<string, unknown>): Promise<string> {
    const res = await post(this.url(app, '/activities'), activity, { authorization: `Bearer ${this.token}` });
    expect(res.status).toBe(200);
    return (res.json as { id: string }).id;
  }

  async poll(app: RunningApp, watermark = this.watermark): Promise<Activity[]> {
    const res = await fetch(this.url(app, `/activities?watermark=${watermark}`), { headers: { authorization: `Bearer ${this.token}` } });
    expect(res.status).toBe(200);
    const set = (await res.json()) as { activities: Activity[]; watermark: string };
    if (watermark === this.watermark) {
      this.watermark = set.watermark;
      this.received.push(...set.activities);
    }
    return set.activities;
  }

  /** The whole log as any replica has it (no watermark). */
  all(app: RunningApp): Promise<Activity[]> {
    return this.poll(app, '');
  }

  async streamUrl(app: RunningApp): Promise<string> {
    const res = await fetch(this.url(app, `?watermark=${this.watermark}`), { headers: { authorization: `Bearer ${this.token}` } });
    expect(res.status).toBe(200);
    return ((await res.json()) as { streamUrl: string }).streamUrl;
  }
}

const buttonsOf = (a: Activity) => renderActivity(a as never).choices.filter((c) => c.value !== undefined);

describe.skipIf(postgres.skip)('web chat on two replicas of one PostgreSQL', () => {
  let db: TestDatabase;
  const running = new Set<RunningApp>();
  let a: RunningApp;
  let b: RunningApp;
  let worker: RunningApp;

  const start = async (role: 'web' | 'worker') => {
    // WEBCHAT_ENABLED on the worker too (same settings on every process, as a ConfigMap gives them).
    const app = await startProcurementApp(db.config, { ROLE: role, WEBCHAT_ENABLED: 'true', JOB_STILL_WORKING_S: '0' }, { recognizer });
    running.add(app);
    return app;
  };
  const stop = async (app: RunningApp) => {
    running.delete(app);
    await app.close();
  };

  beforeAll(async () => {
    db = await postgres.create();
    worker = await start('worker'); // creates the job queues the web replicas send to
    a = await start('web');
    b = await start('web');
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled([...running].map((app) => app.close()));
    await db?.dispose();
  });

  it('start on A, post on B, polls alternating A/B/A/B: every activity exactly once, in order', async () => {
    const dl = await Client.start(a, { id: 'rita', name: 'Rita' });
    const replicas = [a, b];
    let turn = 0;
    const pollBoth = async () => {
      await dl.poll(replicas[turn++ % 2]!);
    };
    await pollBoth();
    for (const [i, text] of ['hello', 'help', 'hi', 'hello'].entries()) {
      await dl.send(replicas[(i + 1) % 2]!, { type: 'message', text, channelData: { clientActivityID: `c${i}` } });
      await pollBoth();
      await pollBoth();
    }
    await waitFor(async () => {
      await pollBoth();
      return dl.received.filter((x) => x.from.role === 'bot').length >= 5; // welcome + 4 replies
    }, 10_000, 'the replies');
    const log = await dl.all(b);
    expect(dl.received.map((x) => x.id)).toEqual(log.map((x) => x.id));
    expect(new Set(log.map((x) => x.id)).size).toBe(log.length);
    expect(log.filter((x) => x.from.role === 'user').map((x) => x.text)).toEqual(['hello', 'help', 'hi', 'hello']);
    expect(log.length).toBeGreaterThanOrEqual(9);
  });

  it('a token generated on A refreshes and starts the conversation on B', async () => {
    const gen = await post(`${a.url}/v3/directline/tokens/generate`, { user: { id: 'tom', name: 'Tom' } });
    expect(gen.status).toBe(200);
    const { conversationId, token } = gen.json as { conversationId: string; token: string };
    const refreshed = await fetch(`${b.url}/v3/directline/tokens/refresh`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(refreshed.status).toBe(200);
    expect(await refreshed.json()).toMatchObject({ conversationId, token });
    const started = await fetch(`${b.url}/v3/directline/conversations`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(started.status).toBe(201); // B sends the welcome: A only reserved it
    const again = await fetch(`${a.url}/v3/directline/conversations`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(again.status).toBe(200); // started already, on the other replica: no second welcome
    const dl = new Client(conversationId, token);
    await waitFor(async () => (await dl.poll(a)).length > 0 || dl.received.length > 0, 10_000, 'the welcome');
    expect(dl.received.filter((x) => x.type === 'message')).toHaveLength(1);
  });

  it('a file uploaded on A downloads from B', async () => {
    const dl = await Client.start(a, { id: 'uma' });
    const form = new FormData();
    form.append('activity', new Blob([JSON.stringify({ type: 'message', text: 'attached', channelData: { clientActivityID: 'u1' } })], { type: 'application/vnd.microsoft.activity' }));
    const bytes = Buffer.from('sku,qty\nSKU-1001,20\n');
    form.append('file', new Blob([bytes], { type: 'text/csv' }), 'lines.csv');
    const res = await fetch(`${a.url}/v3/directline/conversations/${dl.conversationId}/upload`, { method: 'POST', headers: { authorization: `Bearer ${dl.token}` }, body: form });
    expect(res.status).toBe(200);
    const log = await dl.all(b);
    const url = log.find((x) => x.channelData?.clientActivityID === 'u1')?.attachments?.[0]?.contentUrl;
    expect(url).toMatch(/^\/webchat\/files\//);
    const file = await fetch(`${b.url}${url}`);
    expect(file.status).toBe(200);
    expect(Buffer.from(await file.arrayBuffer())).toEqual(bytes);
  });

  it('a stream ticket from A opens on B (once, on any replica) and B pushes an activity posted on A', async () => {
    const dl = await Client.start(a, { id: 'sam' });
    await waitFor(async () => (await dl.poll(a)).length > 0 || dl.received.length > 0, 10_000, 'the welcome');
    const fromA = await dl.streamUrl(a);
    expect(fromA).toContain(`127.0.0.1:${a.port}`);
    const onB = fromA.replace(`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`);
    const pushed: Activity[] = [];
    const ws = new WebSocket(onB);
    ws.on('message', (data) => {
      const text = String(data);
      if (text) pushed.push(...(JSON.parse(text) as { activities: Activity[] }).activities);
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => reject(new Error(`stream refused: ${res.statusCode}`)));
    });
    try {
      // Used on B: refused on A as well.
      const reuse = await new Promise<number>((resolve) => {
        const again = new WebSocket(fromA);
        again.once('open', () => {
          again.close();
          resolve(101);
        });
        again.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        again.once('error', () => undefined);
      });
      expect(reuse).toBe(403);

      await dl.send(a, { type: 'message', text: 'hello', channelData: { clientActivityID: 's1' } });
      await waitFor(() => pushed.some((x) => x.channelData?.clientActivityID === 's1') && pushed.some((x) => x.from.role === 'bot' && x.replyToId !== undefined), 10_000, 'the echo and the reply on B');
      expect(new Set(pushed.map((x) => x.id)).size).toBe(pushed.length);
    } finally {
      ws.close();
    }
  });

  it('concurrent posts on both replicas: a gap-free, duplicate-free sequence; alternating polls see each activity once', async () => {
    const dl = await Client.start(a, { id: 'cleo' });
    const per = 6;
    let done = false;
    let turn = 0;
    const poller = (async () => {
      while (!done) await dl.poll([a, b][turn++ % 2]!);
    })();
    const sends = [a, b].flatMap((app, r) =>
      Array.from({ length: per }, (_, i) => dl.send(app, { type: 'message', text: 'hello', channelData: { clientActivityID: `r${r}-${i}` } })),
    );
    const ids = await Promise.all(sends);
    await waitFor(async () => (await dl.all(a)).filter((x) => x.from.role === 'bot').length >= 2 * per + 1, 30_000, 'every reply');
    done = true;
    await poller;
    await dl.poll(b);

    expect(new Set(ids).size).toBe(2 * per);
    const seqs = await rows<{ seq: string }>(db.db.dataSource, 'SELECT seq FROM webchat_activities WHERE conversation_id = $1 ORDER BY seq', [dl.conversationId]);
    expect(seqs.map((r) => Number(r.seq))).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    const log = await dl.all(b);
    expect(log).toHaveLength(seqs.length);
    expect(dl.received.map((x) => x.id)).toEqual(log.map((x) => x.id));
    expect(new Set(log.map((x) => x.id)).size).toBe(log.length);
    expect(log.filter((x) => x.from.role === 'user').map((x) => x.channelData?.clientActivityID).sort()).toEqual(
      [0, 1].flatMap((r) => Array.from({ length: per }, (_, i) => `r${r}-${i}`)).sort(),
    );
  }, 60_000);

  it('a restarted replica keeps the conversation: same token, same watermark, same log', async () => {
    const dl = await Client.start(a, { id: 'rex' });
    await dl.send(a, { type: 'message', text: 'hello', channelData: { clientActivityID: 'before' } });
    await waitFor(async () => (await dl.poll(a), dl.received.filter((x) => x.from.role === 'bot').length >= 2), 10_000, 'welcome and reply');
    const before = await dl.all(a);
    await stop(a);
    a = await start('web');
    expect(await dl.poll(a)).toEqual([]); // nothing new after the watermark
    expect((await dl.all(a)).map((x) => x.id)).toEqual(before.map((x) => x.id));
    await dl.send(a, { type: 'message', text: 'hello', channelData: { clientActivityID: 'after' } });
    await waitFor(async () => (await dl.poll(a), dl.received.some((x) => x.channelData?.clientActivityID === 'after')), 10_000, 'the new echo');
  }, 60_000);

  it('a notification sent by the worker reaches the conversation, though the replica in its reference is gone', async () => {
    const dl = await Client.start(a, { id: 'paula', name: 'Paula' });
    await dl.send(a, { type: 'message', text: 'order 20 units of SKU-1001 from Acme Corp', channelData: { clientActivityID: 'o1' } });
    let card: Activity | undefined;
    await waitFor(async () => {
      await dl.poll(a);
      card = dl.received.find((x) => buttonsOf(x).length > 0);
      return card !== undefined;
    }, 10_000, 'the confirmation card');
    const confirm = buttonsOf(card!).find((c) => c.title === 'Confirm')!.value;

    // No worker while the click is taken on B: the job waits in the queue.
    await stop(worker);
    await dl.send(b, { type: 'message', value: confirm, channelData: { postBack: true, clientActivityID: 'o2' } });
    await waitFor(async () => (await dl.poll(b), dl.received.some((x) => /^On it: job \d+/.test(x.text ?? ''))), 10_000, '"On it"');
    // The conversation reference now names B's connector; B goes away before the job even runs.
    const [reference] = await rows<{ reference: { serviceUrl: string } }>(
      db.db.dataSource,
      `SELECT reference FROM conversation_references WHERE channel_id = 'webchat' AND conversation_id = $1`,
      [dl.conversationId],
    );
    expect(reference?.reference.serviceUrl).toContain(`:${b.port}/webchat/connector/`);
    await stop(b);

    worker = await start('worker');
    await waitFor(async () => (await dl.poll(a), dl.received.some((x) => /✅ PO-\d+ is placed/.test(x.text ?? ''))), 30_000, 'the "placed" notification on A');
    const log = await dl.all(a);
    expect(new Set(log.map((x) => x.id)).size).toBe(log.length);
    expect(log.filter((x) => /is placed/.test(x.text ?? ''))).toHaveLength(1);
  }, 90_000);
});

describe('web chat on the embedded database', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await freshPgliteDataDir();
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('a restart keeps the conversation, its token and its log', async () => {
    let app = await startTestApp({ DATA_DIR: dataDir });
    const dl = await Client.start(app, { id: 'pia' });
    try {
      await dl.send(app, { type: 'message', text: 'hello', channelData: { clientActivityID: 'x' } });
      await waitFor(async () => (await dl.poll(app), dl.received.filter((x) => x.from.role === 'bot').length >= 2), 10_000, 'welcome and reply');
    } finally {
      await app.close();
    }
    app = await startTestApp({ DATA_DIR: dataDir });
    try {
      expect(await dl.poll(app)).toEqual([]);
      expect((await dl.all(app)).map((x) => x.id)).toEqual(dl.received.map((x) => x.id));
      await dl.send(app, { type: 'message', text: 'hello', channelData: { clientActivityID: 'y' } });
    } finally {
      await app.close();
    }
  }, 60_000);
});
