/**
 * The admission semaphore on its own (src/bot/http/admission.ts), with a fake clock: the limit, the
 * queue, the adaptive (AIMD) limit, which routes are gated, and the readiness cache.
 */
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { Admission, cachedReadiness, isTurnRequest, type ShedReason } from '../../src/bot/http/admission.js';

function harness(options: Partial<ConstructorParameters<typeof Admission>[0]> = {}) {
  const clock = { t: 0 };
  const admission = new Admission({ maxInFlight: 4, maxQueue: 0, queueTimeoutMs: 60_000, retryAfterS: 1, deadlineMs: 10_000, now: () => clock.t, ...options });
  const releases: (() => void)[] = [];
  const shed: ShedReason[] = [];
  const ask = () => admission.acquire((release) => releases.push(release), (reason) => shed.push(reason));
  return { admission, clock, releases, shed, ask };
}

describe('Admission', () => {
  it('admits up to the limit and sheds the rest at once; a release lets the next one in', () => {
    const h = harness({ targetMs: 0 });
    for (let i = 0; i < 6; i++) h.ask();
    expect(h.releases).toHaveLength(4);
    expect(h.shed).toEqual(['full', 'full']);
    h.releases[0]!();
    h.releases[0]!(); // twice is once
    expect(h.admission.inFlight).toBe(3);
    h.ask();
    expect(h.releases).toHaveLength(5);
    expect(h.admission.stats()).toMatchObject({ inFlight: 4, admitted: 5, shed: { full: 2, queue_timeout: 0 } });
  });

  it('queues up to maxQueue in arrival order, hands a released slot to the oldest, and drops a cancelled waiter', () => {
    const h = harness({ maxInFlight: 1, maxQueue: 2, targetMs: 0 });
    h.ask();
    const order: string[] = [];
    const cancelB = h.admission.acquire(() => order.push('b'), () => order.push('b shed'));
    h.admission.acquire(() => order.push('c'), () => order.push('c shed'));
    h.ask(); // queue full
    expect(h.shed).toEqual(['full']);
    expect(h.admission.queued).toBe(2);
    cancelB();
    expect(h.admission.queued).toBe(1);
    h.releases[0]!();
    expect(order).toEqual(['c']);
    expect(h.admission.inFlight).toBe(1);
  });

  it('sheds a waiter whose queue time runs out', async () => {
    const h = harness({ maxInFlight: 1, maxQueue: 1, queueTimeoutMs: 20, targetMs: 0 });
    h.ask();
    h.ask();
    await new Promise((r) => setTimeout(r, 200));
    expect(h.shed).toEqual(['queue_timeout']);
    expect(h.admission.queued).toBe(0);
  });

  it('adapts: slow turns shrink the limit (once per target period, never below the floor), fast ones grow it back to the ceiling', () => {
    const h = harness({ maxInFlight: 12, minInFlight: 2, targetMs: 1000 });
    expect(h.admission.limit).toBe(3); // starts at a quarter of the ceiling
    for (let i = 0; i < 300; i++) {
      h.ask();
      h.clock.t += 10;
      h.releases.shift()!();
    }
    expect(h.admission.limit).toBe(12);
    for (let i = 0; i < 12; i++) h.ask();
    h.clock.t += 1100; // all twelve took 1.1 s
    for (const r of h.releases.splice(0)) r();
    expect(h.admission.limit).toBe(10); // one decrease (×0.9) for the whole slow cohort
    for (let round = 1; round <= 20; round++) {
      h.ask();
      h.clock.t += 5000;
      h.releases.shift()!();
    }
    expect(h.admission.limit).toBe(2);
    // Fast turns: the limit climbs back, about one per `limit` turns, up to the ceiling.
    for (let i = 0; i < 500; i++) {
      h.ask();
      h.clock.t += 10;
      h.releases.shift()!();
    }
    expect(h.admission.limit).toBe(12);
  });

  it('does not hand a slot to a waiter while the limit is below what is running', () => {
    const h = harness({ maxInFlight: 4, minInFlight: 1, maxQueue: 4, targetMs: 1000 });
    for (let i = 0; i < 200; i++) {
      h.ask();
      h.clock.t += 10;
      h.releases.shift()!();
    }
    expect(h.admission.limit).toBe(4);
    for (let i = 0; i < 5; i++) h.ask(); // 4 run, 1 waits
    h.clock.t += 1100;
    h.releases[0]!(); // slow: limit 4 → 3, three still run
    expect(h.admission.inFlight).toBe(3);
    expect(h.admission.queued).toBe(1);
    h.releases[1]!();
    expect(h.admission.queued).toBe(0); // now the waiter gets the freed slot
    expect(h.admission.inFlight).toBe(3);
  });
});

describe('isTurnRequest', () => {
  const req = (method: string, url: string) => ({ method, url }) as IncomingMessage;
  it('gates the turn routes only', () => {
    for (const url of ['/api/messages', '/api/messages?x=1', '/api/slack/events', '/api/slack/interactivity', '/v3/directline/conversations', '/v3/directline/conversations/abc/activities', '/v3/directline/conversations/abc/upload']) {
      expect(isTurnRequest(req('POST', url)), url).toBe(true);
    }
    for (const [m, url] of [
      ['GET', '/api/messages'],
      ['GET', '/healthz'],
      ['GET', '/readyz'],
      ['GET', '/metrics'],
      ['GET', '/v3/directline/conversations/abc/activities'],
      ['POST', '/v3/directline/tokens/generate'],
      // the bot's own replies to the web chat connector must never be shed
      ['POST', '/webchat/connector/s3cret/v3/conversations/abc/activities'],
      ['POST', '/api/automations/12/callback'],
    ] as const) {
      expect(isTurnRequest(req(m, url)), `${m} ${url}`).toBe(false);
    }
  });
});

describe('cachedReadiness', () => {
  it('runs one check at a time and reuses a fresh result', async () => {
    let calls = 0;
    let finish!: (v: number) => void;
    const check = cachedReadiness(() => {
      calls += 1;
      return new Promise<number>((resolve) => (finish = resolve));
    }, 60_000);
    const a = check();
    const b = check();
    expect(calls).toBe(1);
    finish(7);
    expect(await a).toBe(7);
    expect(await b).toBe(7);
    expect(await check()).toBe(7);
    expect(calls).toBe(1);
  });
});
