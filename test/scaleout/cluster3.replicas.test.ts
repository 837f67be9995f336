/**
 * Issue 15, "Done when": 3 web replicas (ROLE=web) + 1 worker (ROLE=worker) as child processes
 * behind Debian's HAProxy (deploy/cluster.ts `startCluster`), one real PostgreSQL, the fake Bot
 * Framework connector (ConnectorReceiver) as every conversation's serviceUrl and the fake RPA tool
 * (webhook connector) as the supplier. HAProxy logs every request with the replica it went to
 * (`X-Request-Id` = the activity id), which is how each case knows where its turns ran.
 *
 * 1. 10 concurrent copies of a confirm (same activity id) + 1 with a new id, spread over the
 *    replicas → 1 job, 1 PO, 1 `send_purchase_order` at the RPA, 1 "On it", 1 "placed".
 * 2. A pending confirmation + 9 concurrent turns of the conversation on different replicas →
 *    "yes" places the order and no turn's state update is lost (the advisory lock holds across processes).
 * 3. The proactive "✅ … placed" reaches the serviceUrl once, sent by the worker (the only process
 *    that runs jobs and the outbox).
 * 4. One web replica SIGKILLed under a steady stream of turns → HAProxy takes it out of rotation,
 *    the only turns lost are ones in flight on it while it died (kill → exit), no turn runs twice, no
 *    effect at the RPA twice. Counts and the kill-to-out-of-rotation time are printed.
 * 5. Web chat (Direct Line) with polls alternating between replicas: every activity once, in order.
 *    Needs the Direct Line state in PostgreSQL: with the state in each process's memory this case
 *    fails (the second replica does not know the conversation).
 *
 * The cluster starts once for the file; cases run in order (4 kills a replica, 5 uses the others).
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster, type RequestLogLine } from '../../deploy/cluster.js';
import { ConnectorReceiver, type WireActivity } from '../../src/chat/connectorReceiver.js';
import { seedDemoData } from '../../src/skills/index.js';
import { allText, ChatUser, toReply, type BotReply } from '../helpers/chatUser.js';
import { databaseTargets, type TestDatabase } from '../helpers/databases.js';
import { eventually, rows, TEST_ROLES } from '../helpers/procurementFixture.js';
import { post, ROOMY_LIMITS } from '../helpers/testApp.js';
import { FakeRpa } from '../jobs/helpers/fakeRpa.js';

const postgres = (await databaseTargets()).find((t) => t.kind === 'postgres')!;
const haproxyInstalled = spawnSync('haproxy', ['-v']).status === 0;

const ORDER = 'order 20 units of SKU-1001 from Acme Corp';
const STATUS = 'what is the status of PO-1002';
const WEBHOOK_SECRET = 'cluster3-webhook-secret-0123456789';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const short = () => randomUUID().slice(0, 8);

interface TurnResult {
  rid: string;
  /** HTTP status; 0 when no response came (connection reset/refused before the status line). */
  status: number;
  /** Why the turn got no complete answer (a status other than 200, a reset before or during the body). */
  error?: string;
  replies: BotReply[];
  startedAt: number;
  endedAt: number;
}

const answered = (t: Partial<TurnResult>) => t.status === 200 && t.error === undefined;

/** POSTs one activity to `url`/api/messages with `X-Request-Id: rid` (HAProxy logs it); never throws. */
async function turn(url: string, activity: Record<string, unknown>, rid = String(activity.id)): Promise<TurnResult> {
  const startedAt = Date.now();
  let status = 0;
  const failed = (error: string): TurnResult => ({ rid, status, error, replies: [], startedAt, endedAt: Date.now() });
  try {
    const res = await fetch(`${url}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': rid },
      body: JSON.stringify(activity),
    });
    status = res.status;
    const text = await res.text();
    if (res.status !== 200) return failed(text.slice(0, 200));
    const body = text ? (JSON.parse(text) as { activities?: WireActivity[] }) : undefined;
    return { rid, status, replies: (body?.activities ?? []).map(toReply), startedAt, endedAt: Date.now() };
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return failed(`${status ? 'body: ' : ''}${cause?.code ?? cause?.message ?? String(err)}`);
  }
}

describe.skipIf(postgres.skip || !haproxyInstalled)('3 web replicas + 1 worker behind HAProxy on one PostgreSQL', () => {
  let db: TestDatabase | undefined;
  let receiver: ConnectorReceiver;
  let rpa: FakeRpa;
  let cluster: Cluster | undefined;
  const front = () => cluster!.front;

  beforeAll(async () => {
    db = await postgres.create();
    if (db.config.mode !== 'postgres') throw new Error('postgres only');
    // Seeded once here: four processes seeding at once would race, and a web replica caches master data at start.
    await seedDemoData(db.db.dataSource);
    receiver = new ConnectorReceiver();
    await receiver.start();
    rpa = new FakeRpa();
    const rpaUrl = await rpa.start();
    cluster = await startCluster({
      databaseUrl: db.config.url,
      replicas: 3,
      entry: ['--import', 'tsx', 'test/helpers/clusterReplica.ts'],
      stdio: 'pipe',
      requestLog: true,
      env: {
        ...ROOMY_LIMITS,
        LOG_LEVEL: 'warn',
        TRACE_FLUSH_MS: '20',
        USER_ROLES: TEST_ROLES,
        JOB_POLL_INTERVAL_S: '0.5',
        JOB_RETRY_DELAY_S: '0',
        JOB_STILL_WORKING_S: '0',
        AUTOMATION_CONNECTOR: 'webhook',
        WEBHOOK_URL: rpaUrl,
        WEBHOOK_SECRET,
      },
    });
    await cluster.ready(120_000);
  }, 180_000);

  afterAll(async () => {
    await cluster?.stop(10_000);
    await rpa?.stop();
    await receiver?.stop();
    await db?.dispose();
  }, 60_000);

  /** HAProxy's log lines of these request ids, once all of them are logged (a line is written when the request ends). */
  async function logged(rids: string[]): Promise<Map<string, RequestLogLine>> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const byRid = new Map(cluster!.requestLog().map((l) => [l.requestId, l]));
      const missing = rids.filter((r) => !byRid.has(r));
      if (missing.length === 0) return byRid;
      if (Date.now() > deadline) {
        const other = cluster!.events().slice(-5).map((e) => e.line);
        throw new Error(`HAProxy logged ${rids.length - missing.length} of ${rids.length} requests (missing e.g. ${missing.slice(0, 3).join(', ')}; last other lines: ${JSON.stringify(other)})`);
      }
      await sleep(25);
    }
  }

  const user = (name: string) => new ChatUser(front, receiver, `c3-${name}-${short()}`, name);
  const jobsOf = (userId: string) =>
    rows<{ id: string; subject_id: string | null; status: string }>(db!.db.dataSource, 'SELECT id, subject_id, status FROM automation_jobs WHERE requested_by = $1 ORDER BY id', [userId]);
  const ordersOf = (userId: string) => rows<{ number: string }>(db!.db.dataSource, 'SELECT number FROM purchase_orders WHERE requested_by = $1', [userId]);
  /** The conversation's turn counter in its stored state (AssistantBot counts every message turn). */
  const storedTurns = async (conversationId: string) => {
    const [state] = await rows<{ document: { conversationData?: { turns?: number } } }>(db!.db.dataSource, 'SELECT document FROM bot_state WHERE key LIKE $1', [
      `test/conversations/${conversationId}/%`,
    ]);
    return state?.document.conversationData?.turns ?? 0;
  };
  const conversationTexts = (conversationId: string) => receiver.received.filter((r) => r.conversationId === conversationId).map((r) => toReply(r.activity).text);

  it('1. 10 concurrent copies of a confirm (same activity id) + 1 with a new id, over 3 replicas → 1 job, 1 PO, 1 send_purchase_order', async () => {
    const buyer = user('copies');
    expect(allText(await buyer.say(ORDER))).toMatch(/Please confirm/);
    const confirm = buyer.buttonValue('Confirm');
    // As a channel re-delivers: the same activity (same id) ten times, plus one copy under a new id;
    // replies go to the serviceUrl (no expectReplies) — what the user would see.
    const copy = buyer.activity({ text: '', value: confirm });
    const renamed = { ...copy, id: randomUUID() };
    const sent = [...Array.from({ length: 10 }, (_, i) => ({ activity: copy, rid: `${copy.id}#${i}` })), { activity: renamed, rid: `${renamed.id}#new` }];
    const results = await Promise.all(sent.map((s) => turn(front(), s.activity, s.rid)));
    expect(results.map((r) => r.status)).toEqual(Array(11).fill(200));
    const log = await logged(sent.map((s) => s.rid));
    const servers = new Set(sent.map((s) => log.get(s.rid)!.server));
    expect(servers).toEqual(new Set(['web1', 'web2', 'web3']));

    const [placed] = await buyer.waitForNotification(/✅ PO-\d+ is placed/, 30_000);
    await sleep(1_500); // room for a second job, send or message to show up
    const orders = await ordersOf(buyer.userId);
    expect(orders).toHaveLength(1);
    const number = orders[0]!.number;
    expect(placed!.text).toContain(number);
    const jobs = await jobsOf(buyer.userId);
    expect(jobs).toMatchObject([{ subject_id: number, status: 'succeeded' }]);
    const sends = rpa.calls.filter((c) => c.operation === 'send_purchase_order' && c.idempotencyKey === `send:${number}`);
    expect(sends).toHaveLength(1);
    expect(rpa.calls.filter((c) => c.jobId === Number(jobs[0]!.id))).toHaveLength(1);
    const texts = conversationTexts(buyer.conversationId);
    expect(texts.filter((t) => /^On it: job \d+/.test(t))).toHaveLength(1);
    expect(texts.filter((t) => /is placed/.test(t))).toHaveLength(1);
    console.info(`[cluster3] case 1: 11 copies on ${[...servers].sort().join(', ')} → 1 job, 1 PO (${number}), ${sends.length} send_purchase_order`);
  }, 60_000);

  it('2. a pending confirmation + 9 concurrent turns of the conversation on different replicas → "yes" places the order (3 of 3 trials)', async () => {
    let placed = 0;
    for (let trial = 0; trial < 3; trial++) {
      const buyer = user(`pending${trial}`);
      expect(allText(await buyer.say(ORDER))).toMatch(/Please confirm/);
      const side = Array.from({ length: 9 }, () => buyer.activity({ text: STATUS, deliveryMode: 'expectReplies' }));
      const answers = await Promise.all(side.map((a) => turn(front(), a)));
      for (const a of answers) {
        expect(a.status, a.error).toBe(200);
        const text = allText(a.replies);
        expect(text).toMatch(/PO-1002 with Globex is confirmed/);
        expect(text).toMatch(/Still waiting for your yes\/no on "Create this purchase order\?"/);
      }
      const log = await logged(answers.map((a) => a.rid));
      expect(new Set(answers.map((a) => log.get(a.rid)!.server)).size).toBeGreaterThanOrEqual(2);
      expect(allText(await buyer.say('yes'))).toMatch(/^On it: job \d+ is placing the order with Acme Corp/);
      const jobs = await rows<{ action: string }>(db!.db.dataSource, 'SELECT action FROM automation_jobs WHERE conversation_id = $1', [buyer.conversationId]);
      expect(jobs).toEqual([{ action: 'procurement.create_order' }]);
      // Serialized, not merely conflict-checked: every one of the 11 turns saved its state (a stale
      // save would be refused by the conditional write and its update lost).
      expect(await storedTurns(buyer.conversationId), 'state updates of 11 turns').toBe(11);
      placed += 1;
    }
    expect(placed).toBe(3);
  }, 60_000);

  it('3. the proactive "✅ … placed" reaches the serviceUrl once, sent by the worker', async () => {
    const buyer = user('placed');
    await buyer.say(ORDER);
    const confirm = buyer.activity({ text: '', value: buyer.buttonValue('Confirm'), deliveryMode: 'expectReplies' });
    const onIt = await turn(front(), confirm);
    expect(allText(onIt.replies)).toMatch(/^On it: job \d+/);
    const tookTurn = (await logged([onIt.rid])).get(onIt.rid)!.server;
    const [placed] = await buyer.waitForNotification(/✅ PO-\d+ is placed/, 30_000);
    await sleep(1_000);
    expect(buyer.notifications(/is placed/)).toHaveLength(1);
    // Jobs and the outbox of proactive messages run only where JobSystem started: the worker.
    const workers = await rows<{ pid: number }>(db!.db.dataSource, 'SELECT pid FROM automation_workers');
    expect(workers.map((w) => w.pid)).toEqual([cluster!.worker.pid]);
    for (const web of cluster!.web) {
      const ready = (await (await fetch(`${web.url}/readyz`)).json()) as { checks: Record<string, unknown> };
      expect(ready.checks).toMatchObject({ role: 'web', jobQueues: true });
      expect(ready.checks.jobWorkers).toBeUndefined();
    }
    console.info(`[cluster3] case 3: confirm on ${tookTurn}, "${placed!.text.split('\n')[0]}" sent by the worker (pid ${cluster!.worker.pid}), received once`);
  }, 60_000);

  it('4. one web replica SIGKILLed under a steady stream of turns → routed around; only turns in flight on it lost; none run twice; no duplicate effect', async () => {
    const victim = cluster!.web[1]!;
    const STREAMS = 6;
    const SCRIPT = [ORDER, 'confirm', STATUS, 'hi'] as const;
    interface LoadTurn extends Partial<TurnResult> {
      rid: string;
      conversationId: string;
      kind: string;
      startedAt: number;
    }
    const turns: LoadTurn[] = [];
    const inflight = new Set<string>();
    const users: ChatUser[] = [];
    let stopAt = Number.POSITIVE_INFINITY;

    const stream = async (s: number) => {
      const u = user(`load${s}`);
      users.push(u);
      let confirm: unknown;
      for (let step = 0; Date.now() < stopAt; step++) {
        const kind = SCRIPT[step % SCRIPT.length]!;
        if (kind === 'confirm' && confirm === undefined) continue; // its order turn was lost
        const activity = kind === 'confirm' ? u.activity({ text: '', value: confirm, deliveryMode: 'expectReplies' }) : u.activity({ text: kind, deliveryMode: 'expectReplies' });
        confirm = undefined;
        const t: LoadTurn = { rid: String(activity.id), conversationId: u.conversationId, kind, startedAt: Date.now() };
        turns.push(t);
        inflight.add(t.rid);
        Object.assign(t, await turn(front(), activity));
        inflight.delete(t.rid);
        if (kind === ORDER && answered(t)) confirm = (t.replies ?? []).flatMap((r) => r.buttons).find((b) => b.title === 'Confirm')?.value;
      }
    };
    const streams = Array.from({ length: STREAMS }, (_, s) => stream(s));

    // Load first, then the kill, in the middle of it.
    await eventually(async () => turns.filter((t) => t.status !== undefined).length >= 60, 30_000, '60 turns before the kill');
    const gauge = /^rpa_turns_in_flight (\d+)/m.exec(await (await fetch(`${victim.url}/metrics`)).text())?.[1];
    const before = await cluster!.backendStatus();
    const atKill = new Set(inflight); // for the report
    // SIGKILL takes effect when the kernel tears the process down; on a loaded box that is
    // hundreds of ms later, and until then its listening socket still accepts connections. The
    // replica's death window is [killedAt, exitedAt].
    let exitedAt = Number.POSITIVE_INFINITY;
    victim.child.once('exit', () => (exitedAt = Date.now()));
    victim.child.kill('SIGKILL');
    const killedAt = Date.now();
    let outAt: number | undefined;
    while (outAt === undefined && Date.now() - killedAt < 20_000) {
      const status = (await cluster!.backendStatus())[victim.name] ?? '';
      if (!status.startsWith('UP')) outAt = Date.now();
      else await sleep(10);
    }
    expect(outAt, `${victim.name} still in rotation 20 s after SIGKILL`).toBeDefined();
    stopAt = Math.max(killedAt + 4_000, outAt! + 3_000); // keep the stream going well after
    await Promise.all(streams);
    await victim.exited;

    const lost = turns.filter((t) => !answered(t));
    // Every answered turn is in HAProxy's log. A turn cut off by the kill may not be (seen: the
    // client's connection closed without a log line, HAProxy 2.6); which replica it was on is then
    // shown by elimination — it was in flight at the kill and no survivor answered or traced it.
    const log = await logged(turns.filter((t) => answered(t)).map((t) => t.rid));
    await sleep(1_000);
    for (const l of cluster!.requestLog()) log.set(l.requestId, l);
    const on = (t: LoadTurn) => log.get(t.rid)?.server ?? 'unlogged';
    const lostUnlogged = lost.filter((t) => !log.has(t.rid));
    // In flight on the victim while it died: sent before it was gone, not finished before the kill,
    // and not answered by a survivor.
    const inDeathWindow = (t: LoadTurn) => t.startedAt <= exitedAt && t.endedAt! >= killedAt;
    const inflightOnVictim = turns.filter((t) => inDeathWindow(t) && (on(t) === victim.name || (on(t) === 'unlogged' && !answered(t))));
    const after = turns.filter((t) => t.startedAt > outAt!);
    const report = {
      turns: turns.length,
      answered: turns.length - lost.length,
      lost: lost.length,
      lostDetail: lost.map((t) => `${t.kind}: ${t.status} ${t.error ?? ''} on ${on(t)} (${log.get(t.rid)?.termination ?? '-'}), started ${t.startedAt - killedAt} ms, ended ${t.endedAt! - killedAt} ms from the kill`),
      lostUnlogged: lostUnlogged.length,
      inFlightAtKill: atKill.size,
      inFlightOnVictimWhileDying: inflightOnVictim.length,
      victimInFlightGaugeJustBeforeKill: gauge === undefined ? null : Number(gauge),
      killToExitMs: exitedAt - killedAt,
      killToOutOfRotationMs: outAt! - killedAt,
      turnsAfterOutOfRotation: after.length,
      redispatched: turns.filter((t) => log.get(t.rid)?.retries.startsWith('+')).length,
      haproxyEvents: cluster!.events().filter((e) => e.at >= killedAt - 100).map((e) => `+${e.at - killedAt} ms ${e.line}`),
    };
    console.info(`[cluster3] case 4: ${JSON.stringify(report, null, 2)}`);
    expect(before, 'every replica in rotation just before the kill').toEqual({ web1: 'UP', web2: 'UP', web3: 'UP' });

    // Only turns in flight on the killed replica at the kill are lost; every other turn was answered.
    for (const t of lost) {
      expect(inDeathWindow(t), `lost turn ${t.rid} (${t.kind}) was not in flight while ${victim.name} died`).toBe(true);
      expect([victim.name, 'unlogged']).toContain(on(t));
    }
    expect(lost.length).toBeLessThanOrEqual(inflightOnVictim.length);
    for (const t of turns.filter(answered)) expect(t.replies!.length, `${t.kind} answered with nothing`).toBeGreaterThan(0);
    // Out of rotation: nothing went to it once HAProxy had it down, and the stream went on.
    expect(after.length).toBeGreaterThan(0);
    for (const t of after) expect(on(t)).not.toBe(victim.name);
    expect(cluster!.web.filter((w) => w !== victim).every((w) => w.running())).toBe(true);

    // No turn ran twice: at most one trace per activity; exactly one for answered turns on the survivors
    // (the killed replica's unflushed traces died with it).
    const conversations = users.map((u) => u.conversationId);
    const survivorsAnswered = turns.filter((t) => answered(t) && on(t) !== victim.name).map((t) => t.rid);
    const traces = await eventually(async () => {
      const found = await rows<{ activity_id: string; n: number }>(
        db!.db.dataSource,
        'SELECT activity_id, count(*)::int AS n FROM turn_traces WHERE conversation_id = ANY($1) GROUP BY activity_id',
        [conversations],
      );
      const byId = new Map(found.map((r) => [r.activity_id, r.n]));
      return survivorsAnswered.every((rid) => byId.has(rid)) && byId;
    }, 15_000, 'the traces of the answered turns');
    for (const [rid, n] of traces) expect(n, `activity ${rid} traced ${n} times`).toBe(1);
    // A lost turn that no log line places: no survivor ran it to the end.
    for (const t of lostUnlogged) expect(traces.has(t.rid), `lost turn ${t.rid} was traced`).toBe(false);
    // …and per conversation the stored turn count is the answered turns, plus at most the lost ones.
    for (const u of users) {
      const mine = turns.filter((t) => t.conversationId === u.conversationId);
      const done = mine.filter(answered).length;
      const stored = await storedTurns(u.conversationId);
      expect(stored, `stored turns of ${u.conversationId}`).toBeGreaterThanOrEqual(done);
      expect(stored, `stored turns of ${u.conversationId}`).toBeLessThanOrEqual(mine.length);
    }

    // No duplicate effect: every job of the load reaches the RPA exactly once, one job per PO, one "placed" each.
    const jobs = await eventually(async () => {
      const all = (await Promise.all(users.map((u) => jobsOf(u.userId)))).flat();
      return all.every((j) => j.status === 'succeeded') && all;
    }, 30_000, 'every job of the load to finish');
    const confirmed = turns.filter((t) => t.kind === 'confirm' && answered(t)).length;
    const lostConfirms = lost.filter((t) => t.kind === 'confirm').length;
    expect(jobs.length).toBeGreaterThanOrEqual(confirmed);
    expect(jobs.length).toBeLessThanOrEqual(confirmed + lostConfirms);
    expect(new Set(jobs.map((j) => j.subject_id)).size).toBe(jobs.length);
    for (const j of jobs) {
      expect(rpa.calls.filter((c) => c.jobId === Number(j.id)), `RPA calls of job ${j.id}`).toHaveLength(1);
      expect(rpa.calls.filter((c) => c.idempotencyKey === `send:${j.subject_id}`)).toHaveLength(1);
    }
    await sleep(500);
    for (const u of users) {
      const numbers = (await jobsOf(u.userId)).map((j) => j.subject_id!);
      const placed = conversationTexts(u.conversationId).filter((t) => /is placed/.test(t));
      for (const n of numbers) expect(placed.filter((t) => t.includes(`${n} is placed`)), `"placed" for ${n}`).toHaveLength(1);
    }
    console.info(`[cluster3] case 4: ${jobs.length} jobs from ${confirmed} answered confirms (+${lostConfirms} lost), ${jobs.length} send_purchase_order`);
  }, 90_000);

  /**
   * LAST. Depends on the Direct Line store being in PostgreSQL (src/bot/webchat/): with
   * conversations, tokens and watermarks in each process's memory, the second replica answers the
   * first call about the conversation with an error and this case fails. Never skipped.
   * "placed" is not required to follow "On it": the worker may finish the job before the web
   * replica posts the turn's reply (printed; see docs/notes/cluster3.md).
   */
  it('5. web chat (Direct Line): polls alternating between replicas see every activity once, in order [needs the Direct Line store in PostgreSQL]', async () => {
    const replicas = cluster!.web.filter((w) => w.running()).map((w) => w.url);
    expect(replicas.length).toBeGreaterThanOrEqual(2);
    // Polls go round the replicas, and so do the user's posts, each on its own count.
    let polls = 0;
    let posts = 1;
    const nextPoll = () => replicas[polls++ % replicas.length]!;
    const nextPost = () => replicas[posts++ % replicas.length]!;
    const start = await fetch(`${replicas[0]}/v3/directline/conversations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: { id: 'c3-web', name: 'Web Buyer' } }),
    });
    expect(start.status).toBe(201);
    const { conversationId, token } = (await start.json()) as { conversationId: string; token: string };
    const path = `/v3/directline/conversations/${encodeURIComponent(conversationId)}/activities`;
    const auth = { authorization: `Bearer ${token}` };
    const seen: (WireActivity & { id: string })[] = [];
    const pollsOn: string[] = [];
    let watermark = '';

    const poll = async () => {
      const base = nextPoll();
      pollsOn.push(base);
      const res = await fetch(`${base}${path}?watermark=${watermark}`, { headers: auth });
      const body = await res.text();
      expect(res.status, `poll on ${base}: ${body.slice(0, 200)}`).toBe(200);
      const set = JSON.parse(body) as { activities: (WireActivity & { id: string })[]; watermark?: string };
      seen.push(...set.activities);
      if (set.watermark !== undefined) watermark = set.watermark;
    };
    const pollUntil = async (what: string, found: () => boolean) => {
      const deadline = Date.now() + 20_000;
      while (!found()) {
        if (Date.now() > deadline) throw new Error(`no ${what} after 20 s of polling: ${JSON.stringify(seen.map((a) => a.text ?? a.type))}`);
        await poll();
        await sleep(50);
      }
    };
    const say = async (activity: Record<string, unknown>) => {
      const res = await post(`${nextPost()}${path}`, { type: 'message', from: { id: 'c3-web', name: 'Web Buyer' }, ...activity }, auth);
      expect(res.status, res.text).toBe(200);
    };
    const fromUser = (a: WireActivity) => (a.from as { role?: string } | undefined)?.role === 'user';
    const botSaid = (re: RegExp) => seen.some((a) => !fromUser(a) && re.test(toReply(a).text));

    await say({ text: 'hi' });
    await pollUntil('greeting', () => botSaid(/^Hi/));
    await say({ text: ORDER });
    await pollUntil('confirmation card', () => botSaid(/Please confirm/));
    const card = [...seen].reverse().find((a) => toReply(a).buttons.some((b) => b.title === 'Confirm'))!;
    await say({ text: '', value: toReply(card).buttons.find((b) => b.title === 'Confirm')!.value });
    await pollUntil('"On it"', () => botSaid(/^On it: job \d+/));
    // The proactive message comes from the worker, through whichever replica's connector.
    await pollUntil('"placed"', () => botSaid(/✅ PO-\d+ is placed/));

    expect(new Set(pollsOn).size).toBe(replicas.length);
    const ids = seen.map((a) => a.id);
    expect(new Set(ids).size, `duplicates in ${JSON.stringify(ids)}`).toBe(ids.length);
    const texts = seen.map((a) => `${fromUser(a) ? 'user' : 'bot'}: ${toReply(a).text.split('\n')[0]}`);
    // The turns' causal order: each user message, then the bot's reply to it; "placed" after the confirm.
    const causal = [/^user: hi$/, /^bot: Hi/, new RegExp(`^user: ${ORDER}$`), /^bot: .*Please confirm/, /^user: $/, /^bot: On it: job \d+/];
    let at = -1;
    for (const re of causal) {
      const i = texts.findIndex((t, k) => k > at && re.test(t));
      expect(i, `${re} after position ${at} in ${JSON.stringify(texts)}`).toBeGreaterThan(at);
      at = i;
    }
    const confirmAt = texts.findIndex((t) => t === 'user: ');
    const placedAt = texts.findIndex((t) => /^bot: ✅ PO-\d+ is placed/.test(t));
    expect(placedAt).toBeGreaterThan(confirmAt);
    expect(texts.filter((t) => /is placed/.test(t))).toHaveLength(1);
    // Every replica, read from the start, returns exactly what the alternating polls put together.
    for (const base of replicas) {
      const res = await fetch(`${base}${path}?watermark=`, { headers: auth });
      expect(res.status).toBe(200);
      const all = ((await res.json()) as { activities: { id: string }[] }).activities.map((a) => a.id);
      expect(all, `the conversation as ${base} has it`).toEqual(ids);
    }
    console.info(
      `[cluster3] case 5: ${ids.length} activities over ${pollsOn.length} polls alternating ${replicas.length} replicas, each once; ` +
        `"placed" ${placedAt < texts.findIndex((t) => /^bot: On it/.test(t)) ? 'BEFORE' : 'after'} "On it": ${JSON.stringify(texts)}`,
    );
  }, 60_000);
});
