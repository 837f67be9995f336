/**
 * Slack event de-duplication (slack_events) on both databases: one claim per event_id, a
 * re-delivery of a failed or abandoned event is claimed again, rows expire and are pruned, and
 * concurrent deliveries of one event are processed once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execute } from '../../../src/db/sql.js';
import { SlackEventStore } from '../../../src/bot/slack/eventStore.js';
import { databaseTargets, type TestDatabase } from '../../helpers/databases.js';

const targets = await databaseTargets();

describe.each(targets)('slack_events on $name', (target) => {
  let t: TestDatabase;
  let store: SlackEventStore;
  let n = 0;
  const id = () => `Ev${target.kind}${Date.now()}${++n}`;
  const row = async (eventId: string) =>
    (
      await execute<{ status: string; attempts: number; error: string | null; team_id: string | null; event_type: string | null }>(
        t.db.dataSource,
        'SELECT status, attempts, error, team_id, event_type FROM slack_events WHERE event_id = $1',
        [eventId],
      )
    ).rows[0];

  beforeAll(async () => {
    if (target.skip) return;
    t = await target.create();
    store = new SlackEventStore(t.db.dataSource);
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it.skipIf(target.skip)('the migration creates the table with its expiry index', async () => {
    const { rows } = await execute<{ indexname: string }>(t.db.dataSource, "SELECT indexname FROM pg_indexes WHERE tablename = 'slack_events' ORDER BY indexname");
    expect(rows.map((r) => r.indexname)).toEqual(['slack_events_expires_at_idx', 'slack_events_pkey']);
  });

  it.skipIf(target.skip)('the first delivery claims an event; a re-delivery while processing or after success does not', async () => {
    const eventId = id();
    expect(await store.claim(eventId, { teamId: 'T1', eventType: 'message' })).toEqual({ claimed: true, attempt: 1 });
    expect(await store.claim(eventId)).toEqual({ claimed: false });
    await store.complete(eventId);
    expect(await store.claim(eventId)).toEqual({ claimed: false });
    expect(await row(eventId)).toMatchObject({ status: 'done', attempts: 1, team_id: 'T1', event_type: 'message' });
  });

  it.skipIf(target.skip)('a re-delivery of an event whose processing failed is claimed again', async () => {
    const eventId = id();
    await store.claim(eventId);
    await store.fail(eventId, 'chat.postMessage: fatal_error');
    expect(await row(eventId)).toMatchObject({ status: 'failed', error: 'chat.postMessage: fatal_error' });
    expect(await store.claim(eventId)).toEqual({ claimed: true, attempt: 2 });
    expect(await store.claim(eventId)).toEqual({ claimed: false });
    await store.complete(eventId);
    expect(await row(eventId)).toMatchObject({ status: 'done', attempts: 2, error: null });
  });

  it.skipIf(target.skip)('a claim abandoned past its lease (the process died) is claimed again', async () => {
    // The lease is the claimer's: a long one says "still in its lease" however slow the machine
    // is; a short one, after a wait longer than it, says "abandoned" (a wait never comes back early).
    const long = new SlackEventStore(t.db.dataSource, { leaseMs: 60_000 });
    const short = new SlackEventStore(t.db.dataSource, { leaseMs: 50 });
    const eventId = id();
    await short.claim(eventId);
    expect(await long.claim(eventId)).toEqual({ claimed: false });
    await new Promise((r) => setTimeout(r, 120));
    expect(await short.claim(eventId)).toEqual({ claimed: true, attempt: 2 });
  });

  it.skipIf(target.skip)('ids expire after the TTL: an expired one counts as new, and prune deletes them', async () => {
    const brief = new SlackEventStore(t.db.dataSource, { ttlMs: 50 });
    const [a, b] = [id(), id()];
    await brief.claim(a);
    await brief.complete(a);
    await brief.claim(b);
    await new Promise((r) => setTimeout(r, 120));
    expect(await brief.claim(a)).toEqual({ claimed: true, attempt: 2 });
    await new Promise((r) => setTimeout(r, 120));
    expect(await brief.prune()).toBeGreaterThanOrEqual(2);
    expect(await row(a)).toBeUndefined();
    expect(await row(b)).toBeUndefined();
  });

  it.skipIf(target.skip)('concurrent deliveries of the same event: exactly one claim wins', async () => {
    const eventId = id();
    const results = await Promise.all(Array.from({ length: 8 }, () => store.claim(eventId)));
    expect(results.filter((r) => r.claimed)).toHaveLength(1);
  });
});
