/**
 * The cheap paths of a turn's state and reference writes (issue 16, turncost4): `storableJsonString`
 * must give exactly `JSON.stringify(value, storableJson)` — the replacer is only skipped when it
 * would change nothing — and `sqlLiteral` exactly node-postgres' `escapeLiteral`, which the
 * turn lock's scripts (no parameters) used before.
 */
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlLiteral } from '../../src/db/sql.js';
import { cleanText, storableJson, storableJsonString } from '../../src/db/text.js';
import { databaseTargets, type TestDatabase } from '../helpers/databases.js';

const targets = await databaseTargets();

/** Characters that matter here: NUL, both surrogate halves alone and paired, backslash, quotes, and the letters of `\u0000` / `\ud800`. */
const TRICKY = ['\u0000', '\uD800', '\uDBFF', '\uDC00', '\uDFFF', '\uD83D\uDE00', '\\', '"', "'", 'u', 'd', '0', '8', 'a', 'f', 'x', ' ', 'é', '\n'];
const trickyString = fc.array(fc.constantFrom(...TRICKY), { maxLength: 12 }).map((parts) => parts.join(''));
const anyString = fc.oneof(trickyString, fc.string(), fc.string({ unit: 'binary' }));

/** JSON-like values; `omitted` adds what JSON.stringify leaves out of an object (undefined), `keys` picks the keys. */
const values = (keys: fc.Arbitrary<string>, omitted: boolean) =>
  fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      anyString,
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      ...(omitted ? [fc.constant(undefined)] : []),
      fc.date({ noInvalidDate: true }),
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(keys, tie('value'), { maxKeys: 4 }),
    ),
  })).value;
const cleanKey = fc.string().filter((k) => cleanText(k) === k);

describe('storableJsonString', () => {
  it('is JSON.stringify with the storableJson replacer, on values with and without things to clean', () => {
    fc.assert(
      fc.property(fc.dictionary(anyString, values(anyString, false), { maxKeys: 5 }), (doc) => {
        expect(storableJsonString(doc)).toBe(JSON.stringify(doc, storableJson));
      }),
      { numRuns: 3000 },
    );
    // undefined properties (left out by both) next to any string values, under keys that need no cleaning
    fc.assert(
      fc.property(fc.dictionary(cleanKey, values(cleanKey, true), { maxKeys: 5 }), (doc) => {
        expect(storableJsonString(doc)).toBe(JSON.stringify(doc, storableJson));
      }),
      { numRuns: 2000 },
    );
  });

  it('the one difference: a key to clean whose value JSON leaves out is left out, not renamed over another key', () => {
    // The replacer rebuilds an object with a key to clean, so `a\u0000` (undefined) becomes `a` and
    // replaces the real `a`; a plain stringify never sees that key. Stored as jsonb, nothing else differs.
    const doc = { a: 1, 'a\u0000': undefined };
    expect(JSON.stringify(doc, storableJson)).toBe('{}');
    expect(storableJsonString(doc)).toBe('{"a":1}');
  });

  it('cleans NUL and lone surrogates in values and keys, keeps pairs, escaped look-alikes and backslashes', () => {
    const cases: unknown[] = [
      { text: 'a\u0000b' },
      { ['k\u0000ey']: 1 },
      { s: 'x\uD800y' },
      { s: 'x\uDFFFy' },
      { ['\uDC00']: 'v' },
      { list: ['\u0000', ['\uD9AB']] },
      { pair: '\uD83D\uDE00', text: 'plain' },
      { s: 'looks like \\u0000 and \\ud800 but is not' },
      { s: 'C:\\temp\\' },
      { nested: { deeper: { s: 'ok', when: new Date(0) } } },
    ];
    for (const doc of cases) expect(storableJsonString(doc)).toBe(JSON.stringify(doc, storableJson));
    expect(storableJsonString({ s: 'x\uD800y', k: 'a\u0000b' })).toBe('{"s":"x\uFFFDy","k":"ab"}');
  });
});

describe('sqlLiteral', () => {
  it("writes exactly node-postgres' escapeLiteral", () => {
    fc.assert(
      fc.property(fc.oneof(anyString, fc.string({ unit: 'grapheme' })), (s) => {
        expect(sqlLiteral(s)).toBe(pg.Client.prototype.escapeLiteral(s));
      }),
      { numRuns: 3000 },
    );
    for (const s of ['', "'", "''", '\\', "\\'", "it's a \\ test", '{"a":"b\\"c"}']) expect(sqlLiteral(s)).toBe(pg.Client.prototype.escapeLiteral(s));
  });

  describe.each(targets)('$name: the database reads back the very string', (target) => {
    let t: TestDatabase | undefined;
    let client: pg.Client | undefined;
    beforeAll(async () => {
      if (target.skip) return;
      t = await target.create({ migrate: false });
      client = new pg.Client({ connectionString: t.config.mode === 'postgres' ? t.config.url : t.db.url });
      await client.connect();
    });
    afterAll(async () => {
      await client?.end();
      await t?.dispose();
    });

    it.skipIf(target.skip)('strings with quotes, backslashes and JSON in a simple-protocol script', async () => {
      const strings = ["it's", '\\', "\\'", 'E\'x\'', '{"a":"b\\"c","d":"\\\\"}', 'tab\there', '🙂 é', "''\\\\''"];
      const script = strings.map((s) => `SELECT ${sqlLiteral(s)} AS v`).join('; ');
      const results = (await client!.query(script)) as unknown as pg.QueryResult[];
      expect(results.map((r) => r.rows[0].v)).toEqual(strings);
    });
  });
});
