import { ActivityTypes, CardFactory, type Activity } from 'botbuilder';
import type { CardAction, CardSpec, SkillReply } from '../../skills/types.js';

/** Channels that get plain text instead of Adaptive Cards (they don't render them). */
const TEXT_ONLY_CHANNELS = new Set(['sms', 'email', 'slack', 'telegram', 'kik', 'groupme', 'twilio-sms']);

/**
 * Slack through Azure Bot Service (serviceUrl on botframework.com) shows cards as images, so it
 * gets text; the native Slack channel (src/bot/slack, serviceUrl = the Slack Web API) renders
 * them as Block Kit with working buttons.
 */
export function supportsCards(channelId: string | undefined, serviceUrl?: string): boolean {
  const channel = (channelId ?? '').toLowerCase();
  if (channel === 'slack') return serviceUrl !== undefined && !isBotFrameworkUrl(serviceUrl);
  return !TEXT_ONLY_CHANNELS.has(channel);
}

function isBotFrameworkUrl(url: string): boolean {
  try {
    const host = new URL(url).hostname.toLowerCase();
    return host === 'botframework.com' || host.endsWith('.botframework.com');
  } catch {
    return true;
  }
}

const text = (value: string, extra: Record<string, unknown> = {}) => ({ type: 'TextBlock', text: value, wrap: true, ...extra });

/**
 * A neutral `CardSpec` as an Adaptive Card 1.5. Tables become a header line plus a FactSet (first
 * column → the rest joined with " · "): it lines up in Teams and in the terminal chat, which
 * prints FactSets but not 1.5 `Table`s. Buttons are `Action.Submit` carrying `{verb, nonce, …}`.
 */
export function adaptiveCard(card: CardSpec): Record<string, unknown> {
  const body: Record<string, unknown>[] = [text(card.title, { weight: 'Bolder', size: 'Medium' })];
  if (card.subtitle) body.push(text(card.subtitle, { isSubtle: true, spacing: 'None' }));
  if (card.facts?.length) body.push({ type: 'FactSet', facts: card.facts.map((f) => ({ title: f.title, value: f.value })) });
  if (card.table && card.table.rows.length > 0) {
    body.push(text(card.table.columns.join(' · '), { isSubtle: true, size: 'Small', spacing: 'Medium' }));
    body.push({
      type: 'FactSet',
      spacing: 'Small',
      facts: card.table.rows.map((row) => ({ title: row[0] ?? '', value: row.slice(1).join(' · ') })),
    });
  }
  for (const note of card.notes ?? []) body.push(text(note, { isSubtle: true, size: 'Small' }));
  const out: Record<string, unknown> = {
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: '1.5',
    body,
  };
  if (card.actions?.length) out.actions = card.actions.map(submitAction);
  return out;
}

function submitAction(action: CardAction): Record<string, unknown> {
  const out: Record<string, unknown> = { type: 'Action.Submit', title: action.title, data: action.data };
  if (action.style && action.style !== 'default') out.style = action.style;
  return out;
}

/** A skill reply as a message activity for `channelId` (card + short text, or the full text). */
export function replyActivity(reply: SkillReply, channelId: string | undefined, serviceUrl?: string): Partial<Activity> {
  const cards = supportsCards(channelId, serviceUrl) && reply.card !== undefined;
  const activity: Partial<Activity> = { type: ActivityTypes.Message, text: cards ? (reply.cardText ?? reply.text) : reply.text };
  if (cards && reply.card) activity.attachments = [CardFactory.adaptiveCard(adaptiveCard(reply.card))];
  if (reply.choices?.length) {
    activity.suggestedActions = {
      to: [],
      actions: reply.choices.map((c) => ({ type: 'imBack', title: c, value: c })),
    };
  }
  return activity;
}

/** Confirm / Edit / Cancel for a pending write; each carries the server-issued nonce. */
export function confirmationActions(nonce: string, ref: string): CardAction[] {
  return [
    { title: 'Confirm', style: 'positive', data: { verb: 'confirm', nonce, ref } },
    { title: 'Edit', data: { verb: 'edit', nonce, ref } },
    { title: 'Cancel', style: 'destructive', data: { verb: 'cancel', nonce, ref } },
  ];
}
