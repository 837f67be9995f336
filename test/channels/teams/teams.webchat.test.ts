/**
 * Card replacement works the same in the local Web Chat as in Teams: after a click on the
 * confirmation card the bot PUTs the outcome card to the channel's connector, and the Direct Line
 * client sees the card change in place (same clientActivityID, same place in the transcript, no buttons). Web
 * Chat's clicks carry no replyToId: the bot uses the id the connector gave the card when it was
 * sent. Runs on both databases through the real Direct Line endpoints and the seeded demo data.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApp } from '../../../src/app.js';
import { renderActivity } from '../../../src/chat/renderActivity.js';
import type { WireActivity } from '../../../src/chat/connectorReceiver.js';
import { databaseTargets, waitFor, type TestDatabase } from '../../helpers/databases.js';
import { rows, startProcurementApp } from '../../helpers/procurementFixture.js';
import { post } from '../../helpers/testApp.js';

const targets = await databaseTargets();

interface DlActivity extends WireActivity {
  id: string;
  channelData?: Record<string, unknown>;
}

/** What Web Chat does when it polls Direct Line: start, send, and read activities after a watermark. */
class DirectLine {
  private watermark = '';
  readonly transcript = new Map<string, DlActivity>();

  private constructor(
    private readonly base: string,
    readonly conversationId: string,
    private readonly token: string,
  ) {}

  static async start(base: string, user: { id: string; name: string }): Promise<DirectLine> {
    const res = await post(`${base}/v3/directline/conversations`, { user });
    expect(res.status).toBe(201);
    const { conversationId, token } = res.json as { conversationId: string; token: string };
    return new DirectLine(base, conversationId, token);
  }

  async send(activity: Record<string, unknown>): Promise<string> {
    const res = await post(`${this.base}/v3/directline/conversations/${encodeURIComponent(this.conversationId)}/activities`, activity, {
      authorization: `Bearer ${this.token}`,
    });
    expect(res.status).toBe(200);
    return (res.json as { id: string }).id;
  }

  /**
   * Polls once; later versions of an activity (updates) replace earlier ones, as Web Chat shows them:
   * keyed by `channelData.clientActivityID`, else `id` (Web Chat's getActivityUniqueId; an update has a new id).
   */
  async poll(): Promise<DlActivity[]> {
    const res = await fetch(`${this.base}/v3/directline/conversations/${encodeURIComponent(this.conversationId)}/activities?watermark=${this.watermark}`, {
      headers: { authorization: `Bearer ${this.token}` },
    });
    expect(res.status).toBe(200);
    const set = (await res.json()) as { activities: DlActivity[]; watermark: string };
    this.watermark = set.watermark;
    for (const a of set.activities) this.transcript.set(String(a.channelData?.clientActivityID ?? a.id), a);
    return set.activities;
  }

  async until(predicate: (transcript: DlActivity[]) => boolean, what: string): Promise<DlActivity[]> {
    await waitFor(async () => {
      await this.poll();
      return predicate([...this.transcript.values()]);
    }, 10_000, what);
    return [...this.transcript.values()];
  }
}

const textOf = (a: WireActivity): string => renderActivity(a).lines.join('\n');
const buttonsOf = (a: WireActivity) => renderActivity(a).choices.filter((c) => c.value !== undefined);

describe.each(targets)('web chat card replacement on $name', (target) => {
  let t: TestDatabase;
  let app: RunningApp;

  beforeAll(async () => {
    if (target.skip) return;
    t = await target.create();
    await t.db.close();
    app = await startProcurementApp(t.config, { WEBCHAT_ENABLED: 'true' });
  });

  afterAll(async () => {
    await app?.close();
    await t?.dispose();
  });

  it.skipIf(target.skip)('Confirm: the card is replaced in place by "Confirmed by …" (PUT to the web chat connector); a second click changes nothing', async () => {
    const dl = await DirectLine.start(app.url, { id: 'wendy', name: 'Wendy' });
    await dl.send({ type: 'message', text: 'order 20 units of SKU-1001 from Acme Corp', channelData: { clientActivityID: 'c1' } });
    const shown = await dl.until((all) => all.some((a) => buttonsOf(a).length > 0), 'the confirmation card');
    const card = shown.find((a) => buttonsOf(a).length > 0)!;
    const sequence = card.channelData?.['webchat:sequence-id'];
    const confirm = buttonsOf(card).find((b) => b.title === 'Confirm')!.value;

    // Web Chat's Action.Submit: a message with the button's data as `value` (no replyToId).
    await dl.send({ type: 'message', value: confirm, channelData: { postBack: true, clientActivityID: 'c2' } });
    const after = await dl.until((all) => all.some((a) => /^On it: job \d+/.test(a.text ?? '')) && buttonsOf(dl.transcript.get(card.id)!).length === 0, 'the outcome and the updated card');
    const updated = dl.transcript.get(card.id)!;
    expect(textOf(updated)).toMatch(/✅ Confirmed by Wendy/);
    expect(textOf(updated)).toMatch(/SKU-1001/);
    expect(updated.channelData?.['webchat:sequence-id']).toBe(sequence); // same place in the transcript
    expect(after.filter((a) => /^On it/.test(a.text ?? ''))).toHaveLength(1);

    // The same data again (a double click): no second job, no new message, the card stays as it is.
    await dl.send({ type: 'message', value: confirm, channelData: { postBack: true, clientActivityID: 'c3' } });
    await new Promise((r) => setTimeout(r, 300));
    const final = await dl.until(() => true, 'a poll');
    expect(final.filter((a) => /^On it/.test(a.text ?? ''))).toHaveLength(1);
    expect(textOf(dl.transcript.get(card.id)!)).toMatch(/✅ Confirmed by Wendy/);
    expect(await rows(app.db.dataSource, 'SELECT 1 FROM automation_jobs WHERE requested_by = $1', ['webchat:wendy'])).toHaveLength(1);
  });

  it.skipIf(target.skip)('a typed "no" also settles the card ("Cancelled by …"), so its buttons cannot be used afterwards', async () => {
    const dl = await DirectLine.start(app.url, { id: 'walt', name: 'Walt' });
    await dl.send({ type: 'message', text: 'order 20 units of SKU-1001 from Acme Corp' });
    const shown = await dl.until((all) => all.some((a) => buttonsOf(a).length > 0), 'the confirmation card');
    const card = shown.find((a) => buttonsOf(a).length > 0)!;
    await dl.send({ type: 'message', text: 'no' });
    await dl.until(() => buttonsOf(dl.transcript.get(card.id)!).length === 0, 'the updated card');
    expect(textOf(dl.transcript.get(card.id)!)).toMatch(/✖️ Cancelled by Walt/);
    expect([...dl.transcript.values()].some((a) => a.text === 'OK, cancelled. Nothing was changed.')).toBe(true);
  });
});
