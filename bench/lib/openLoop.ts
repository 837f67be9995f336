/**
 * Open-loop load: turns are offered on a Poisson schedule at a fixed rate whatever the replies do,
 * as real users who do not wait for each other. Latency is measured from each turn's *scheduled*
 * time, so a server (or a load generator) that falls behind shows up in the tail instead of
 * silently lowering the load (no coordinated omission). The generator's own lag is reported.
 *
 * The traffic is a mix of conversations: the training data's utterances (training/splits, with
 * their intents), and every write request (create / approve / cancel an order, file a
 * declaration, receive or transfer stock) is followed in the same conversation by a "yes" once
 * its turn has answered — the confirmation takes one of the schedule's later arrivals.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { benchMessage, quantile } from './load.js';
import { postJson } from './postJson.js';
import { seededRandom } from '../../src/util/seededRandom.js';

const WRITE_INTENTS = new Set([
  'procurement.create_order',
  'procurement.approve_order',
  'procurement.cancel_order',
  'customs.file_declaration',
  'storage.receive_goods',
  'storage.transfer_stock',
]);

export interface Utterance {
  text: string;
  intent: string;
  write: boolean;
}

/** The labelled utterances of training/splits, in a fixed shuffled order. */
export function loadConversationMix(root: string): Utterance[] {
  const out: Utterance[] = [];
  for (const f of ['test.jsonl', 'val.jsonl', 'train.jsonl']) {
    const file = path.join(root, 'training/splits', f);
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const { text, intent } = JSON.parse(line) as { text?: unknown; intent?: unknown };
      if (typeof text === 'string' && text.trim() && typeof intent === 'string') out.push({ text, intent, write: WRITE_INTENTS.has(intent) });
    }
  }
  if (out.length === 0) throw new Error('no labelled utterances in training/splits (run npm run train once to build them)');
  const rnd = seeded(0x5eed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** The same schedule for every target of a run. */
export const seeded = seededRandom;

export interface OpenLoopOptions {
  /** POST target, e.g. http://127.0.0.1:3978/api/messages */
  url: string;
  /** Where the bot sends its replies (a ConnectorReceiver). */
  serviceUrl: string;
  headers?: Record<string, string>;
  rate: number;
  seconds: number;
  utterances: readonly Utterance[];
  /** Conversation ids start with this (to find their traces afterwards). */
  prefix: string;
  seed?: number;
  /** Distinct users (conversations) to draw from; a busy one is never sent a second turn at once. */
  users?: number;
  timeoutMs?: number;
}

export interface OpenLoopResult {
  offered_rate: number;
  achieved_rate: number;
  /** Turns offered (scheduled), answered 2xx, shed (503), failed otherwise (other status, timeout, network). */
  offered: number;
  turns: number;
  shed: number;
  errors: number;
  confirmations: number;
  writes: number;
  seconds: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  max_ms: number;
  mean_ms: number;
  /** How late the generator sent turns vs their schedule (its own event loop on a busy machine). */
  generator_lag_p99_ms: number;
  statuses: Record<string, number>;
}

export async function openLoop(o: OpenLoopOptions): Promise<OpenLoopResult> {
  const rnd = seeded(o.seed ?? 42);
  const users = o.users ?? 1000;
  const timeoutMs = o.timeoutMs ?? 30_000;
  // Poisson process: exponential gaps with mean 1/rate.
  const schedule: number[] = [];
  for (let t = -Math.log(1 - rnd()) / o.rate; t < o.seconds; t += -Math.log(1 - rnd()) / o.rate) schedule.push(t * 1000);

  const target = new URL(o.url);
  const busy = new Set<string>();
  const awaitingYes: string[] = [];
  let nextText = 0;
  let extraUsers = 0;
  const latencies: number[] = [];
  const lags: number[] = [];
  const statuses: Record<string, number> = {};
  let shed = 0;
  let errors = 0;
  let confirmations = 0;
  let writes = 0;
  let lastDone = 0;

  const pickUser = (): string => {
    for (let tries = 0; tries < 8; tries++) {
      const id = `${o.prefix}${Math.floor(rnd() * users)}`;
      if (!busy.has(id) && !awaitingYes.includes(id)) return id;
    }
    return `${o.prefix}x${extraUsers++}`;
  };

  const send = async (scheduledAt: number): Promise<void> => {
    let conversationId: string;
    let text: string;
    let write = false;
    const yesIdx = awaitingYes.findIndex((id) => !busy.has(id));
    if (yesIdx >= 0) {
      conversationId = awaitingYes.splice(yesIdx, 1)[0]!;
      text = 'yes';
      confirmations++;
    } else {
      conversationId = pickUser();
      const u = o.utterances[nextText++ % o.utterances.length]!;
      text = u.text;
      write = u.write;
      if (write) writes++;
    }
    busy.add(conversationId);
    const activity = benchMessage(o.serviceUrl, conversationId, { id: `user-${conversationId}`, name: 'Bench User' }, text);
    lags.push(performance.now() - scheduledAt);
    try {
      const status = await postJson(target, JSON.stringify(activity), o.headers ?? {}, timeoutMs);
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status === 503) shed++;
      else if (status >= 300) errors++;
      else {
        latencies.push(performance.now() - scheduledAt);
        if (write) awaitingYes.push(conversationId);
      }
    } catch (err) {
      const key = err instanceof Error ? err.name : 'error';
      statuses[key] = (statuses[key] ?? 0) + 1;
      errors++;
    } finally {
      busy.delete(conversationId);
      lastDone = performance.now();
    }
  };

  const inflight: Promise<void>[] = [];
  const t0 = performance.now();
  for (const at of schedule) {
    const wait = t0 + at - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    inflight.push(send(t0 + at));
  }
  await Promise.all(inflight);
  const sorted = latencies.sort((a, b) => a - b);
  const lagSorted = lags.sort((a, b) => a - b);
  const seconds = Math.max(o.seconds, (lastDone - t0) / 1000);
  return {
    offered_rate: schedule.length / o.seconds,
    achieved_rate: sorted.length / seconds,
    offered: schedule.length,
    turns: sorted.length,
    shed,
    errors,
    confirmations,
    writes,
    seconds,
    p50_ms: quantile(sorted, 0.5),
    p95_ms: quantile(sorted, 0.95),
    p99_ms: quantile(sorted, 0.99),
    max_ms: sorted[sorted.length - 1] ?? NaN,
    mean_ms: sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length),
    generator_lag_p99_ms: quantile(lagSorted, 0.99),
    statuses,
  };
}
