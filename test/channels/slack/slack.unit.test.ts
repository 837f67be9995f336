/**
 * Native Slack, the pure parts: request signatures, conversation ids and text, Block Kit rendering.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CardFactory } from 'botbuilder';
import { SlackSignatureVerifier } from '../../../src/bot/slack/signature.js';
import { parseSlackConversationId, slackConversationId, slackTextToPlain } from '../../../src/bot/slack/conversation.js';
import { adaptiveCardToBlocks, decodeButton, renderForSlack, settledBlocks, toMrkdwn } from '../../../src/bot/slack/blockKit.js';
import { adaptiveCard, confirmationActions, replyActivity, supportsCards } from '../../../src/bot/cards/adaptiveCard.js';
import { ConfigError, loadConfig } from '../../../src/config/config.js';
import { SLACK_EVENTS_PATH, SLACK_INTERACTIVITY_PATH } from '../../../src/bot/slack/channel.js';
import { slackSignature } from '../../helpers/fakeSlackApi.js';

// Slack's worked example (docs: "Verifying requests from Slack").
const DOC_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const DOC_TS = '1531420618';
const DOC_BODY =
  'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
const DOC_SIG = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';

describe('SlackSignatureVerifier', () => {
  const at = (seconds: number) => () => seconds * 1000;
  const docVerifier = new SlackSignatureVerifier(DOC_SECRET, { now: at(Number(DOC_TS) + 10) });
  const body = Buffer.from(DOC_BODY);

  it("accepts Slack's documented example and signs it identically", () => {
    expect(docVerifier.sign(DOC_TS, DOC_BODY)).toBe(DOC_SIG);
    expect(docVerifier.verify(body, { timestamp: DOC_TS, signature: DOC_SIG })).toEqual({ ok: true });
  });

  it('refuses a tampered body, another secret, and a garbled, short, long or upper-case signature', () => {
    const tampered = Buffer.from(DOC_BODY.replace('roadrunner', 'coyote'));
    expect(docVerifier.verify(tampered, { timestamp: DOC_TS, signature: DOC_SIG })).toEqual({ ok: false, reason: 'bad_signature' });
    const other = new SlackSignatureVerifier('another-secret-123', { now: at(Number(DOC_TS)) });
    expect(other.verify(body, { timestamp: DOC_TS, signature: DOC_SIG }).ok).toBe(false);
    for (const signature of ['v0=abc', 'garbage', '', `${DOC_SIG}00`, DOC_SIG.toUpperCase(), DOC_SIG.replace('v0=', 'v1='), `${DOC_SIG.slice(0, -1)}4`]) {
      expect(docVerifier.verify(body, { timestamp: DOC_TS, signature }), signature).toEqual({ ok: false, reason: 'bad_signature' });
    }
  });

  it('refuses timestamps more than 300 s away, in the past or the future, and malformed ones', () => {
    const ts = Number(DOC_TS);
    for (const skew of [301, -301, 3600, -86_400]) {
      const verifier = new SlackSignatureVerifier(DOC_SECRET, { now: at(ts + skew) });
      expect(verifier.verify(body, { timestamp: DOC_TS, signature: DOC_SIG }), `skew ${skew}`).toEqual({ ok: false, reason: 'stale_timestamp' });
    }
    for (const skew of [300, -300, 0]) {
      const verifier = new SlackSignatureVerifier(DOC_SECRET, { now: at(ts + skew) });
      expect(verifier.verify(body, { timestamp: DOC_TS, signature: DOC_SIG }).ok, `skew ${skew}`).toBe(true);
    }
    for (const timestamp of ['', '1531420618.5', '-1531420618', 'abc', '1e9']) {
      expect(docVerifier.verify(body, { timestamp, signature: DOC_SIG })).toEqual({ ok: false, reason: 'bad_timestamp' });
    }
    expect(docVerifier.verify(body, { signature: DOC_SIG })).toEqual({ ok: false, reason: 'missing_headers' });
    expect(docVerifier.verify(body, { timestamp: DOC_TS })).toEqual({ ok: false, reason: 'missing_headers' });
    expect(docVerifier.verify(body, { timestamp: [DOC_TS, DOC_TS], signature: DOC_SIG })).toEqual({ ok: false, reason: 'missing_headers' });
  });

  it('signs the raw bytes (the test helper, written independently, agrees)', () => {
    const raw = '{"text":"naïve café — ✓"}';
    const now = Math.floor(Date.now() / 1000);
    const verifier = new SlackSignatureVerifier('s3cret-signing');
    expect(verifier.sign(now, Buffer.from(raw, 'utf8'))).toBe(slackSignature('s3cret-signing', now, raw));
    expect(verifier.verify(Buffer.from(raw), { timestamp: String(now), signature: slackSignature('s3cret-signing', now, raw) }).ok).toBe(true);
  });
});

describe('Slack configuration', () => {
  it('is off unless both the signing secret and the bot token are set, naming the missing one', () => {
    expect(loadConfig({}).slack).toBeUndefined();
    expect(() => loadConfig({ SLACK_SIGNING_SECRET: 'abcdefgh12345678' })).toThrow(/SLACK_BOT_TOKEN: required when SLACK_SIGNING_SECRET is set/);
    expect(() => loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1-2-3' })).toThrow(/SLACK_SIGNING_SECRET: required when SLACK_BOT_TOKEN is set/);
    expect(() => loadConfig({ SLACK_BOT_TOKEN: 'xoxp-user-token', SLACK_SIGNING_SECRET: 'abcdefgh12345678' })).toThrow(ConfigError);
    expect(() => loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 'abcdefgh', SLACK_BOT_USER_ID: 'bot' })).toThrow(/SLACK_BOT_USER_ID/);
    const config = loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1-2-3', SLACK_SIGNING_SECRET: 'abcdefgh12345678', SLACK_API_URL: 'http://127.0.0.1:9/api' });
    expect(config.slack).toEqual({ signingSecret: 'abcdefgh12345678', botToken: 'xoxb-1-2-3', apiUrl: 'http://127.0.0.1:9/api/', botUserId: undefined });
  });
});

describe('Slack conversations and text', () => {
  it('maps channel (+ thread) to a conversation id and back', () => {
    expect(slackConversationId('D012AB')).toBe('D012AB');
    expect(slackConversationId('C012AB', '1700000000.000100')).toBe('C012AB:1700000000.000100');
    expect(parseSlackConversationId('C012AB:1700000000.000100')).toEqual({ channel: 'C012AB', threadTs: '1700000000.000100' });
    expect(parseSlackConversationId('D012AB')).toEqual({ channel: 'D012AB' });
    for (const bad of ['', 'conv-1', 'C012AB:x', 'C1:1.1:2', 'webchat:alice', undefined]) expect(() => parseSlackConversationId(bad)).toThrow();
  });

  it("strips our mention, keeps others readable and decodes Slack's escapes", () => {
    expect(slackTextToPlain('<@U0BOT> order 20 units of SKU-1001 from Acme Corp', 'U0BOT')).toBe('order 20 units of SKU-1001 from Acme Corp');
    expect(slackTextToPlain('hey <@U0BOT|rpa>   hi', 'U0BOT')).toBe('hey hi');
    expect(slackTextToPlain('ask <@U0ALICE> in <#C0ABC|procurement>', 'U0BOT')).toBe('ask @U0ALICE in #procurement');
    expect(slackTextToPlain('see <https://example.com/a?b=1&amp;c=2|the doc> &amp; &lt;this&gt;', 'U0BOT')).toBe('see the doc & <this>');
    expect(slackTextToPlain('<@U0BOT>', 'U0BOT')).toBe('');
    expect(slackTextToPlain('thanks <@U0BOT>, help', 'U0BOT')).toBe('thanks, help');
  });
});

describe('Block Kit rendering', () => {
  const card = adaptiveCard({
    title: 'Create this purchase order?',
    subtitle: 'Acme Corp · USD',
    facts: [
      { title: 'Supplier', value: 'Acme Corp' },
      { title: 'Total', value: '$90.00' },
    ],
    table: { columns: ['SKU', 'item', 'qty'], rows: [['SKU-1001', 'steel bearings 6204', '20 pieces']] },
    notes: ['Prices from the master data <as of today> & rounded'],
    actions: confirmationActions('nonce-1', 'ref-1'),
  });

  it('renders an Adaptive Card: TextBlocks as mrkdwn sections, FactSets as fields, Action.Submit as buttons carrying the data', () => {
    const { blocks, text, dropped } = adaptiveCardToBlocks(card);
    expect(dropped).toEqual([]);
    expect(blocks).toEqual([
      { type: 'section', text: { type: 'mrkdwn', text: '*Create this purchase order?*' } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: 'Acme Corp · USD' }] },
      { type: 'section', fields: [{ type: 'mrkdwn', text: '*Supplier*\nAcme Corp' }, { type: 'mrkdwn', text: '*Total*\n$90.00' }] },
      { type: 'context', elements: [{ type: 'mrkdwn', text: 'SKU · item · qty' }] },
      { type: 'section', fields: [{ type: 'mrkdwn', text: '*SKU-1001*\nsteel bearings 6204 · 20 pieces' }] },
      { type: 'context', elements: [{ type: 'mrkdwn', text: 'Prices from the master data &lt;as of today&gt; &amp; rounded' }] },
      {
        type: 'actions',
        elements: [
          { type: 'button', action_id: 'submit:0', text: { type: 'plain_text', text: 'Confirm' }, value: '{"verb":"confirm","nonce":"nonce-1","ref":"ref-1"}', style: 'primary' },
          { type: 'button', action_id: 'submit:1', text: { type: 'plain_text', text: 'Edit' }, value: '{"verb":"edit","nonce":"nonce-1","ref":"ref-1"}' },
          { type: 'button', action_id: 'submit:2', text: { type: 'plain_text', text: 'Cancel' }, value: '{"verb":"cancel","nonce":"nonce-1","ref":"ref-1"}', style: 'danger' },
        ],
      },
    ]);
    expect(text).toContain('Supplier: Acme Corp');
  });

  it('puts the activity text first, keeps a plain-text fallback, and turns quick replies into buttons', () => {
    const message = renderForSlack({ type: 'message', text: 'Please confirm:', attachments: [CardFactory.adaptiveCard(card)] });
    expect(message.text).toBe('Please confirm:');
    expect(message.blocks?.[0]).toEqual({ type: 'section', text: { type: 'mrkdwn', text: 'Please confirm:' } });
    const plain = renderForSlack({ type: 'message', text: 'Total **$90** for <Acme> & co' });
    expect(plain).toEqual({ text: 'Total *$90* for &lt;Acme&gt; &amp; co', dropped: [] });
    const choices = renderForSlack({
      type: 'message',
      text: 'Which supplier?',
      suggestedActions: { to: [], actions: [{ type: 'imBack', title: 'Acme Corp', value: 'Acme Corp' }, { type: 'imBack', title: 'Globex', value: 'Globex' }] },
    });
    expect(choices.blocks?.at(-1)).toEqual({
      type: 'actions',
      elements: [
        { type: 'button', action_id: 'imback:0', text: { type: 'plain_text', text: 'Acme Corp' }, value: 'Acme Corp' },
        { type: 'button', action_id: 'imback:1', text: { type: 'plain_text', text: 'Globex' }, value: 'Globex' },
      ],
    });
  });

  it("keeps within Slack's limits: 50 blocks, 10 fields a section, 75-char button titles, 2000-char values", () => {
    const big = {
      type: 'AdaptiveCard',
      body: [
        ...Array.from({ length: 60 }, (_, i) => ({ type: 'TextBlock', text: `line ${i}` })),
        { type: 'FactSet', facts: Array.from({ length: 23 }, (_, i) => ({ title: `t${i}`, value: 'x'.repeat(3000) })) },
      ],
      actions: [
        { type: 'Action.Submit', title: 'T'.repeat(100), data: { verb: 'ok' } },
        { type: 'Action.Submit', title: 'huge', data: { verb: 'x', blob: 'y'.repeat(2100) } },
        { type: 'Action.OpenUrl', title: 'Open', url: 'https://example.com' },
      ],
    };
    const { blocks, dropped } = adaptiveCardToBlocks(big);
    expect(blocks.length).toBe(50);
    const actions = blocks.at(-1) as { type: string; elements: { text: { text: string }; value?: string; url?: string }[] };
    expect(actions.type).toBe('actions');
    expect(actions.elements.map((e) => e.text.text.length)).toEqual([75, 4]);
    expect(actions.elements[1]?.url).toBe('https://example.com');
    expect(dropped.some((d) => d.includes('huge'))).toBe(true);
    const facts = adaptiveCardToBlocks({ body: [big.body.at(-1)] }).blocks as { fields: { text: string }[] }[];
    expect(facts.map((b) => b.fields.length)).toEqual([10, 10, 3]);
    expect(Math.max(...facts.flatMap((b) => b.fields.map((f) => f.text.length)))).toBe(2000);
  });

  it('decodes clicked buttons and settles the clicked message', () => {
    expect(decodeButton('submit:0', '{"verb":"confirm","nonce":"n"}')).toEqual({ kind: 'submit', data: { verb: 'confirm', nonce: 'n' } });
    expect(decodeButton('imback:1', 'Globex')).toEqual({ kind: 'imBack', text: 'Globex' });
    expect(decodeButton('url:0', undefined)).toEqual({ kind: 'url' });
    expect(decodeButton('submit:0', 'not json')).toBeUndefined();
    expect(decodeButton('other', 'x')).toBeUndefined();
    const { blocks } = adaptiveCardToBlocks(card);
    const settled = settledBlocks(blocks, { userId: 'U0ALICE', title: 'Confirm' }, 'On it: job 7 is placing the order');
    expect(settled.some((b) => b.type === 'actions')).toBe(false);
    expect(settled.slice(-2)).toEqual([
      { type: 'context', elements: [{ type: 'mrkdwn', text: '<@U0ALICE> chose *Confirm*' }] },
      { type: 'section', text: { type: 'mrkdwn', text: 'On it: job 7 is placing the order' } },
    ]);
    expect(toMrkdwn('see [the PO](https://x.test/po?a=1&b=2)')).toBe('see <https://x.test/po?a=1&b=2|the PO>');
  });

  it('sends cards to native Slack but text to Slack through Azure Bot Service', () => {
    expect(supportsCards('slack', 'https://slack.com/api/')).toBe(true);
    expect(supportsCards('slack', 'https://slack.botframework.com/')).toBe(false);
    expect(supportsCards('slack')).toBe(false);
    expect(supportsCards('msteams')).toBe(true);
    const reply = { text: 'full text', cardText: 'short', card: { title: 'T', actions: confirmationActions('n', 'r') } };
    expect(replyActivity(reply, 'slack', 'https://slack.com/api/').attachments).toHaveLength(1);
    expect(replyActivity(reply, 'slack', 'https://slack.botframework.com/')).toMatchObject({ text: 'full text' });
    expect(replyActivity(reply, 'slack', 'https://slack.botframework.com/').attachments).toBeUndefined();
  });
});

describe('Slack app manifest (slack/manifest.yml)', () => {
  const manifest = readFileSync(new URL('../../../slack/manifest.yml', import.meta.url), 'utf8');

  it('asks for the scopes the channel uses, and no more', () => {
    const scopes = [...manifest.matchAll(/^\s+- ([a-z_]+:[a-z.]+)\b/gm)].map((m) => m[1]);
    expect(scopes.sort()).toEqual(['app_mentions:read', 'chat:write', 'files:read', 'files:write', 'im:history', 'im:read', 'im:write']);
  });

  it('subscribes to the handled events and points at our endpoints', () => {
    const events = /bot_events:\n((?:\s+- \S+\n)+)/.exec(manifest)?.[1];
    expect(events?.split('\n').map((l) => l.replace(/^\s+- /, '').trim()).filter(Boolean)).toEqual(['app_mention', 'message.im']);
    expect(manifest).toContain(`request_url: https://YOUR-HOST${SLACK_EVENTS_PATH}\n`);
    expect(manifest).toContain(`request_url: https://YOUR-HOST${SLACK_INTERACTIVITY_PATH}\n`);
    expect(manifest).toMatch(/interactivity:\n\s+is_enabled: true/);
    expect(manifest).toMatch(/messages_tab_enabled: true/);
  });
});
