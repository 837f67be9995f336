/**
 * Issue 14, fourth round, through the whole bot with the shipped NLU (docs/notes/nlu4.md): a question
 * about an approval gets the order's status and no approval card; a bare order number is read as the
 * PO; a replacement order is confirmed with the replacement's supplier, never the ruled-out one.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { allText, ChatUser } from '../helpers/chatUser.js';
import { databaseTargets } from '../helpers/databases.js';
import { MODEL_DIR, orderAwaitingApproval, rows, useSkillApp } from '../helpers/procurementFixture.js';

const targets = await databaseTargets();
const present = existsSync(`${MODEL_DIR}/model.onnx`);

describe.each(targets)('questions about writes, bare numbers and replacements on $name', (target) => {
  const skip = target.skip || !present;
  const fixture = useSkillApp(target);

  it.skipIf(skip)('"who needs to approve PO-…?" answers with the status, shows no approval card, decides nothing', async () => {
    const url = () => fixture.app.url;
    const alice = new ChatUser(url, fixture.receiver, 'alice', 'Alice');
    const bob = new ChatUser(url, fixture.receiver, 'bob', 'Bob');
    const po = await orderAwaitingApproval(alice);

    for (const question of [`who needs to approve ${po}?`, `${po} — approved or still pending?`]) {
      const replies = await bob.say(question);
      const text = allText(replies);
      expect(text, question).toContain(po);
      expect(text, question).not.toMatch(new RegExp(`(?:Approve|Reject|Cancel) ${po}\\?`));
      expect(replies.flatMap((r) => r.buttons.map((b) => b.title)), question).not.toContain('Confirm');
    }
    const [o] = await rows<{ status: string }>(fixture.app.db.dataSource, 'SELECT status FROM purchase_orders WHERE number = $1', [po]);
    expect(o?.status).toBe('pending_approval');
  });

  it.skipIf(skip)('"status of order 1001" answers about PO-1001 without asking which order', async () => {
    const carol = new ChatUser(() => fixture.app.url, fixture.receiver, 'carol', 'Carol');
    const text = allText(await carol.say('status of order 1001'));
    expect(text).toContain('PO-1001');
    expect(text).not.toMatch(/Which purchase order/);
  });

  it.skipIf(skip)('a replacement order is confirmed with the replacement supplier, not the ruled-out one', async () => {
    const alice = new ChatUser(() => fixture.app.url, fixture.receiver, 'alice', 'Alice');
    const replies = await alice.say("don't order from Acme this time, get 200 SKU-1003 from Northwind instead");
    const text = allText(replies);
    expect(replies.flatMap((r) => r.buttons.map((b) => b.title))).toContain('Confirm');
    expect(text).toMatch(/Northwind/);
    expect(text).not.toMatch(/Acme/);
    expect(text).toMatch(/200/);
  });
});
