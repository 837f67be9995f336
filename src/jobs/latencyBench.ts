/**
 * `npm run bench:jobs [-- --orders 50 --warmup 3]`: job latency, message → job done, measured
 * end to end on the real server. For each order: "order 20 units of SKU-1001 from Acme Corp",
 * then the Confirm click is POSTed (t0); t1 is when the proactive "✅ PO-… is placed" reaches the
 * channel (the ConnectorReceiver). In between: the idempotent transaction, pg-boss (run queue),
 * the order insert, the SIMULATED supplier at zero delay (simulator queue), completion, the
 * notify queue and continueConversationAsync. Also reported: the HTTP time of the confirm
 * request and the job's own created_at → finished_at from the database.
 *
 * Database: embedded PGlite in a temporary directory, or DATABASE_URL (a scratch database: the
 * demo data is loaded and orders are added). The intent of the two utterances is fixed by a
 * table (the classifier is not what is measured); entities come from the real extractor.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
    orders: { type: 'string', default: '50' },
    warmup: { type: 'string', default: '3' },
    delay: { type: 'string', default: '0' },
  },
});
const orders = Number(values.orders);
const warmup = Number(values.warmup);

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

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  const dataDir = url ? undefined : mkdtempSync(join(tmpdir(), 'rpa-bench-jobs-'));
  const config = loadConfig({
    ...(url ? { DATABASE_URL: url } : { DATA_DIR: dataDir! }),
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    SEED_DEMO_DATA: 'true',
    SIMULATOR_DELAY_MS: values.delay ?? '0',
    JOB_POLL_INTERVAL_S: '0.5',
    WEBCHAT_ENABLED: 'false',
  });
  const receiver = new ConnectorReceiver();
  await receiver.start();
  const app = await startApp(config, { recognizer: new FixedIntents(), logger: createLogger('silent') });
  const arrived = new Map<string, number>();
  receiver.onActivity((r) => {
    if (/is placed/.test(r.activity.text ?? '')) arrived.set(r.conversationId, performance.now());
  });
  const post = async (activity: Record<string, unknown>) => {
    const res = await fetch(`${app.url}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(activity),
    });
    return (await res.json().catch(() => undefined)) as { activities?: WireActivity[] } | undefined;
  };
  const endToEnd: number[] = [];
  const ack: number[] = [];
  const jobIds: string[] = [];
  try {
    for (let i = 0; i < warmup + orders; i++) {
      const conversation = { id: `bench-${randomUUID()}` };
      const base = {
        type: 'message',
        channelId: 'bench',
        serviceUrl: receiver.serviceUrl,
        conversation,
        from: { id: `bench-user-${i}`, name: 'Bench' },
        recipient: { id: 'bot' },
      };
      const asked = await post({ ...base, id: randomUUID(), text: 'order 20 units of SKU-1001 from Acme Corp', deliveryMode: 'expectReplies' });
      const content = asked?.activities?.[0]?.attachments?.[0]?.content as { actions?: { data: unknown }[] } | undefined;
      const confirm = content?.actions?.[0]?.data;
      if (!confirm) throw new Error('no confirmation card');
      const t0 = performance.now();
      await post({ ...base, id: randomUUID(), text: '', value: confirm });
      const tAck = performance.now();
      const deadline = Date.now() + 30_000;
      while (!arrived.has(conversation.id)) {
        if (Date.now() > deadline) throw new Error(`order ${i}: no notification within 30 s`);
        await new Promise((r) => setImmediate(r));
      }
      if (i >= warmup) {
        endToEnd.push(arrived.get(conversation.id)! - t0);
        ack.push(tAck - t0);
        const { rows } = await execute<{ id: string }>(app.db.dataSource, 'SELECT id FROM automation_jobs WHERE conversation_id = $1', [conversation.id]);
        jobIds.push(rows[0]!.id);
      }
    }
    const { rows } = await execute<{ ms: number }>(
      app.db.dataSource,
      `SELECT extract(epoch FROM (finished_at - created_at)) * 1000 AS ms FROM automation_jobs WHERE id = ANY($1::bigint[])`,
      [jobIds],
    );
    const results = {
      database: app.db.mode,
      orders,
      simulatorDelayMs: Number(values.delay ?? 0),
      node: process.version,
      metrics: [
        summary('confirm message → "PO placed" notification received (ms)', endToEnd),
        summary('confirm HTTP request → response (ms)', ack),
        summary('job created_at → finished_at in the database (ms)', rows.map((r) => Number(r.ms))),
      ],
    };
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
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
