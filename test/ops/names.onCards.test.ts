/**
 * Names, not ids, on cards: the demo declaration CD-3001 says who filed it by the stored display
 * name ("Dana (demo buyer)"), not the raw user id "demo-buyer" — on a fresh seed, and on a
 * database seeded before the name was stored (the seed names it on the next start). Through POST
 * /api/messages on both databases.
 */
import { describe, expect, it } from 'vitest';
import { execute } from '../../src/db/sql.js';
import { seedDemoData } from '../../src/skills/data/seed.js';
import { allText, ChatUser } from '../helpers/chatUser.js';
import { databaseTargets } from '../helpers/databases.js';
import { rows, useSkillApp } from '../helpers/procurementFixture.js';

const targets = await databaseTargets();

describe.each(targets)('names on cards on $name', (target) => {
  const fixture = useSkillApp(target);

  const statusCard = async () => {
    const user = new ChatUser(() => fixture.app.url, fixture.receiver, 'names-buyer', 'Nina Buyer');
    return allText(await user.say('what is the status of CD-3001'));
  };

  it.skipIf(target.skip)('the demo declaration shows who filed it by name', async () => {
    const text = await statusCard();
    expect(text).toMatch(/^CD-3001 for SH-2001/);
    expect(text).toMatch(/Filed by: Dana \(demo buyer\)/);
    expect(text).not.toContain('demo-buyer');
  });

  it.skipIf(target.skip)('a database seeded without the name gets it from the next seed', async () => {
    const ds = fixture.app.db.dataSource;
    await execute(ds, `UPDATE customs_declarations SET filed_by_name = NULL WHERE number = 'CD-3001'`);
    expect(await statusCard()).toMatch(/Filed by: demo-buyer/); // what operators saw before
    await seedDemoData(ds);
    expect(await rows(ds, `SELECT filed_by_name FROM customs_declarations WHERE number = 'CD-3001'`)).toEqual([{ filed_by_name: 'Dana (demo buyer)' }]);
    expect(await statusCard()).toMatch(/Filed by: Dana \(demo buyer\)/);
  });
});
