import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { spread } from '../../bench/lib/machine.js';
import { loadConversationMix, openLoop, type Utterance } from '../../bench/lib/openLoop.js';

/** A stand-in bot: records each turn, answers with `status(n)` for the n-th request. */
async function fakeBot(
  status: (n: number) => number,
): Promise<{ url: string; turns: { conversation: string; text: string; status: number }[]; overlaps: () => number; server: Server }> {
  const turns: { conversation: string; text: string; status: number }[] = [];
  // A turn arriving while its conversation's previous turn is still unanswered.
  const open = new Set<string>();
  let overlaps = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const a = JSON.parse(body) as { conversation: { id: string }; text: string };
      const s = status(turns.length);
      turns.push({ conversation: a.conversation.id, text: a.text, status: s });
      if (open.has(a.conversation.id)) overlaps++;
      open.add(a.conversation.id);
      // some service time, so turns overlap as they would on a real server
      setTimeout(() => {
        open.delete(a.conversation.id);
        res.writeHead(s).end();
      }, 5);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/messages`, turns, overlaps: () => overlaps, server };
}

const mix: Utterance[] = [
  { text: 'create a PO for 10 gloves', intent: 'procurement.create_order', write: true },
  { text: 'hi', intent: 'assistant.greet', write: false },
  { text: 'stock of gloves', intent: 'storage.stock_level', write: false },
];

let server: Server | undefined;
afterEach(() => server?.close());

describe('open-loop load generator (bench/lib/openLoop.ts)', () => {
  it('counts 503 as shed and other failures as errors, apart from answered turns', async () => {
    const bot = await fakeBot((n) => (n % 5 === 3 ? 503 : n % 7 === 6 ? 500 : 200));
    server = bot.server;
    const r = await openLoop({ url: bot.url, serviceUrl: 'http://127.0.0.1:1', rate: 200, seconds: 0.4, utterances: mix, prefix: 't-' });
    expect(r.offered).toBeGreaterThan(20);
    expect(r.offered).toBe(bot.turns.length);
    expect(r.shed).toBe(bot.turns.filter((t) => t.status === 503).length);
    expect(r.errors).toBe(bot.turns.filter((t) => t.status === 500).length);
    expect(r.turns).toBe(bot.turns.filter((t) => t.status === 200).length);
    expect(r.shed).toBeGreaterThan(0);
    expect(r.errors).toBeGreaterThan(0);
    expect(r.turns + r.shed + r.errors).toBe(r.offered);
  });

  it('follows every answered write request with "yes" in the same conversation, never before it was answered', async () => {
    const bot = await fakeBot(() => 200);
    server = bot.server;
    // A long schedule against a fast bot, so writes are answered while arrivals are still to come (even on a busy machine).
    const r = await openLoop({ url: bot.url, serviceUrl: 'http://127.0.0.1:1', rate: 60, seconds: 1.5, utterances: mix, prefix: 'c-', users: 3 });
    expect(r.writes).toBeGreaterThan(5);
    expect(r.errors).toBe(0);
    expect(r.confirmations).toBeGreaterThan(0);
    const byConversation = new Map<string, string[]>();
    for (const t of bot.turns) byConversation.set(t.conversation, [...(byConversation.get(t.conversation) ?? []), t.text]);
    let yeses = 0;
    for (const texts of byConversation.values()) {
      texts.forEach((text, i) => {
        if (text !== 'yes') return;
        yeses++;
        // the turn right before a "yes" in its conversation is the write it confirms
        expect(texts[i - 1]).toBe(mix[0]!.text);
      });
    }
    expect(yeses).toBe(r.confirmations);
    // a user never sends a second message (the "yes" included) before the last one was answered
    expect(bot.overlaps()).toBe(0);
  });

  it('offers the same Poisson schedule for the same seed, whatever the replies', async () => {
    const slow = await fakeBot(() => 200);
    server = slow.server;
    const a = await openLoop({ url: slow.url, serviceUrl: 'http://127.0.0.1:1', rate: 150, seconds: 0.3, utterances: mix, prefix: 'a-', seed: 7 });
    const b = await openLoop({ url: slow.url, serviceUrl: 'http://127.0.0.1:1', rate: 150, seconds: 0.3, utterances: mix, prefix: 'b-', seed: 7 });
    expect(a.offered).toBe(b.offered);
  });

  it('labels the training utterances, write intents included', () => {
    const all = loadConversationMix(process.cwd());
    expect(all.some((u) => u.write && u.intent === 'procurement.create_order')).toBe(true);
    expect(all.some((u) => !u.write && u.intent === 'out_of_scope')).toBe(true);
  });

  it('spread: median and min–max of per-round ratios', () => {
    expect(spread([3, 1, 2])).toEqual({ median: 2, min: 1, max: 3, n: 3 });
    expect(spread([4, 1, 2, 3]).median).toBe(2.5);
  });
});
