import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MasterDataStore } from '../../src/skills/data/masterData.js';
import { seedDemoData } from '../../src/skills/data/seed.js';
import { databaseTargets, type TestDatabase } from '../helpers/databases.js';

const targets = await databaseTargets();

describe.each(targets)('master data on $name', (target) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await target.create();
  });
  afterAll(() => t?.dispose());

  it('an unseeded system of record is not cached: a seed takes effect on the next read, no restart', async () => {
    const loads: number[] = [];
    const store = new MasterDataStore(t.db.dataSource, { ttlMs: 60 * 60_000, onLoad: (r) => loads.push(r.products.length) });
    const before = await store.get();
    expect(before.products).toHaveLength(0);
    await seedDemoData(t.db.dataSource);
    const after = await store.get();
    expect(after.products.length).toBeGreaterThan(0);
    // Once there is data it is cached for the TTL (one more load, not one per read).
    await store.get();
    expect(loads).toEqual([0, after.products.length]);
  });
});
