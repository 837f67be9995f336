/**
 * Property-based fuzz of the HTTP edge (issue 13, item 4): ~2,000 seeded activities — valid ones,
 * and ones with every field the code reads (type, ids, conversation, from, recipient, text, value,
 * attachments, membersAdded, membersRemoved, entities, channelData, replyToId, action, name…) set to
 * wrong types, odd shapes, NUL and broken UTF-16 — through the real POST /api/messages of one
 * in-process server. Holds when:
 *
 * - every status is in the documented set: 200 (turn ran), 202 (turn still running at the reply
 *   deadline, src/bot/http/admission.ts), 400 (invalid activity / JSON), 403 (serviceUrl not
 *   allowed), 413 (too large), 415 (not JSON), 501 (an invoke the bot does not implement, the Bot
 *   Framework convention) — never 401 on a server without auth (that is an SDK exception before the
 *   bot logic), never 500;
 * - no response body carries a stack trace or an exception name;
 * - the server's pino log has 0 TypeErrors and 0 error-level lines (a TypeError inside a turn is
 *   logged as "turn failed" and answered "Sorry, something went wrong");
 * - the same process still answers afterwards.
 *
 * A failure prints the seed and the activity that broke it. FUZZ_RUNS / FUZZ_SEED override.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { RunningApp } from '../../src/app.js';
import { ConnectorReceiver } from '../../src/chat/connectorReceiver.js';
import type { DatabaseConfig } from '../../src/db/database.js';
import { databaseTargets, type TestDatabase } from '../helpers/databases.js';
import { startTestApp } from '../helpers/testApp.js';
import { captureLogger } from './helpers/captureLogger.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 2000);
const SEED = Number(process.env.FUZZ_SEED ?? 13013);
const CONCURRENCY = 6;
/** The documented statuses of POST /api/messages on a server without Bot Framework auth. */
const DOCUMENTED = new Set([200, 202, 400, 403, 413, 415, 501]);
const LEAK = /\bat .+\.(?:ts|js|mjs|cjs):\d+|\bTypeError\b|\bRangeError\b|\bZodError\b|\bSyntaxError\b|"stack"/;

const targets = await databaseTargets();
// One database is enough for the edge; real PostgreSQL when it is there (faster under parallel turns).
const target = targets.find((t) => t.kind === 'postgres' && !t.skip) ?? targets[0]!;
const envFor = (config: DatabaseConfig): Record<string, string> =>
  config.mode === 'embedded' ? { DATA_DIR: config.dataDir } : { DATABASE_URL: config.url };

// ------------------------------------------------------------------------------- generators

const nasty = fc.constantFrom('', ' ', '\u0000', 'a\u0000b', '\ud800', '\udc00x', '\n', '%00', '<at>bot</at>', 'bot', '__proto__', 'x'.repeat(600));
const anything: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 2, arbitrary: nasty },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  { weight: 1, arbitrary: fc.constantFrom(null, true, 0, -1, 1e300, [], {}, [null], [[]], 'x') },
);
const idLike = fc.oneof({ weight: 4, arbitrary: fc.string({ minLength: 1, maxLength: 24 }) }, { weight: 2, arbitrary: nasty }, { weight: 1, arbitrary: anything });
const account = fc.oneof(
  { weight: 4, arbitrary: fc.record({ id: idLike, name: fc.oneof(fc.string(), anything), aadObjectId: anything, role: anything }, { requiredKeys: [] }) },
  { weight: 1, arbitrary: anything },
);
const listOf = <T>(item: fc.Arbitrary<T>) => fc.oneof({ weight: 3, arbitrary: fc.array(fc.oneof(item, anything), { maxLength: 4 }) }, { weight: 1, arbitrary: anything });
const attachment = fc.record(
  {
    contentType: fc.oneof(
      fc.constantFrom(
        'application/vnd.microsoft.teams.file.download.info',
        'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
        'text/html',
        'text/plain',
        'image/png',
        'application/vnd.microsoft.card.adaptive',
      ),
      anything,
    ),
    // Loopback addresses that refuse at once: the fuzz never reaches out of the machine.
    contentUrl: fc.oneof(fc.constantFrom('data:text/plain;base64,aGVsbG8=', 'data:,x', 'data:;base64,%%%', 'http://127.0.0.1:9/f.xlsx', 'https://127.0.0.1:9/f'), anything),
    name: fc.oneof(fc.string(), anything),
    content: fc.oneof(fc.record({ downloadUrl: fc.oneof(fc.constant('https://127.0.0.1:9/d'), anything), fileType: fc.oneof(fc.constant('xlsx'), anything) }, { requiredKeys: [] }), anything),
  },
  { requiredKeys: [] },
);
const entity = fc.record(
  { type: fc.oneof(fc.constantFrom('mention', 'clientInfo', 'Mention'), anything), mentioned: account, text: fc.oneof(fc.constant('<at>bot</at>'), anything) },
  { requiredKeys: [] },
);
const value = fc.oneof(
  { weight: 2, arbitrary: anything },
  {
    weight: 2,
    arbitrary: fc.record(
      {
        verb: fc.oneof(fc.constantFrom('do', 'confirm', 'cancel', 'choose', 'approve', 'reject', 'import'), anything),
        action: fc.oneof(fc.constantFrom('procurement.approve_order', 'procurement.place_order', 'customs.file_declaration', 'storage.move_stock'), anything),
        order: fc.oneof(fc.constantFrom('PO-1101', 'PO-1102'), anything),
        nonce: anything,
      },
      { requiredKeys: [] },
    ),
  },
);

const DELETE = Symbol('delete');
/** A field is left alone most of the time (about 2 of the ~25 change per activity), replaced, or deleted. */
const maybe = <T>(arb: fc.Arbitrary<T>) =>
  fc.oneof(
    { weight: 40, arbitrary: fc.constant(undefined) },
    { weight: 3, arbitrary: arb as fc.Arbitrary<unknown> },
    { weight: 1, arbitrary: fc.constant(DELETE) },
  );

const mutations = fc.record({
  type: maybe(fc.oneof(fc.constantFrom('message', 'conversationUpdate', 'installationUpdate', 'invoke', 'event', 'messageReaction', 'typing', 'endOfConversation'), anything)),
  id: maybe(idLike),
  channelId: maybe(fc.oneof(fc.constantFrom('msteams', 'slack', 'webchat', 'emulator'), idLike)),
  serviceUrl: maybe(fc.oneof(fc.constantFrom('http://example.com/', 'ftp://127.0.0.1/', 'http://127.0.0.1:9/\u0000', 'not a url'), anything)),
  conversation: maybe(
    fc.oneof(
      fc.record({ id: idLike, isGroup: anything, conversationType: fc.oneof(fc.constantFrom('personal', 'channel', 'groupChat'), anything), tenantId: anything, name: anything }, { requiredKeys: [] }),
      anything,
    ),
  ),
  from: maybe(account),
  recipient: maybe(account),
  text: maybe(fc.oneof(fc.constantFrom('hi', 'yes', 'help', 'cancel', 'status of PO-1101', '<at>bot</at> hi'), fc.string(), anything)),
  value: maybe(value),
  attachments: maybe(listOf(attachment)),
  membersAdded: maybe(listOf(account)),
  membersRemoved: maybe(listOf(account)),
  entities: maybe(listOf(entity)),
  channelData: maybe(fc.oneof(fc.record({ tenant: fc.oneof(fc.record({ id: idLike }, { requiredKeys: [] }), anything), team: anything, eventType: anything }, { requiredKeys: [] }), anything)),
  replyToId: maybe(idLike),
  action: maybe(fc.oneof(fc.constantFrom('add', 'remove'), anything)),
  name: maybe(fc.oneof(fc.constantFrom('adaptiveCard/action', 'fileConsent/invoke'), anything)),
  locale: maybe(anything),
  timestamp: maybe(anything),
  localTimestamp: maybe(anything),
  textFormat: maybe(anything),
  deliveryMode: maybe(fc.oneof(fc.constant('normal'), anything)),
  extra: maybe(fc.dictionary(fc.string({ maxLength: 8 }), anything, { maxKeys: 3 })),
});

/** The wire form: usually a JSON activity; sometimes no object at all, broken JSON or the wrong type. */
const request = fc.record({
  mutations,
  wire: fc.oneof(
    { weight: 30, arbitrary: fc.constant('activity' as const) },
    { weight: 1, arbitrary: fc.constant('top-level-value' as const) },
    { weight: 1, arbitrary: fc.constant('truncated' as const) },
    { weight: 1, arbitrary: fc.constant('text/plain' as const) },
  ),
  topLevel: anything,
  n: fc.nat(),
});

type Request = typeof request extends fc.Arbitrary<infer T> ? T : never;

function build(r: Request, serviceUrl: string): { body: string; contentType: string } {
  const activity: Record<string, unknown> = {
    type: 'message',
    id: `act-${r.n}`,
    channelId: 'test',
    serviceUrl,
    conversation: { id: `fuzz-${r.n % 300}` },
    from: { id: `user-${r.n % 7}`, name: 'Fuzz' },
    recipient: { id: 'bot', name: 'RPA Assistant' },
    text: 'hi',
    deliveryMode: 'expectReplies',
  };
  for (const [key, v] of Object.entries(r.mutations)) {
    if (v === undefined) continue;
    if (key === 'extra') {
      if (v !== DELETE) Object.assign(activity, v);
      continue;
    }
    if (v === DELETE) delete activity[key];
    else activity[key] = v;
  }
  if (r.wire === 'top-level-value') return { body: JSON.stringify(r.topLevel) ?? 'undefined', contentType: 'application/json' };
  const json = JSON.stringify(activity);
  if (r.wire === 'truncated') return { body: json.slice(0, Math.max(1, json.length - 3)), contentType: 'application/json' };
  return { body: json, contentType: r.wire === 'text/plain' ? 'text/plain' : 'application/json' };
}

// ------------------------------------------------------------------------------------ test

describe(`activity fuzz through POST /api/messages (${target.name})`, () => {
  let t: TestDatabase;
  let app: RunningApp;
  let receiver: ConnectorReceiver;
  const log = captureLogger('info');
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

  beforeAll(async () => {
    t = await target.create();
    await t.db.close();
    receiver = new ConnectorReceiver();
    await receiver.start();
    app = await startTestApp(envFor(t.config), {}, { logger: log.logger });
  });

  afterAll(async () => {
    agent.destroy();
    await app?.close();
    await receiver?.stop();
    await t?.dispose();
  });

  const send = (body: string, contentType: string) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = http.request(`${app.url}/api/messages`, { method: 'POST', agent, headers: { 'content-type': contentType } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      });
      req.on('error', reject);
      req.end(body);
    });

  it(`${RUNS} seeded activities: documented statuses only, no stack traces, no TypeError logged, same process`, { timeout: 240_000 }, async () => {
    const samples = fc.sample(request, { seed: SEED, numRuns: RUNS });
    const statuses = new Map<number, number>();
    const failures: string[] = [];
    let next = 0;
    const worker = async () => {
      while (next < samples.length) {
        const i = next++;
        const { body, contentType } = build(samples[i]!, receiver.serviceUrl);
        const res = await send(body, contentType);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (!DOCUMENTED.has(res.status) || LEAK.test(res.text) || /something went wrong/i.test(res.text)) {
          if (failures.length < 5) failures.push(`#${i} (seed ${SEED}) → ${res.status} ${res.text.slice(0, 300)}\n  body: ${body.slice(0, 600)}`);
          else failures.push(`#${i}`);
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));

    const typeErrors = log.lines.filter((l) => /TypeError/.test(JSON.stringify(l)));
    const errors = log.lines.filter((l) => l.level >= 50);
    console.info(`fuzz: ${RUNS} activities, statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}, warnings ${log.lines.filter((l) => l.level === 40).length}`);
    const logged = errors.slice(0, 3).map((l) => JSON.stringify(l).slice(0, 800));
    expect(failures, [...failures.slice(0, 5), ...logged].join('\n')).toEqual([]);
    expect(typeErrors.slice(0, 3)).toEqual([]);
    expect(errors.slice(0, 3)).toEqual([]);
    // Most activities were well-formed enough to run a turn, so the deep paths were exercised.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(RUNS * 0.2);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(RUNS * 0.2);
    const health = await fetch(`${app.url}/healthz`);
    expect(health.status).toBe(200);
  });
});
