/**
 * Admission control (src/bot/http/admission.ts) on the running app, on both databases: turns beyond
 * the configured limit and queue are answered 503 + Retry-After while the admitted ones are still
 * running; the admitted ones complete with their traces; /healthz and /readyz answer while
 * saturated; a turn past its deadline is answered 202 and still finishes; a saturated database pool
 * gives a "busy" reply, not the apology. Turns are held by a latch in the recognizer, so nothing
 * here depends on timing: "promptly" means "answered while the admitted turns are still blocked".
 */
import { randomUUID } from 'node:crypto';
import type { QueryRunner } from 'typeorm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApp } from '../../src/app.js';
import type { BotRecognizer } from '../../src/bot/bots/recognizer.js';
import type { DatabaseConfig } from '../../src/db/database.js';
import { databaseTargets, type TestDatabase } from '../helpers/databases.js';
import { IntentTableRecognizer } from '../helpers/intentTable.js';
import { makeActivity, post, startTestApp } from '../helpers/testApp.js';

const targets = await databaseTargets();

const envFor = (config: DatabaseConfig): Record<string, string> =>
  config.mode === 'embedded' ? { DATA_DIR: config.dataDir } : { DATABASE_URL: config.url };

/** A recognizer whose calls block until `open()`; `entered` counts calls that reached it. */
function latchedRecognizer() {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const state = { entered: 0 };
  const recognizer: BotRecognizer = {
    async recognize() {
      state.entered += 1;
      await gate;
      return { intent: 'assistant.help', confidence: 0.99, entities: [] };
    },
  };
  return { recognizer, state, open };
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** One sample (`name{labels} value`) of Prometheus text. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const wanted = labels ? `${name}{${labels}}` : name;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    if (line.slice(0, space) === wanted) return Number(line.slice(space + 1));
  }
  return undefined;
}

interface TraceJson {
  conversationId?: string;
  outcome: string;
}

describe.each(targets)('admission control on $name', (target) => {
  let t: TestDatabase;
  let app: RunningApp | undefined;

  beforeAll(async () => {
    if (target.skip) return;
    t = await target.create();
    await t.db.close(); // the app opens it itself
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });
  afterAll(async () => {
    await t?.dispose();
  });

  const metrics = async (a: RunningApp) => (await fetch(`${a.url}/metrics`)).text();
  const traces = async (a: RunningApp): Promise<TraceJson[]> => {
    await a.traceWriter.flush();
    const res = await fetch(`${a.url}/api/traces?limit=1000`);
    return ((await res.json()) as { traces: TraceJson[] }).traces;
  };
  const turn = (a: RunningApp, conversationId: string) =>
    post(`${a.url}/api/messages`, makeActivity({ serviceUrl: 'http://127.0.0.1:65535', text: 'help', conversationId, deliveryMode: 'expectReplies' }));

  it.skipIf(target.skip)('sheds the excess with 503 + Retry-After while admitted turns run; they all finish with traces; health answers', async () => {
    const latch = latchedRecognizer();
    app = await startTestApp(
      envFor(t.config),
      { ADMISSION_MAX_INFLIGHT: '4', ADMISSION_TARGET_MS: '0', ADMISSION_QUEUE_MAX: '2', ADMISSION_QUEUE_TIMEOUT_MS: '14000', ADMISSION_RETRY_AFTER_S: '3', TURN_DEADLINE_MS: '14000' },
      { recognizer: latch.recognizer },
    );
    const a = app;
    const run = randomUUID().slice(0, 8);
    // Four turns take every slot and block in the recognizer; two more wait in the queue.
    const admitted = Array.from({ length: 4 }, (_, i) => turn(a, `adm-${run}-${i}`));
    await until('4 turns in the recognizer', () => latch.state.entered === 4);
    const queued = Array.from({ length: 2 }, (_, i) => turn(a, `que-${run}-${i}`));
    await until('2 queued', async () => sample(await metrics(a), 'rpa_turns_queued') === 2);

    // Everything beyond is answered now, while all six are still held.
    const shed = await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const res = await fetch(`${a.url}/api/messages`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(makeActivity({ serviceUrl: 'http://127.0.0.1:65535', text: 'help', conversationId: `shed-${run}-${i}` })),
        });
        return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as { error?: { code?: string } } };
      }),
    );
    for (const s of shed) {
      expect(s.status).toBe(503);
      expect(s.retryAfter).toBe('3');
      expect(s.body.error?.code).toBe('overloaded');
    }
    expect(latch.state.entered).toBe(4); // none of the shed ones ran, the queued ones not yet

    // Health stays up while saturated: neither waits behind the turns.
    expect((await fetch(`${a.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${a.url}/readyz`)).status).toBe(200);
    const busy = await metrics(a);
    expect(sample(busy, 'rpa_turns_in_flight')).toBe(4);
    expect(sample(busy, 'rpa_turns_shed_total', 'reason="full"')).toBe(12);
    expect(sample(busy, 'rpa_turns_admitted_total')).toBe(4);

    latch.open();
    const done = await Promise.all([...admitted, ...queued]);
    for (const d of done) {
      expect(d.status).toBe(200);
      expect((d.json as { activities: unknown[] }).activities.length).toBeGreaterThan(0);
    }
    expect(latch.state.entered).toBe(6);
    await until('slots released', async () => sample(await metrics(a), 'rpa_turns_in_flight') === 0);
    const after = await metrics(a);
    expect(sample(after, 'rpa_turns_admitted_total')).toBe(6);
    expect(sample(after, 'rpa_turns_queued')).toBe(0);

    // Every admitted turn saved its trace; no shed request left one.
    const saved = (await traces(a)).filter((tr) => tr.conversationId?.includes(run));
    const ids = saved.map((tr) => tr.conversationId).sort();
    expect(ids).toEqual([...Array.from({ length: 4 }, (_, i) => `adm-${run}-${i}`), ...Array.from({ length: 2 }, (_, i) => `que-${run}-${i}`)].sort());
    expect(saved.every((tr) => tr.outcome === 'ok')).toBe(true);
  });

  it.skipIf(target.skip)('a queued request with no slot in time is shed; a turn past its deadline gets 202 and still finishes', async () => {
    const latch = latchedRecognizer();
    app = await startTestApp(
      envFor(t.config),
      { ADMISSION_MAX_INFLIGHT: '1', ADMISSION_TARGET_MS: '0', ADMISSION_QUEUE_MAX: '1', ADMISSION_QUEUE_TIMEOUT_MS: '200', TURN_DEADLINE_MS: '500' },
      { recognizer: latch.recognizer },
    );
    const a = app;
    const run = randomUUID().slice(0, 8);
    const first = turn(a, `slow-${run}`);
    await until('the turn in the recognizer', () => latch.state.entered === 1);
    const waited = await turn(a, `late-${run}`);
    expect(waited.status).toBe(503);
    // The held turn is answered at its deadline, before it finished…
    const answered = await first;
    expect(answered.status).toBe(202);
    expect(latch.state.entered).toBe(1);
    // …and keeps its slot until it really ends.
    const m = await metrics(a);
    expect(sample(m, 'rpa_turns_in_flight')).toBe(1);
    expect(sample(m, 'rpa_turns_shed_total', 'reason="queue_timeout"')).toBe(1);
    expect(sample(m, 'rpa_turns_deadline_total')).toBe(1);
    latch.open();
    await until('the late turn ended', async () => sample(await metrics(a), 'rpa_turns_in_flight') === 0);
    await until('its trace saved', async () => (await traces(a)).some((tr) => tr.conversationId === `slow-${run}` && tr.outcome === 'ok'));
    expect((await traces(a)).some((tr) => tr.conversationId === `late-${run}`)).toBe(false);
  });

  it.skipIf(target.skip)('a saturated database pool answers "busy" in time, not the apology, and the turn is traced as busy', async () => {
    // A turn that reads orders needs a pooled connection (conversation state no longer does on
    // PostgreSQL: it travels on the conversation lock's own connection, turnStateSession.ts).
    app = await startTestApp(envFor(t.config), { DB_ACQUIRE_TIMEOUT_MS: '300' }, { recognizer: new IntentTableRecognizer({ 'my open orders': 'procurement.list_orders' }) });
    const a = app;
    // Take every pooled connection (embedded: 1; PostgreSQL: 10) so the turn cannot get one.
    const poolSize = t.config.mode === 'embedded' ? 1 : 10;
    const held: QueryRunner[] = [];
    const conversationId = `pool-${randomUUID().slice(0, 8)}`;
    let res;
    try {
      for (let i = 0; i < poolSize; i++) {
        const runner = a.db.dataSource.createQueryRunner();
        await runner.connect();
        held.push(runner);
      }
      res = await post(`${a.url}/api/messages`, makeActivity({ serviceUrl: 'http://127.0.0.1:65535', text: 'my open orders', conversationId, deliveryMode: 'expectReplies' }));
    } finally {
      for (const r of held) await r.release();
    }
    expect(res.status).toBe(200);
    const texts = (res.json as { activities: { text?: string }[] }).activities.map((x) => x.text ?? '');
    expect(texts.some((x) => /busy/i.test(x))).toBe(true);
    expect(texts.some((x) => /went wrong/i.test(x))).toBe(false);
    await until('busy trace saved', async () => (await traces(a)).some((tr) => tr.conversationId === conversationId && tr.outcome === 'busy'));
  });
});
