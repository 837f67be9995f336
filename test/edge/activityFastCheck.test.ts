import { describe, expect, it } from 'vitest';
import { passesActivityFastCheck } from '../../src/bot/http/activityFastCheck.js';
import { inboundActivitySchema, parseActivity } from '../../src/bot/http/activitySchema.js';
import { HttpError } from '../../src/bot/http/httpErrors.js';

const MAX_TEXT = 16_000;
const serviceUrlOk = (u: string) => inboundActivitySchema.shape.serviceUrl.safeParse(u).success;
const fast = (a: unknown) => passesActivityFastCheck(a, serviceUrlOk, MAX_TEXT);
const schemaAccepts = (a: unknown) => inboundActivitySchema.safeParse(a).success;

const teamsMessage = () => ({
  type: 'message',
  id: '1699999999999',
  timestamp: '2026-12-07T04:00:00.000Z',
  localTimestamp: '2026-12-07T05:00:00.000+01:00',
  serviceUrl: 'https://smba.trafficmanager.net/emea/',
  channelId: 'msteams',
  from: { id: '29:1abc', name: 'Dana Buyer', aadObjectId: '00000000-0000-0000-0000-000000000001' },
  conversation: { conversationType: 'personal', tenantId: 'tenant-1', id: 'a:1xyz' },
  recipient: { id: '28:bot', name: 'RPA Assistant' },
  textFormat: 'plain',
  locale: 'en-US',
  text: 'order 40 SKU-1001 from Globex',
  entities: [{ locale: 'en-US', type: 'clientInfo', country: 'GB' }],
  attachments: [{ contentType: 'text/html', content: '<p>order</p>' }],
  channelData: { tenant: { id: 'tenant-1' }, source: { name: 'message' } },
  value: { verb: 'confirm', nonce: 'n1' },
});

/** Bad and edge values for fields the schema has rules for (and some it has none for). */
const BAD: Array<[string, unknown[]]> = [
  ['type', [undefined, null, '', 'x'.repeat(65), 'mes\u0000sage', 'a\uD800', 7, {}]],
  ['id', [null, '', 'x'.repeat(513), 'a\nb', 1]],
  ['channelId', [undefined, '', 'x'.repeat(129), '\u007f', []]],
  ['serviceUrl', [undefined, '', 'not a url', 'ftp://x.example', 'http:example.com', 'https://a\u0001b', `https://x.example/${'p'.repeat(2048)}`, 3]],
  ['conversation', [undefined, null, 'c', [], { id: '' }, { id: 'c', isGroup: 'yes' }, { id: 'c', name: 'n'.repeat(513) }, { id: 'c', tenantId: '' }, { id: 'c', conversationType: 7 }]],
  ['from', [undefined, null, {}, { id: '' }, { id: 'u', name: 5 }, { id: 'u', aadObjectId: '' }, { id: 'u', role: 'r'.repeat(65) }, ['u']]],
  ['recipient', [null, {}, { id: 'b\u0000' }]],
  ['replyToId', [null, '', 'r'.repeat(513)]],
  ['text', [null, 5, 't'.repeat(MAX_TEXT + 1), 't'.repeat(MAX_TEXT)]],
  ['textFormat', [null, 'f'.repeat(33)]],
  ['name', [null, 'n'.repeat(257)]],
  ['action', [null, 'a'.repeat(65)]],
  ['deliveryMode', [null, 'd'.repeat(65), 'expectReplies']],
  ['timestamp', [null, 1, 't'.repeat(65)]],
  ['localTimestamp', [null, 't'.repeat(65)]],
  ['locale', [null, 'l'.repeat(65)]],
  ['attachments', [null, {}, [null], [{}], [{ contentType: '' }], [{ contentType: 'x', contentUrl: 1 }], [{ contentType: 'x', name: 'n'.repeat(1025) }], [{ contentType: 'x', thumbnailUrl: null }], Array(65).fill({ contentType: 'x' })]],
  ['entities', [null, [{}], [{ type: '' }], [{ type: 't'.repeat(129) }], [7], Array(65).fill({ type: 'x' })]],
  ['membersAdded', [null, [{}], [{ id: '' }], Array(257).fill({ id: 'u' }), [{ id: 'u', name: null }]]],
  ['membersRemoved', [null, [{ id: 7 }]]],
  ['channelData', [null, 'x', [], { tenant: null }, { tenant: { id: '' } }, { tenant: 'x' }, { tenant: { id: 'x'.repeat(129) } }]],
  ['value', [null, 0, 'x', [], { a: { b: 1 } }]],
];

describe('activity fast check (the schema decides whatever it does not accept)', () => {
  it('takes the usual Teams and bench activities, with the same result as the schema path', () => {
    const bench = { type: 'message', id: 'b1', channelId: 'bench', serviceUrl: 'http://127.0.0.1:39000', conversation: { id: 'c1' }, from: { id: 'u1', name: 'U' }, recipient: { id: 'bot', name: 'RPA Assistant' }, text: 'hi', timestamp: '2026-12-07T04:00:00.000Z' };
    for (const a of [teamsMessage(), bench]) {
      expect(fast(a)).toBe(true);
      const parsed = inboundActivitySchema.parse(a);
      expect(parseActivity(a)).toEqual(parseActivity(parsed));
      expect(parseActivity(a)).toEqual(a);
    }
  });

  it.each(BAD)('never accepts a %s the schema refuses', (field, values) => {
    for (const value of values) {
      const a: Record<string, unknown> = teamsMessage();
      if (value === undefined) delete a[field];
      else a[field] = value;
      if (fast(a)) expect({ field, value, schema: schemaAccepts(a) }).toEqual({ field, value, schema: true });
      if (!schemaAccepts(a)) expect(() => parseActivity(a)).toThrow(HttpError);
    }
  });

  it('agrees with the schema on random activities (fast ⇒ schema)', () => {
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    let fastTaken = 0;
    for (let i = 0; i < 3000; i++) {
      const a: Record<string, unknown> = teamsMessage();
      for (let k = 0; k < 1 + Math.floor(rnd() * 3); k++) {
        const [field, values] = BAD[Math.floor(rnd() * BAD.length)]!;
        const value = values[Math.floor(rnd() * values.length)];
        if (value === undefined) delete a[field];
        else a[field] = value;
      }
      if (fast(a)) {
        fastTaken += 1;
        expect(schemaAccepts(a)).toBe(true);
      }
    }
    expect(fastTaken).toBeGreaterThan(0);
  });

  it('leaves null, class instances and non-objects to the schema', () => {
    expect(fast(null)).toBe(false);
    expect(fast([teamsMessage()])).toBe(false);
    expect(fast(Object.assign(new (class Activityish {})(), teamsMessage()))).toBe(false);
    expect(fast({ ...teamsMessage(), serviceUrl: 'https://smba.trafficmanager.net/emea/' })).toBe(true);
  });
});
