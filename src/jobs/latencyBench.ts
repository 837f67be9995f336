/**
 * `npm run bench:jobs [-- --levels 1,100,500 --delay 0 --out bench/results]`: automation job
 * latency under bursts of confirmations, end to end on the real server. For each level N: N
 * conversations each get "order 20 units of SKU-1001 from Acme Corp" (the card), then all N
 * Confirm clicks are POSTed at once (t0 per click); t1 is when that conversation's proactive
 * "✅ PO-… is placed" reaches the channel (the ConnectorReceiver). In between: the idempotent
 * transaction, pg-boss (run queue), the order insert, the SIMULATED supplier at zero delay
 * (simulator queue), completion, the notify queue and continueConversationAsync.
 *
 * Reported per level: queue→start (job created_at → started_at, from the database),
 * confirm→notification (t1 − t0), p50/p90/p99/max, and jobs/s (N ÷ first click → last
 * notification). Written to bench/results/jobs-<date>-<database>.json and .csv with the machine.
 *
 * The server takes the whole burst (admission limits raised, DB_ACQUIRE_TIMEOUT_MS 14 s): what is
 * measured is the job system, not the shedding of turns. A click answered "busy"/503 is retried
 * after 500 ms, as a channel would; t0 stays the first try. Job settings are the shipped defaults
 * (JOB_CONCURRENCY 10, JOB_POLL_INTERVAL_S 2) unless set in the environment.
 *
 * Database: embedded PGlite in a temporary directory, or DATABASE_URL (a scratch database: the
 * demo data is loaded and orders are added). The intent of the utterance is fixed by a table (the
 * classifier is not what is measured); entities come from the real extractor.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { startApp } from '../app.js';
import { loadConfig } from '../config/config.js';
import { createLogger } from '../logger.js';
import { ConnectorReceiver, type WireActivity } from '../chat/connectorReceiver.js';
import { execute } from '../db/sql.js';
import { EntityExtractor } from '../nlu/entities/EntityExtractor.js';
import type { MasterData } from '../nlu/entities/masterData.js';

const { values } = parseArgs({
  options: {
    levels: { type: 'string', default: '1,100,500' },
    delay: { type: 'string', default: '0' },
    out: { type: 'string', default: 'bench/results' },
    machine: { type: 'string', default: '2-core shared dev box, not quiet' },
    deadline: { type: 'string', default: '300' },
  },
});
const levels = values.levels!.split(',').map(Number).filter((n) => n > 0);

class FixedIntents {
  private readonly entities = new EntityExtractor();
  setMasterData(data: MasterData): void {
    this.entities.setMasterData(data);
  }
  async recognize(text: string) {
    const intent = /^order /i.test(text) ? 'procurement.create_order' : 'out_of_scope';
    return { intent, confidence: 0.99, entities: this.entities.extract(text) };
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

function summary(name: string, xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const r = (n: number) => Math.round(n * 10) / 10;
  return { name, n: s.length, p50: r(percentile(s, 50)), p90: r(percentile(s, 90)), p99: r(percentile(s, 99)), max: r(s[s.length - 1] ?? NaN) };
}

type Post = (activity: Record<string, unknown>) => Promise<{ status: number; body?: { activities?: WireActivity[] } }>;

interface LevelResult {
  confirmations: number;
  /** "placed" notifications received before the deadline (--deadline seconds). */
  notified: number;
  /** Job statuses at the end of the level (all `succeeded` when every notification came). */
  jobStatuses: Record<string, number>;
  seconds: number;
  jobsPerSecond: number;
  retriedClicks: number;
  metrics: ReturnType<typeof summary>[];
}

async function runLevel(n: number, post: Post, serviceUrl: string, arrived: Map<string, number>, db: Parameters<typeof execute>[0]): Promise<LevelResult> {
  const base = (i: number) => ({
    type: 'message',
    channelId: 'bench',
    serviceUrl,
    conversation: { id: `bench-${n}-${i}-${randomUUID()}` },
    from: { id: `bench-user-${n}-${i}`, name: 'Bench' },
    recipient: { id: 'bot' },
  });
  const conversations = Array.from({ length: n }, (_, i) => base(i));
  // Cards first, 20 conversations at a time (not measured).
  const confirms: unknown[] = [];
  for (let i = 0; i < n; i += 20) {
    const batch = await Promise.all(
      conversations.slice(i, i + 20).map(async (c) => {
        for (let attempt = 0; attempt < 20; attempt++) {
          const asked = await post({ ...c, id: randomUUID(), text: 'order 20 units of SKU-1001 from Acme Corp', deliveryMode: 'expectReplies' });
          const content = asked.body?.activities?.[0]?.attachments?.[0]?.content as { actions?: { data: unknown }[] } | undefined;
          if (content?.actions?.[0]?.data) return content.actions[0].data;
          await new Promise((r) => setTimeout(r, 500));
        }
        throw new Error('no confirmation card');
      }),
    );
    confirms.push(...batch);
  }
  const t0 = new Map<string, number>();
  let retriedClicks = 0;
  const click = async (i: number) => {
    const c = conversations[i]!;
    t0.set(c.conversation.id, performance.now());
    const activity = { ...c, id: randomUUID(), text: '', value: confirms[i] };
    for (let attempt = 0; attempt < 40; attempt++) {
      const res = await post(activity).catch(() => ({ status: 599, body: undefined }));
      const text = res.body?.activities?.map((a) => a.text ?? '').join(' ') ?? '';
      if (res.status < 300 && !/busy/i.test(text)) return;
      retriedClicks++;
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`confirmation ${i} never accepted`);
  };
  const first = performance.now();
  await Promise.all(conversations.map((_, i) => click(i)));
  const deadline = Date.now() + Number(values.deadline) * 1000;
  while (conversations.some((c) => !arrived.has(c.conversation.id)) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 5));
  }
  const ids = conversations.map((c) => c.conversation.id).filter((id) => arrived.has(id));
  const last = Math.max(...ids.map((id) => arrived.get(id)!));
  const { rows } = await execute<{ queued_ms: number; done_ms: number }>(
    db,
    `SELECT extract(epoch FROM (started_at - created_at)) * 1000 AS queued_ms,
            extract(epoch FROM (finished_at - created_at)) * 1000 AS done_ms
     FROM automation_jobs WHERE conversation_id = ANY($1::text[])`,
    [ids],
  );
  const seconds = (last - first) / 1000;
  const { rows: statuses } = await execute<{ status: string; n: string }>(
    db,
    'SELECT status, count(*) AS n FROM automation_jobs WHERE conversation_id = ANY($1::text[]) GROUP BY status',
    [conversations.map((c) => c.conversation.id)],
  );
  return {
    jobStatuses: Object.fromEntries(statuses.map((r) => [r.status, Number(r.n)])),
    confirmations: n,
    notified: ids.length,
    seconds: Math.round(seconds * 100) / 100,
    jobsPerSecond: Math.round((ids.length / seconds) * 10) / 10,
    retriedClicks,
    metrics: [
      summary('queue → start (job created_at → started_at, ms)', rows.map((r) => Number(r.queued_ms))),
      summary('confirm → "PO placed" notification received (ms)', ids.map((id) => arrived.get(id)! - t0.get(id)!)),
      summary('job created_at → finished_at (ms)', rows.map((r) => Number(r.done_ms))),
    ],
  };
}

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  const dataDir = url ? undefined : mkdtempSync(join(tmpdir(), 'rpa-bench-jobs-'));
  const config = loadConfig({
    ...process.env,
    ...(url ? { DATABASE_URL: url } : { DATA_DIR: dataDir! }),
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    SEED_DEMO_DATA: 'true',
    SIMULATOR_DELAY_MS: values.delay ?? '0',
    WEBCHAT_ENABLED: 'false',
    AUTOMATION_CONNECTOR: 'simulator',
    ADMISSION_MAX_INFLIGHT: '1000',
    ADMISSION_QUEUE_MAX: '1000',
    ADMISSION_TARGET_MS: '0',
    ADMISSION_QUEUE_TIMEOUT_MS: '14000',
    TURN_DEADLINE_MS: '14000',
    DB_ACQUIRE_TIMEOUT_MS: '14000',
  });
  const receiver = new ConnectorReceiver();
  await receiver.start();
  const app = await startApp(config, { recognizer: new FixedIntents(), logger: createLogger('silent') });
  const arrived = new Map<string, number>();
  receiver.onActivity((r) => {
    if (/is placed/.test(r.activity.text ?? '')) arrived.set(r.conversationId, performance.now());
  });
  const post: Post = async (activity) => {
    const res = await fetch(`${app.url}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(activity),
    });
    return { status: res.status, body: (await res.json().catch(() => undefined)) as { activities?: WireActivity[] } | undefined };
  };
  const load = [loadavg()[0]];
  try {
    await runLevel(3, post, receiver.serviceUrl, arrived, app.db.dataSource); // warm-up
    const results: LevelResult[] = [];
    for (const n of levels) {
      const result = await runLevel(n, post, receiver.serviceUrl, arrived, app.db.dataSource);
      results.push(result);
      process.stderr.write(`${n} confirmations: ${result.notified} notified in ${result.seconds} s, ${result.jobsPerSecond} jobs/s\n`);
    }
    load.push(loadavg()[0]);
    const date = new Date().toISOString();
    const report = {
      date,
      machine: {
        note: values.machine,
        cpus: cpus().length,
        model: cpus()[0]?.model ?? 'unknown',
        memoryGiB: Math.round(totalmem() / 2 ** 30),
        loadavg1: { start: Math.round(load[0]! * 100) / 100, end: Math.round(load[1]! * 100) / 100 },
      },
      node: process.version,
      database: app.db.mode,
      simulatorDelayMs: Number(values.delay ?? 0),
      jobConcurrency: config.automation.concurrency,
      jobPollIntervalSeconds: config.automation.pollIntervalSeconds,
      levels: results,
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    mkdirSync(values.out!, { recursive: true });
    const stem = join(values.out!, `jobs-${date.slice(0, 10)}-${app.db.mode}`);
    writeFileSync(`${stem}.json`, `${JSON.stringify(report, null, 2)}\n`);
    const csv = ['date,machine,database,confirmations,notified,metric,n,p50_ms,p90_ms,p99_ms,max_ms,seconds,jobs_per_s'];
    for (const level of results) {
      for (const m of level.metrics) {
        csv.push([date, JSON.stringify(values.machine), app.db.mode, level.confirmations, level.notified, JSON.stringify(m.name), m.n, m.p50, m.p90, m.p99, m.max, level.seconds, level.jobsPerSecond].join(','));
      }
    }
    writeFileSync(`${stem}.csv`, `${csv.join('\n')}\n`);
    process.stderr.write(`wrote ${stem}.json and .csv\n`);
  } finally {
    await app.close();
    await receiver.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
