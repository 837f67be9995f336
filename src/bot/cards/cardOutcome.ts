import { ActivityTypes, CardFactory, type TurnContext } from 'botbuilder';
import type { CardSpec } from '../../skills/types.js';
import { currentTrace } from '../../tracing/turnTrace.js';
import { adaptiveCard, supportsCards } from './adaptiveCard.js';

/**
 * After a card button is answered, the card itself is replaced by what came of it ("Confirmed by
 * Alice", "Approved by Bob", "Cancelled by …") without its buttons, so nobody clicks twice and
 * everyone reading the conversation sees the decision where the question was. The replacement
 * is `context.updateActivity` on the card's activity id: in Teams and Web Chat a PUT
 * `{serviceUrl}/v3/conversations/{id}/activities/{activityId}`.
 *
 * Native Slack settles the clicked message itself (slack/SlackAdapter.ts, chat.update), and
 * text-only channels never showed a card: neither is updated here.
 */

/** What came of the card. */
export type CardOutcome =
  /** A button was answered: `confirm`, `cancel`, `edit`, or `do` with the action it ran. */
  | { kind: 'decided'; verb: string; action?: string }
  /** The button's action was refused (e.g. already decided by someone else); `text` says why. */
  | { kind: 'refused'; text: string }
  /** A newer card (or a correction) replaced this one. */
  | { kind: 'stale' }
  /** The conversation moved on: the card's request is no longer pending. */
  | { kind: 'expired' };

/** Which card to replace. */
export interface CardToSettle {
  /** The card's activity id as the channel returned it when it was sent; else the click's `replyToId`. */
  id?: string;
  /** What the card showed (kept in the replacement, without buttons). */
  card?: CardSpec;
}

/** Channels whose cards the bot updates here (see above). */
export function updatesCards(channelId: string | undefined, serviceUrl?: string): boolean {
  return (channelId ?? '').toLowerCase() !== 'slack' && supportsCards(channelId, serviceUrl);
}

const PAST_TENSE: Record<string, string> = {
  approve: 'Approved',
  reject: 'Rejected',
  cancel: 'Cancelled',
  confirm: 'Confirmed',
  place: 'Placed',
  file: 'Filed',
  submit: 'Submitted',
};

/** The one line that says what happened ("✅ Approved by Bob"). */
export function outcomeLine(outcome: CardOutcome, who: string): string {
  switch (outcome.kind) {
    case 'refused':
      return `⚠️ Not done (${who}): ${outcome.text}`;
    case 'stale':
      return 'This card is out of date: nothing was done with it.';
    case 'expired':
      return 'This request has expired: nothing was done.';
    case 'decided': {
      if (outcome.verb === 'edit') return `✏️ ${who} chose to edit this request: nothing was done with this version.`;
      if (outcome.verb === 'cancel') return `✖️ Cancelled by ${who}`;
      // `do` buttons run an action directly: its name says what it did (procurement.approve_order → Approved).
      const verb = outcome.verb === 'do' ? (outcome.action?.split('.').pop()?.split('_')[0] ?? '') : outcome.verb;
      const done = PAST_TENSE[verb.toLowerCase()];
      const mark = verb.toLowerCase() === 'reject' ? '❌' : '✅';
      return done ? `${mark} ${done} by ${who}` : `✅ Done by ${who}`;
    }
  }
}

/** The replacement card: the original content (if known) without buttons, under the outcome line. */
export function settledCard(outcome: string, original?: CardSpec): Record<string, unknown> {
  const status = { type: 'TextBlock', text: outcome, wrap: true, weight: 'Bolder' };
  if (!original) {
    return { type: 'AdaptiveCard', $schema: 'http://adaptivecards.io/schemas/adaptive-card.json', version: '1.5', body: [status] };
  }
  const card = adaptiveCard({ ...original, actions: undefined });
  const body = card.body as Record<string, unknown>[];
  body.push({ ...status, separator: true, spacing: 'Medium' });
  return card;
}

/**
 * Replaces the card the current turn answered. Never fails the turn: the decision already stands
 * and was said in the conversation; a failed update is recorded on the turn's trace.
 */
export async function settleCard(context: TurnContext, target: CardToSettle, outcome: CardOutcome): Promise<void> {
  const activity = context.activity;
  // A click's replyToId is the clicked card; a typed answer's may be a thread root, never used.
  const isClick = typeof activity.value === 'object' && activity.value !== null;
  const id = target.id || (isClick ? activity.replyToId : undefined);
  if (!id || !updatesCards(activity.channelId, activity.serviceUrl)) return;
  const who = activity.from?.name?.trim() || activity.from?.id || 'someone';
  try {
    await context.updateActivity({
      type: ActivityTypes.Message,
      id,
      attachments: [CardFactory.adaptiveCard(settledCard(outcomeLine(outcome, who), target.card))],
    });
    currentTrace()?.setAttribute('card_settled', outcome.kind);
  } catch (err) {
    currentTrace()?.setAttribute('card_update_error', err instanceof Error ? err.message.slice(0, 200) : String(err).slice(0, 200));
  }
}
