/**
 * The HTTP edge accepts only what a channel sends (issue 13, item 1), and ids that cannot be stored
 * are refused there instead of failing every turn (issue 12, defect 9). Real server on loopback.
 *
 * - POST /api/messages: not application/json → 415; an Origin header that is not allowed → 403;
 *   both before anything runs (no trace, no conversation reference, no reply, no job).
 * - Direct Line: the same, except for the web chat's own page (same origin).
 * - NUL / control characters / broken UTF-16 in conversation.id or from.id → 400 naming the field,
 *   on PGlite and PostgreSQL, with no failed turn and no warning logged; any id that passes is stored
 *   (its conversation reference too) exactly as sent — checked with fast-check.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { RunningApp } from '../../src/app.js';
import { ConnectorReceiver } from '../../src/chat/connectorReceiver.js';
import type { DatabaseConfig } from '../../src/db/database.js';
import { execute } from '../../src/db/sql.js';
import { databaseTargets, type TestDatabase } from '../helpers/databases.js';
import { makeActivity, post, startTestApp } from '../helpers/testApp.js';
import { captureLogger } from './helpers/captureLogger.js';

const targets = await databaseTargets();
const envFor = (config: DatabaseConfig): Record<string, string> =>
  config.mode === 'embedded' ? { DATA_DIR: config.dataDir } : { DATABASE_URL: config.url };

const ALLOWED = 'https://portal.example.com';

async function raw(url: string, init: { method?: string; headers?: Record<string, string>; body?: string }) {
  const res = await fetch(url, { method: init.method ?? 'POST', headers: init.headers, body: init.body });
  const text = await res.text();
  return { status: res.status, text };
}

describe.each(targets)('HTTP edge on $name', (target) => {
  let t: TestDatabase;
  let app: RunningApp;
  let receiver: ConnectorReceiver;
  const log = captureLogger('info');

  beforeAll(async () => {
    if (target.skip) return;
    t = await target.create();
    await t.db.close();
    receiver = new ConnectorReceiver();
    await receiver.start();
    app = await startTestApp(envFor(t.config), { ALLOWED_ORIGINS: `${ALLOWED}, https://other.example.com` }, { logger: log.logger });
  });

  afterAll(async () => {
    await app?.close();
    await receiver?.stop();
    await t?.dispose();
  });

  const endpoint = () => `${app.url}/api/messages`;

  /** Nothing of this conversation reached the bot: no trace, no reference, no reply. */
  const expectNoSideEffect = async (conversationId: string) => {
    await app.traceWriter.flush();
    const traces = await execute(app.db.dataSource, 'SELECT 1 FROM turn_traces WHERE conversation_id = $1', [conversationId]);
    expect(traces.rows).toHaveLength(0);
    const refs = await execute(app.db.dataSource, 'SELECT 1 FROM conversation_references WHERE conversation_id = $1', [conversationId]);
    expect(refs.rows).toHaveLength(0);
    expect(receiver.received.filter((r) => r.conversationId === conversationId)).toHaveLength(0);
  };

  const referenceOf = async (conversationId: string) =>
    (
      await execute<{ conversation_id: string; user_id: string; user_name: string | null }>(
        app.db.dataSource,
        'SELECT conversation_id, user_id, user_name FROM conversation_references WHERE channel_id = $1 AND conversation_id = $2',
        ['test', conversationId],
      )
    ).rows[0];

  it.skipIf(target.skip)('text/plain, form, multipart and empty bodies on /api/messages → 415, nothing runs', async () => {
    const cases: [string, Record<string, string>, (body: string) => string][] = [
      ['text/plain', { 'content-type': 'text/plain' }, (b) => b],
      ['text/plain;charset=UTF-8', { 'content-type': 'text/plain;charset=UTF-8' }, (b) => b],
      ['form', { 'content-type': 'application/x-www-form-urlencoded' }, (b) => new URLSearchParams({ activity: b }).toString()],
      ['multipart', { 'content-type': 'multipart/form-data; boundary=x' }, (b) => `--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n${b}\r\n--x--\r\n`],
      ['no content type', {}, (b) => b],
      ['no content type, empty body', {}, () => ''],
      ['text/json', { 'content-type': 'text/json' }, (b) => b],
      ['application/jsonp', { 'content-type': 'application/jsonp' }, (b) => b],
    ];
    for (const [name, headers, encode] of cases) {
      const activity = makeActivity({ serviceUrl: receiver.serviceUrl, text: 'hello', deliveryMode: 'expectReplies' });
      const res = await raw(endpoint(), { headers, body: encode(JSON.stringify(activity)) });
      expect(res.status, name).toBe(415);
      expect(JSON.parse(res.text)).toMatchObject({ error: { code: 'unsupported_media_type' } });
      await expectNoSideEffect(activity.conversation.id);
    }
  });

  it.skipIf(target.skip)('the cross-site forgery of the issue (no-cors text/plain approve as bob) → 415, no job, no trace', async () => {
    const activity = makeActivity({
      serviceUrl: receiver.serviceUrl,
      userId: 'bob',
      text: '',
      value: { verb: 'do', action: 'procurement.approve_order', order: 'PO-1101' },
    });
    const jobsBefore = await execute<{ n: number }>(app.db.dataSource, 'SELECT count(*)::int AS n FROM automation_jobs');
    const res = await raw(endpoint(), { headers: { 'content-type': 'text/plain', origin: 'https://evil.example' }, body: JSON.stringify(activity) });
    expect([403, 415]).toContain(res.status);
    await expectNoSideEffect(activity.conversation.id);
    const jobsAfter = await execute<{ n: number }>(app.db.dataSource, 'SELECT count(*)::int AS n FROM automation_jobs');
    expect(jobsAfter.rows[0]?.n).toBe(jobsBefore.rows[0]?.n);
  });

  it.skipIf(target.skip)('a foreign Origin on /api/messages → 403 even with a JSON body; an allowed one and none pass', async () => {
    for (const origin of ['https://evil.example', 'null', app.url, 'http://localhost', 'https://portal.example.com.evil.example', 'file://']) {
      const activity = makeActivity({ serviceUrl: receiver.serviceUrl, text: 'hello', deliveryMode: 'expectReplies' });
      const res = await post(endpoint(), activity, { origin });
      expect(res.status, origin).toBe(403);
      expect(res.json).toMatchObject({ error: { code: 'origin_not_allowed' } });
      await expectNoSideEffect(activity.conversation.id);
    }
    const passing: Record<string, string>[] = [{ origin: ALLOWED }, { origin: `${ALLOWED}:443` }, {}, { 'content-type': 'Application/JSON; charset=utf-8' }];
    for (const headers of passing) {
      const activity = makeActivity({ serviceUrl: receiver.serviceUrl, text: 'hello', deliveryMode: 'expectReplies' });
      const res = await post(endpoint(), activity, headers);
      expect(res.status, JSON.stringify(headers)).toBe(200);
    }
  });

  it.skipIf(target.skip)('Direct Line: foreign Origin → 403, its own page and no Origin pass, non-JSON activity → 415', async () => {
    const dl = `${app.url}/v3/directline`;
    const json = { 'content-type': 'application/json' };
    const foreign = await raw(`${dl}/tokens/generate`, { headers: { ...json, origin: 'https://evil.example' }, body: '{}' });
    expect(foreign.status).toBe(403);
    const started = await raw(`${dl}/conversations`, { headers: { ...json, origin: 'https://evil.example' }, body: '{}' });
    expect(started.status).toBe(403);

    const own = await raw(`${dl}/tokens/generate`, { headers: { ...json, origin: app.url }, body: JSON.stringify({ user: { id: 'edge-user' } }) });
    expect(own.status).toBe(200);
    const { conversationId, token } = JSON.parse(own.text) as { conversationId: string; token: string };
    const auth = { authorization: `Bearer ${token}` };
    const formStart = await raw(`${dl}/conversations`, { headers: { ...auth, 'content-type': 'text/plain', origin: app.url }, body: 'x=1' });
    expect(formStart.status).toBe(415);
    expect((await raw(`${dl}/conversations`, { headers: { ...auth, origin: app.url } })).status).toBe(201);

    const activity = JSON.stringify({ type: 'message', text: 'hello', from: { id: 'edge-user' } });
    const acts = `${dl}/conversations/${encodeURIComponent(conversationId)}/activities`;
    expect((await raw(acts, { headers: { ...auth, ...json, origin: 'https://evil.example' }, body: activity })).status).toBe(403);
    expect((await raw(acts, { method: 'GET', headers: { ...auth, origin: 'https://evil.example' } })).status).toBe(403);
    expect((await raw(acts, { headers: { ...auth, 'content-type': 'text/plain', origin: app.url }, body: activity })).status).toBe(415);
    const before = JSON.parse((await raw(acts, { method: 'GET', headers: auth })).text) as { activities: unknown[] };
    // None of the refused posts reached the log: only the greeting so far.
    expect(before.activities.filter((a) => (a as { text?: string }).text === 'hello')).toHaveLength(0);
    expect((await raw(acts, { headers: { ...auth, ...json, origin: app.url }, body: activity })).status).toBe(200);
    expect((await raw(acts, { headers: { ...auth, ...json, origin: ALLOWED }, body: activity })).status).toBe(200);
    expect((await raw(acts, { headers: { ...auth, ...json }, body: activity })).status).toBe(200);
  });

  it.skipIf(target.skip)('NUL and other invalid text in conversation.id / from.id → 400 naming the field; no failed turn', async () => {
    const bad: [string, Record<string, unknown>][] = [
      ['conversation.id', { conversation: { id: 'conv-\u0000-nul' } }],
      ['conversation.id', { conversation: { id: 'conv-\ud800-lone' } }],
      ['conversation.id', { conversation: { id: 'conv-\n-newline' } }],
      ['from.id', { from: { id: 'bob\u0000', name: 'Bob' } }],
      ['from.id', { from: { id: '\udfffbob', name: 'Bob' } }],
      ['recipient.id', { recipient: { id: 'bot\u0000' } }],
      ['id', { id: 'act\u0000' }],
      ['channelId', { channelId: 'test\u0000' }],
      ['replyToId', { replyToId: '\u0000' }],
    ];
    const lines = log.lines.length;
    for (const [field, patch] of bad) {
      const res = await post(endpoint(), { ...makeActivity({ serviceUrl: receiver.serviceUrl, text: 'hi', deliveryMode: 'expectReplies' }), ...patch });
      expect(res.status, field).toBe(400);
      expect((res.json as { error: { code: string; message: string } }).error).toMatchObject({ code: 'invalid_activity' });
      expect((res.json as { error: { message: string } }).error.message).toContain(field);
    }
    // The server keeps answering clean activities.
    const ok = await post(endpoint(), makeActivity({ serviceUrl: receiver.serviceUrl, conversationId: 'conv-after-nul', text: 'hi', deliveryMode: 'expectReplies' }));
    expect(ok.status).toBe(200);
    expect(log.lines.slice(lines).filter((l) => l.level >= 40)).toEqual([]);
  });

  it.skipIf(target.skip)('NUL in text, names and card values is stored without it: the turn and its reference succeed', async () => {
    const lines = log.lines.length;
    const conversationId = `conv-nul-text-${target.kind}`;
    const activity = makeActivity({
      serviceUrl: receiver.serviceUrl,
      conversationId,
      userId: 'nul-user',
      text: 'status of PO-1101\u0000 please \ud800',
      deliveryMode: 'expectReplies',
      value: { verb: 'x\u0000', note: '\u0000' },
    });
    activity.from.name = 'Bob\u0000 Builder';
    const res = await post(endpoint(), activity);
    expect(res.status).toBe(200);
    expect(await referenceOf(conversationId)).toMatchObject({ conversation_id: conversationId, user_id: 'nul-user', user_name: 'Bob Builder' });
    await app.traceWriter.flush();
    const traces = await execute<{ outcome: string }>(app.db.dataSource, 'SELECT outcome FROM turn_traces WHERE conversation_id = $1', [conversationId]);
    expect(traces.rows.map((r) => r.outcome)).toEqual(['ok']);
    expect(log.lines.slice(lines).filter((l) => l.level >= 40)).toEqual([]);
  });

  /** Any text: whole graphemes (emoji, combining marks), raw UTF-16 code units (lone surrogates), ASCII controls. */
  const anyText = fc.oneof(
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 30 }),
    fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 30 }),
    fc.stringMatching(/^[A-Za-z0-9:;@._\-|/%#?&= ]{1,60}$/),
  );

  it.skipIf(target.skip)('any id the edge accepts is stored as sent, conversation reference included (fast-check)', async () => {
    const lines = log.lines.length;
    let accepted = 0;
    let rejected = 0;
    await fc.assert(
      fc.asyncProperty(
        anyText,
        anyText,
        async (conversationSuffix, userId) => {
          const conversationId = `p-${target.kind}-${conversationSuffix}`;
          const res = await post(endpoint(), makeActivity({ serviceUrl: receiver.serviceUrl, conversationId, userId, text: 'hi', deliveryMode: 'expectReplies' }));
          const invalid = (s: string) =>
            // eslint-disable-next-line no-control-regex
            /[\u0000-\u001f\u007f]/.test(s) || /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
          if (invalid(conversationId) || invalid(userId)) {
            expect(res.status).toBe(400);
            rejected += 1;
            return;
          }
          expect(res.status, res.text).toBe(200);
          accepted += 1;
          expect(await referenceOf(conversationId)).toMatchObject({ conversation_id: conversationId, user_id: userId });
        },
      ),
      { seed: 1212, numRuns: 60 },
    );
    expect(accepted).toBeGreaterThan(10);
    expect(rejected).toBeGreaterThan(5);
    expect(log.lines.slice(lines).filter((l) => l.level >= 40)).toEqual([]);
  });
});
