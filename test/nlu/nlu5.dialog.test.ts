/**
 * Issue 14, fifth round, through the whole bot with the shipped NLU (docs/notes/nlu5.md): a rejection
 * typed while another dialog is waiting for an answer is heard. The rejection rule decides the intent
 * (the model reads "reject PO-…" as a cancel, its probability of the decision intent is ~0.01); the
 * dialog switches only to an intent of confidence ≥ 0.5, so the rule's confidence is what counts.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { allText, ChatUser } from '../helpers/chatUser.js';
import { databaseTargets } from '../helpers/databases.js';
import { MODEL_DIR, orderAwaitingApproval, useSkillApp } from '../helpers/procurementFixture.js';

const targets = await databaseTargets();
const present = existsSync(`${MODEL_DIR}/model.onnx`);

describe.each(targets)('a rule-decided intent in the middle of a dialog on $name', (target) => {
  const skip = target.skip || !present;
  const fixture = useSkillApp(target);

  it.skipIf(skip)('"decline PO-…" while the bot asks how many → the reject confirmation, not an answer to the question', async () => {
    const url = () => fixture.app.url;
    const alice = new ChatUser(url, fixture.receiver, 'alice', 'Alice');
    // carol buys and approves: she starts an order of her own, then declines alice's
    const carol = new ChatUser(url, fixture.receiver, 'carol', 'Carol');
    const po = await orderAwaitingApproval(alice);

    const asked = allText(await carol.say('order gloves from Acme Corp'));
    expect(asked).toMatch(/how many/i);
    const replies = await carol.say(`decline ${po}, too expensive`);
    const text = allText(replies);
    expect(text).toMatch(new RegExp(`Reject ${po}\\?`));
    expect(replies.flatMap((r) => r.buttons.map((b) => b.title))).toContain('Confirm');
  });
});
