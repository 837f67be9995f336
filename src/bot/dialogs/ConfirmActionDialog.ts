import { randomUUID } from 'node:crypto';
import { Dialog, DialogTurnStatus, type DialogContext, type DialogInstance, type DialogTurnResult } from 'botbuilder-dialogs';
import type { TurnContext } from 'botbuilder';
import { findOutcome, idempotencyKey } from '../../skills/runtime.js';
import type { ActionDef, CardSpec, Draft, ReadAction, WriteAction } from '../../skills/types.js';
import { confirmationActions } from '../cards/adaptiveCard.js';
import { settleCard, type CardToSettle } from '../cards/cardOutcome.js';
import type { DialogDeps } from './deps.js';
import { deliverOutcome, getTurnInput, isAffirmative, isNegative, sendReply, type TurnInput } from './turnInput.js';

export interface ConfirmOptions {
  action: string;
  slots: unknown;
  draft: Draft;
  /** The activity the request started from (part of the idempotency key). */
  ref: string;
}

export type ConfirmResult =
  /** `card`: the confirmation card, replaced by its outcome once the write ran. */
  | { decision: 'confirm'; nonce: string; ref: string; slots: unknown; card: CardToSettle }
  | { decision: 'cancel' }
  | { decision: 'edit'; draft: Draft }
  | { decision: 'change'; draft: Draft }
  | { decision: 'switch'; switchTo: string };

interface State extends ConfirmOptions {
  nonce: string;
  prompt: string;
  /** The card as shown (without buttons) and its activity id, when the channel returned one. */
  card?: CardSpec;
  cardId?: string;
}

const HINT = 'Say yes to go ahead, no to cancel, or tell me what to change.';

/**
 * Shows what a write will do — an Adaptive Card with Confirm / Edit / Cancel, each carrying a
 * fresh server-issued nonce, and the same question in text for channels without cards — and
 * reads the answer: a click (only the current nonce counts), yes / no, or a correction.
 *
 * Other requests while it waits (the interruption pattern of the Bot Framework samples): a
 * read-only question (status, stock, lists…) is answered and the confirmation stays open, with a
 * reminder; only a new write request replaces it (ActionDialog says so).
 */
export class ConfirmActionDialog extends Dialog<ConfirmOptions> {
  static readonly id = 'action.confirm';

  constructor(private readonly deps: DialogDeps) {
    super(ConfirmActionDialog.id);
  }

  override async beginDialog(dc: DialogContext, options?: ConfirmOptions): Promise<DialogTurnResult> {
    if (!options) throw new Error('ConfirmActionDialog needs options');
    const action = this.action(options.action);
    const confirmation = await action.confirm(options.slots, this.deps.skillContext(dc.context));
    const state: State = { ...options, nonce: randomUUID(), prompt: confirmation.text, card: confirmation.card };
    dc.activeDialog!.state = state;
    state.cardId = await sendReply(dc.context, {
      text: confirmation.text,
      cardText: `Please confirm (or reply yes / no, or tell me what to change):`,
      card: { ...confirmation.card, actions: confirmationActions(state.nonce, state.ref) },
    });
    return { status: DialogTurnStatus.waiting };
  }

  override async continueDialog(dc: DialogContext): Promise<DialogTurnResult> {
    const state = dc.activeDialog!.state as State;
    const input = getTurnInput(dc.context);
    const submit = input.submit;
    if (submit) {
      if (submit.nonce !== state.nonce) {
        // An older card: if it was already carried out, that outcome; otherwise it is stale.
        const ctx = this.deps.skillContext(dc.context);
        const stored =
          typeof submit.nonce === 'string' && typeof submit.ref === 'string'
            ? await findOutcome(ctx.env.db, idempotencyKey(ctx.origin, submit.ref, submit.nonce))
            : undefined;
        if (stored) await deliverOutcome(dc.context, stored);
        else {
          await sendReply(dc.context, { text: 'That card is out of date, so I ignored it. Please use the latest one above.' });
          // The clicked (older) card is the one to retire: only the click's replyToId names it.
          await settleCard(dc.context, {}, { kind: 'stale' });
        }
        return Dialog.EndOfTurn;
      }
      if (submit.verb === 'confirm') return this.confirmed(dc, state);
      if (submit.verb === 'cancel') return this.cancelled(dc, state);
      if (submit.verb === 'edit') {
        await settleCard(dc.context, cardOf(state), { kind: 'decided', verb: 'edit' });
        return dc.endDialog({ decision: 'edit', draft: state.draft } satisfies ConfirmResult);
      }
      return Dialog.EndOfTurn;
    }
    if (isAffirmative(input.text)) return this.confirmed(dc, state);
    if (isNegative(input.text)) return this.cancelled(dc, state);
    const other = this.otherRequest(input, state);
    const action = this.action(state.action);
    const corrected = action.extract({ text: input.text, entities: input.entities, expecting: 'edit' }, state.draft);
    const changes = JSON.stringify(corrected) !== JSON.stringify(state.draft);
    // A question is answered beside the confirmation, even when its words could also be read as
    // a change ("how many SKU-1001 in WH-B?" names a warehouse); "make it 300" stays a correction.
    if (other?.kind === 'read' && (!changes || looksLikeQuestion(input.text))) {
      await this.answerAside(dc, state, other, input);
      return Dialog.EndOfTurn;
    }
    if (changes) {
      await settleCard(dc.context, cardOf(state), { kind: 'stale' });
      return dc.endDialog({ decision: 'change', draft: corrected } satisfies ConfirmResult);
    }
    if (other) {
      await settleCard(dc.context, cardOf(state), { kind: 'expired' });
      return dc.endDialog({ decision: 'switch', switchTo: input.intent! } satisfies ConfirmResult);
    }
    await sendReply(dc.context, { text: `Sorry, I didn't get that. ${HINT}` });
    return Dialog.EndOfTurn;
  }

  override async repromptDialog(context: TurnContext, instance: DialogInstance): Promise<void> {
    const state = instance.state as State;
    await sendReply(context, { text: `${state.prompt}` });
  }

  /** A confident request for another action than the pending one. */
  private otherRequest(input: TurnInput, state: State): ActionDef | undefined {
    if (!input.intent || (input.confidence ?? 0) < 0.5) return undefined;
    const other = this.deps.registry.forIntent(input.intent);
    return other && other.name !== state.action ? other : undefined;
  }

  /** Answers a read-only side question in one turn, then reminds what is still waiting. */
  private async answerAside(dc: DialogContext, state: State, read: ReadAction, input: TurnInput): Promise<void> {
    const ctx = this.deps.skillContext(dc.context);
    const check = await read.check(read.extract({ text: input.text, entities: input.entities }, {}), ctx);
    if (check.status === 'ready') await sendReply(dc.context, await read.answer(check.slots, ctx));
    else if (check.status === 'refuse') await sendReply(dc.context, check.reply);
    // A follow-up question's answer would be taken for the confirmation's: ask for it in one go instead.
    else await sendReply(dc.context, { text: `To answer that I need more detail (${check.text.replace(/\s+$/, '')}) — please ask again with it in one message.` });
    await sendReply(dc.context, { text: reminder(state) });
  }

  private confirmed(dc: DialogContext, state: State): Promise<DialogTurnResult> {
    return dc.endDialog({ decision: 'confirm', nonce: state.nonce, ref: state.ref, slots: state.slots, card: cardOf(state) } satisfies ConfirmResult);
  }

  private async cancelled(dc: DialogContext, state: State): Promise<DialogTurnResult> {
    await settleCard(dc.context, cardOf(state), { kind: 'decided', verb: 'cancel' });
    return dc.endDialog({ decision: 'cancel' } satisfies ConfirmResult);
  }

  private action(name: string): WriteAction {
    const action = this.deps.registry.action(name);
    if (!action || action.kind !== 'write') throw new Error(`unknown write action ${name}`);
    return action;
  }
}

const QUESTION = /\?\s*$|^\s*(what|what's|whats|where|when|which|who|whose|how|is|are|was|were|do|does|did|can|could|has|have|show|list|any)\b/i;

/** Phrased as a question (or a request to show something), not as an instruction. */
export function looksLikeQuestion(text: string): boolean {
  return QUESTION.test(text);
}

/** What a side question's answer ends with: the confirmation is still open. */
export function reminder(state: Pick<State, 'card' | 'action'>): string {
  const what = state.card?.title ? `"${state.card.title}"` : 'the request above';
  return `Still waiting for your yes/no on ${what}: say yes to go ahead, no to cancel.`;
}

/** The confirmation card of this dialog: its id from when it was sent (a text answer has no replyToId). */
function cardOf(state: State): CardToSettle {
  return { id: state.cardId, card: state.card };
}
