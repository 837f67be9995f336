/**
 * The database-backed Direct Line store (src/bot/webchat/databaseStore.ts) on PGlite and on a real
 * PostgreSQL. On PostgreSQL the "replicas" are separate connection pools on one database, each
 * with its own store and feed, as two processes would have.
 *
 * Broken on purpose (see docs/notes/dlstore.md): the sequence taken as max(seq)+1 without the
 * conversation row's lock → the concurrent-append test fails (duplicate key / lost appends); the
 * counter bumped in its own statement before the insert → the incremental poller skips activities;
 * LISTEN not issued → "an append on one replica wakes a stream listener on another" times out.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActivityFeed } from '../../../src/bot/webchat/activityFeed.js';
import { DEFAULT_WEBCHAT_LIMITS, type WebchatLimits, type WireActivity } from '../../../src/bot/webchat/conversations.js';
import { DatabaseDirectLineStore } from '../../../src/bot/webchat/databaseStore.js';
import { loadWebchatKeys } from '../../../src/bot/webchat/keys.js';
import type { Database } from '../../../src/db/database.js';
import { createLogger } from '../../../src/logger.js';
import { databaseTargets, waitFor, type TestDatabase } from '../../helpers/databases.js';

const targets = await databaseTargets();
const logger = createLogger('silent');

function storeOn(db: Database, limits: Partial<WebchatLimits> = {}, listen = false): DatabaseDirectLineStore {
  const options = listen ? ((db.dataSource.driver as unknown as { master: pg.Pool }).master.options as pg.ClientConfig) : undefined;
  return new DatabaseDirectLineStore(db.dataSource, { ...DEFAULT_WEBCHAT_LIMITS, ...limits }, new ActivityFeed({ listen: options, logger }), logger);
}

const message = (text: string, id?: string): WireActivity => ({ type: 'message', text, ...(id ? { id } : {}) });

describe.each(targets)('Direct Line store on $name', (target) => {
  let t: TestDatabase;
  let other: Database | undefined;
  let a: DatabaseDirectLineStore;
  /** A second "replica": another pool on the same PostgreSQL database (PGlite: the same handle). */
  let b: DatabaseDirectLineStore;

  beforeAll(async () => {
    if (target.skip) return;
    t = await target.create();
    other = t.kind === 'postgres' ? await t.openAnother() : undefined;
    a = storeOn(t.db);
    b = storeOn(other ?? t.db);
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await other?.close();
    await t?.dispose();
  });

  it.skipIf(target.skip)('appends in order; since(watermark) returns what follows and the watermark to ask with next', async () => {
    const { conversation, token } = await a.create({ id: 'webchat:ann', name: 'Ann' });
    const found = await b.byBearer(token);
    expect(found).toMatchObject({ id: conversation.id, user: { id: 'webchat:ann', name: 'Ann' }, started: false });
    expect(b.tokenMatches(found!, token)).toBe(true);
    expect(b.tokenMatches(found!, `${token}x`)).toBe(false);
    expect(await a.claimStart(conversation.id)).toBe(true);
    expect(await b.claimStart(conversation.id)).toBe(false);

    const first = await a.nextActivityId(conversation.id);
    expect(first).toEqual({ id: `${conversation.id}|0000001`, sequence: 1 });
    expect(await a.append(conversation.id, message('one', first!.id))).toBe(1);
    expect(await b.append(conversation.id, message('two'))).toBe(2);
    expect(await b.since(conversation.id, '')).toEqual({ activities: [message('one', first!.id), message('two')], watermark: '2' });
    expect(await a.since(conversation.id, '1')).toEqual({ activities: [message('two')], watermark: '2' });
    expect(await a.since(conversation.id, '2')).toEqual({ activities: [], watermark: '2' });
    expect(await a.since(conversation.id, 'nonsense')).toMatchObject({ watermark: '2' });
    // Stored as JSON text (json, not jsonb): whatever a client or the bot sent comes back, NUL included.
    expect(await a.append(conversation.id, message('nul \u0000 here'))).toBe(3);
    expect((await b.since(conversation.id, '2'))!.activities).toEqual([message('nul \u0000 here')]);
    expect(await a.since('no-such-conversation', '')).toBeUndefined();
    expect(await a.append('no-such-conversation', message('x'))).toBeUndefined();
    expect(await a.nextActivityId('no-such-conversation')).toBeUndefined();
  });

  it.skipIf(target.skip)('an update is found by any of its ids; the log keeps its last maxActivities and forgets their ids', async () => {
    const small = storeOn(t.db, { maxActivities: 3 });
    try {
      const { conversation } = await small.create({ id: 'webchat:bo' });
      await small.append(conversation.id, message('card v1', 'c|1'));
      await small.append(conversation.id, message('card v2', 'c|2'), ['c|1']);
      expect(await b.activity(conversation.id, 'c|1')).toMatchObject({ text: 'card v2' });
      expect(await b.activity(conversation.id, 'c|2')).toMatchObject({ text: 'card v2' });
      await small.append(conversation.id, message('m3', 'c|3'));
      await small.append(conversation.id, message('m4', 'c|4')); // v1 (seq 1) leaves the log
      await small.append(conversation.id, message('card v3', 'c|5'), ['c|1', 'c|2']); // v2 (seq 2) leaves; its ids move to v3
      expect((await small.since(conversation.id, ''))!.activities.map((x) => x.text)).toEqual(['m3', 'm4', 'card v3']);
      expect(await small.activity(conversation.id, 'c|1')).toMatchObject({ text: 'card v3' });
      await small.append(conversation.id, message('m6', 'c|6')); // m3 leaves
      expect(await small.activity(conversation.id, 'c|3')).toBeUndefined();
      const counted = (await t.db.dataSource.query('SELECT count(*)::int AS n FROM webchat_activity_ids WHERE conversation_id = $1', [conversation.id])) as { n: number }[];
      expect(counted[0]?.n).toBe(5); // c|4, c|1, c|2, c|5, c|6
    } finally {
      await small.close();
    }
  });

  it.skipIf(target.skip)('concurrent appends from two replicas: sequence 1..N without gaps or duplicates; an incremental poller sees each once, in order', async () => {
    const { conversation } = await a.create({ id: 'webchat:cy' });
    const perReplica = 60;
    const seen: string[] = [];
    let watermark = '';
    let done = false;
    // Polls alternately through both replicas while the appends run, as clients behind a balancer do.
    const poller = (async () => {
      for (let i = 0; !done || i % 2 === 1; i++) {
        const set = await (i % 2 === 0 ? a : b).since(conversation.id, watermark);
        seen.push(...set!.activities.map((x) => String(x.text)));
        watermark = set!.watermark;
      }
      const rest = await a.since(conversation.id, watermark);
      seen.push(...rest!.activities.map((x) => String(x.text)));
    })();
    const appends = [a, b].flatMap((store, r) =>
      Array.from({ length: perReplica }, (_, i) => store.append(conversation.id, message(`r${r}-${i}`))),
    );
    const watermarks = await Promise.all(appends);
    done = true;
    await poller;

    const total = 2 * perReplica;
    expect([...watermarks].sort((x, y) => x! - y!)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    const log = await a.since(conversation.id, '');
    expect(log!.watermark).toBe(String(total));
    const rows = (await t.db.dataSource.query('SELECT seq FROM webchat_activities WHERE conversation_id = $1 ORDER BY seq', [conversation.id])) as { seq: string }[];
    expect(rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(seen).toEqual(log!.activities.map((x) => String(x.text))); // every one once, in log order
    expect(new Set(seen).size).toBe(total);
  }, 60_000);

  it.skipIf(target.skip)('files: stored in the database, read by the other replica, capped in total', async () => {
    const capped = storeOn(t.db, { maxStoredBytes: 10 });
    try {
      const { conversation } = await capped.create({ id: 'webchat:di' });
      await t.db.dataSource.query('DELETE FROM webchat_files');
      const stored = await capped.addFile(conversation, { name: 'a.txt', contentType: 'text/plain', bytes: Buffer.from('123456') });
      expect(stored).toBeDefined();
      expect(await b.getFile(stored!.id)).toEqual(stored);
      expect(await capped.addFile(conversation, { name: 'b.txt', contentType: 'text/plain', bytes: Buffer.from('12345') })).toBeUndefined();
      expect(await capped.addFile(conversation, { name: 'c.txt', contentType: 'text/plain', bytes: Buffer.from('1234') })).toBeDefined();
      expect(await b.getFile('no-such-file')).toBeUndefined();
    } finally {
      await capped.close();
    }
  });

  it.skipIf(target.skip)('a stream ticket is redeemed once across replicas', async () => {
    const expires = Date.now() + 60_000;
    const results = await Promise.all([a, b, a, b].map((s) => s.redeemTicket('sig-once', expires)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await a.redeemTicket('sig-other', expires)).toBe(true);
  });

  it.skipIf(target.skip)('an idle conversation expires (by the database clock); the sweep deletes it and ends its streams', async () => {
    const short = storeOn(t.db, { idleTtlMs: 300 });
    try {
      const { conversation, token } = await short.create({ id: 'webchat:ed' });
      await short.append(conversation.id, message('hi'));
      const ended: string[] = [];
      short.subscribe(conversation.id, { appended: () => undefined, ended: () => ended.push(conversation.id) });
      expect(await short.byBearer(token)).toBeDefined();
      await new Promise((r) => setTimeout(r, 400));
      expect(await short.get(conversation.id)).toBeUndefined();
      expect(await short.byBearer(token)).toBeUndefined();
      await short.sweep();
      expect(ended).toEqual([conversation.id]);
      const left = (await t.db.dataSource.query('SELECT count(*)::int AS n FROM webchat_activities WHERE conversation_id = $1', [conversation.id])) as { n: number }[];
      expect(left[0]!.n).toBe(0);
    } finally {
      await short.close();
    }
  });

  it.skipIf(target.skip)('at most maxConversations: the least recently active is evicted', async () => {
    await t.db.dataSource.query('DELETE FROM webchat_conversations');
    const few = storeOn(t.db, { maxConversations: 2 });
    try {
      const one = await few.create({ id: 'webchat:1' });
      const two = await few.create({ id: 'webchat:2' });
      await t.db.dataSource.query(`UPDATE webchat_conversations SET last_active_at = now() - interval '1 minute' WHERE id = $1`, [two.conversation.id]);
      await few.create({ id: 'webchat:3' });
      expect(await few.get(one.conversation.id)).toBeDefined();
      expect(await few.get(two.conversation.id)).toBeUndefined();
    } finally {
      await few.close();
    }
  });

  it.skipIf(target.skip)('the connector secret and ticket key are the same for every replica and stay after a restart', async () => {
    const [k1, k2] = await Promise.all([loadWebchatKeys(t.db.dataSource), loadWebchatKeys((other ?? t.db).dataSource)]);
    expect(k1).toEqual(k2);
    expect(k1.connectorSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(k1.ticketKey.length).toBe(32);
    const db = await t.reopen();
    expect(await loadWebchatKeys(db.dataSource)).toEqual(k1);
    await a.close();
    a = storeOn(db);
    if (!other) {
      await b.close();
      b = storeOn(db);
    }
  });

  it.skipIf(target.skip || target.kind !== 'postgres')('an append on one replica wakes a stream listener on another (LISTEN/NOTIFY)', async () => {
    const listening = storeOn(other!, {}, true);
    try {
      const { conversation } = await a.create({ id: 'webchat:fe' });
      let heard = 0;
      listening.subscribe(conversation.id, { appended: () => (heard += 1), ended: () => undefined });
      // The first wake-up comes when LISTEN takes effect; then each append of the other replica.
      await waitFor(() => heard >= 1, 5_000, 'LISTEN in effect');
      const before = heard;
      await a.append(conversation.id, message('from A'));
      await waitFor(() => heard > before, 5_000, 'the NOTIFY from the other replica');
    } finally {
      await listening.close();
    }
  });
});
