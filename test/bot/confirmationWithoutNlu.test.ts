/**
 * A yes / no / cancel answering a pending confirmation card is decided by the dialog from its
 * words alone, so the turn does not ask the recognizer (the model) at all (src/bot/bots/AssistantBot.ts,
 * issue 16: the cost of a turn). Every other message still goes through the recognizer: a "yes"
 * with nothing to confirm, and a correction typed at the confirmation.
 */
import { describe, expect, it } from 'vitest';
import { allText, ChatUser } from '../helpers/chatUser.js';
import { databaseTargets } from '../helpers/databases.js';
import { IntentTableRecognizer } from '../helpers/intentTable.js';
import { rows, TEST_INTENT_PATTERNS, TEST_INTENTS, useSkillApp } from '../helpers/procurementFixture.js';

const targets = await databaseTargets();

describe.each(targets)('confirmation answers without the model ($name)', (target) => {
  const recognizer = new IntentTableRecognizer(TEST_INTENTS, TEST_INTENT_PATTERNS);
  const fixture = useSkillApp(target, {}, { recognizer });
  const user = (id: string) => new ChatUser(() => fixture.app.url, fixture.receiver, id, id);
  const asked = (text: string) => recognizer.seen.filter((t) => t === text).length;

  it.skipIf(target.skip)('"yes" to a confirmation card runs the write without asking the recognizer', async () => {
    const dana = user('dana-yes');
    expect(allText(await dana.say('order 20 units of SKU-1001 from Acme Corp'))).toMatch(/Please confirm/);
    const before = asked('yes');
    expect(allText(await dana.say('yes'))).toMatch(/^On it: job \d+ is placing the order with Acme Corp/);
    expect(asked('yes')).toBe(before);
    const jobs = await rows(fixture.app.db.dataSource, 'SELECT id FROM automation_jobs WHERE conversation_id = $1', [dana.conversationId]);
    expect(jobs).toHaveLength(1);
  });

  it.skipIf(target.skip)('"no" and "cancel" at a confirmation card are not classified either; nothing runs', async () => {
    for (const answer of ['no', 'cancel']) {
      const erin = user(`erin-${answer}`);
      expect(allText(await erin.say('order 20 units of SKU-1001 from Acme Corp'))).toMatch(/Please confirm/);
      const before = asked(answer);
      expect(allText(await erin.say(answer))).toMatch(/cancel|stopped|Nothing was changed|won't/i);
      expect(asked(answer)).toBe(before);
      const jobs = await rows(fixture.app.db.dataSource, 'SELECT id FROM automation_jobs WHERE conversation_id = $1', [erin.conversationId]);
      expect(jobs).toHaveLength(0);
    }
  });

  it.skipIf(target.skip)('a "yes" with nothing to confirm, and a correction at the card, still go to the recognizer', async () => {
    const frank = user('frank-yes');
    const before = asked('yes');
    await frank.say('yes');
    expect(asked('yes')).toBe(before + 1);

    expect(allText(await frank.say('order 20 units of SKU-1001 from Acme Corp'))).toMatch(/Please confirm/);
    const correction = 'make it 30 units';
    const beforeCorrection = asked(correction);
    await frank.say(correction);
    expect(asked(correction)).toBe(beforeCorrection + 1);
  });
});
