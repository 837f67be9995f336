import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApp } from '../../src/app.js';
import { ConnectorReceiver } from '../../src/chat/connectorReceiver.js';
import type { DatabaseConfig } from '../../src/db/database.js';
import { execute } from '../../src/db/sql.js';
import { HELP_TEXT, WELCOME_TEXT } from '../../src/bot/bots/replies.js';
import type { BotRecognizer } from '../../src/bot/bots/recognizer.js';
import { databaseTargets, type TestDatabase } from '../helpers/databases.js';
import { makeActivity, post, startTestApp } from '../helpers/testApp.js';

const targets = await databaseTargets();

const envFor = (config: DatabaseConfig): Record<string, string> =>
  config.mode === 'embedded' ? { DATA_DIR: config.dataDir } : { DATABASE_URL: config.url };

interface TraceJson {
  turnId: string;
  conversationId?: string;
  stages: Record<string, number>;
  outcome: string;
  intent?: string;
}

describe.each(targets)('turns over HTTP on $name', (target) => {
  let t: TestDatabase;
  let receiver: ConnectorReceiver;
  let app: RunningApp | undefined;

  beforeAll(async () => {
    if (target.skip) return;
    t = await target.create();
    // The app opens the database itself (one PGlite process per directory).
    await t.db.close();
    receiver = new ConnectorReceiver();
    await receiver.start();
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  afterAll(async () => {
    await receiver?.stop();
    await t?.dispose();
  });

  const start = async (options: Parameters<typeof startTestApp>[2] = {}) => {
    app = await startTestApp(envFor(t.config), {}, options);
    return app;
  };

  const tracesOf = async (a: RunningApp, conversationId: string): Promise<TraceJson[]> => {
    await a.traceWriter.flush();
    const res = await fetch(`${a.url}/api/traces?limit=1000`);
    expect(res.status).toBe(200);
    const { traces } = (await res.json()) as { traces: TraceJson[] };
    return traces.filter((tr) => tr.conversationId === conversationId);
  };

  it.skipIf(target.skip)('answers in the HTTP body with deliveryMode expectReplies', async () => {
    const a = await start();
    const activity = makeActivity({ serviceUrl: receiver.serviceUrl, text: 'hello', deliveryMode: 'expectReplies' });
    const res = await post(`${a.url}/api/messages`, activity);
    expect(res.status).toBe(200);
    const body = res.json as { activities: { type: string; text: string; replyToId: string }[] };
    expect(body.activities).toHaveLength(1);
    expect(body.activities[0]).toMatchObject({ type: 'message', text: HELP_TEXT, replyToId: activity.id });
    // Nothing went to the serviceUrl: the replies were in the body.
    expect(receiver.received.filter((r) => r.conversationId === activity.conversation.id)).toHaveLength(0);
  });

  it.skipIf(target.skip)('replies to the channel serviceUrl and greets new members', async () => {
    const a = await start();
    const conversationId = `conv-callback-${target.kind}`;
    const join = makeActivity({
      serviceUrl: receiver.serviceUrl,
      conversationId,
      type: 'conversationUpdate',
      membersAdded: [{ id: 'user-1' }, { id: 'bot' }],
    });
    expect((await post(`${a.url}/api/messages`, join)).status).toBe(200);
    const message = makeActivity({ serviceUrl: receiver.serviceUrl, conversationId, text: 'what can you do?' });
    expect((await post(`${a.url}/api/messages`, message)).status).toBe(200);
    const got = await receiver.waitFor(2, 5000, (r) => r.conversationId === conversationId);
    expect(got.map((r) => r.activity.text)).toEqual([WELCOME_TEXT, HELP_TEXT]);
    expect(got[1]?.activity.replyToId).toBe(message.id);
  });

  it.skipIf(target.skip)('N turns leave N traces with the stages that ran, summarised in SQL', async () => {
    const a = await start();
    const conversationId = `conv-traces-${target.kind}`;
    const n = 25;
    for (let i = 0; i < n; i++) {
      const res = await post(
        `${a.url}/api/messages`,
        makeActivity({ serviceUrl: receiver.serviceUrl, conversationId, text: `message ${i}`, deliveryMode: 'expectReplies' }),
      );
      expect(res.status).toBe(200);
    }
    const traces = await tracesOf(a, conversationId);
    expect(traces).toHaveLength(n);
    for (const trace of traces) {
      expect(trace.outcome).toBe('ok');
      expect(Object.keys(trace.stages).sort()).toEqual(['receive', 'send']);
      // No model in this test: the nlu stage never ran, so it is absent rather than zero.
      expect(trace.stages).not.toHaveProperty('nlu');
    }
    const summary = (await (await fetch(`${a.url}/api/traces/summary?window=15m`)).json()) as {
      count: number;
      total: { p50: number; p99: number };
      stages: Record<string, { count: number; p50: number }>;
    };
    expect(summary.count).toBeGreaterThanOrEqual(n);
    expect(summary.stages.receive?.count).toBeGreaterThanOrEqual(n);
    expect(summary.total.p99).toBeGreaterThanOrEqual(summary.total.p50);
  });

  it.skipIf(target.skip)('records the nlu stage, intent and confidence when a recognizer runs', async () => {
    const recognizer: BotRecognizer = {
      recognize: async () => ({ intent: 'assistant.greet', confidence: 0.93, entities: [] }),
    };
    const a = await start({ recognizer });
    const conversationId = `conv-nlu-${target.kind}`;
    await post(
      `${a.url}/api/messages`,
      makeActivity({ serviceUrl: receiver.serviceUrl, conversationId, text: 'hi', deliveryMode: 'expectReplies' }),
    );
    const [trace] = await tracesOf(a, conversationId);
    expect(trace).toMatchObject({ intent: 'assistant.greet', outcome: 'ok' });
    expect(Object.keys(trace?.stages ?? {}).sort()).toEqual(['dialog', 'nlu', 'receive', 'send']);
  });

  it.skipIf(target.skip)('conversation state survives a server restart', async () => {
    const conversationId = `conv-state-${target.kind}`;
    for (let round = 0; round < 2; round++) {
      const a = await start();
      await post(
        `${a.url}/api/messages`,
        makeActivity({ serviceUrl: receiver.serviceUrl, conversationId, text: 'hello', deliveryMode: 'expectReplies' }),
      );
      await a.close();
      app = undefined;
    }
    const reopened = await t.reopen();
    try {
      const { rows } = await execute<{ document: { conversationData: { turns: number } } }>(
        reopened.dataSource,
        `SELECT document FROM bot_state WHERE key LIKE $1`,
        [`%/conversations/${conversationId}/%`],
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]?.document.conversationData.turns).toBe(2);
    } finally {
      await reopened.close();
    }
  });

  it.skipIf(target.skip)('graceful shutdown finishes the in-flight turn and flushes its trace', async () => {
    let entered!: () => void;
    const inTurn = new Promise<void>((resolve) => (entered = resolve));
    const slow: BotRecognizer = {
      recognize: async () => {
        entered();
        await new Promise((r) => setTimeout(r, 400));
        return { intent: 'assistant.thanks', confidence: 0.99, entities: [] };
      },
    };
    const a = await start({ recognizer: slow });
    const conversationId = `conv-shutdown-${target.kind}`;
    const pending = post(
      `${a.url}/api/messages`,
      makeActivity({ serviceUrl: receiver.serviceUrl, conversationId, text: 'thanks', deliveryMode: 'expectReplies' }),
    );
    await inTurn;
    const closed = a.close();
    app = undefined;
    const res = await pending;
    await closed;
    expect(res.status).toBe(200);
    expect((res.json as { activities: { text: string }[] }).activities[0]?.text).toBe("You're welcome!");
    // After close: new connections are refused.
    await expect(fetch(`${a.url}/healthz`)).rejects.toThrow();
    const reopened = await t.reopen();
    try {
      const { rows } = await execute<{ intent: string }>(
        reopened.dataSource,
        `SELECT intent FROM turn_traces WHERE conversation_id = $1`,
        [conversationId],
      );
      expect(rows).toEqual([{ intent: 'assistant.thanks' }]);
    } finally {
      await reopened.close();
    }
  });

  it.skipIf(target.skip)('/healthz and /readyz report liveness and readiness', async () => {
    const a = await start();
    expect((await fetch(`${a.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${a.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, checks: { database: true } });
  });
});
