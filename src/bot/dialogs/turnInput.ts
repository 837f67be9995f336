import type { TurnContext } from 'botbuilder';
import type { CardSubmit, SkillEntity, SkillReply } from '../../skills/types.js';
import type { WriteOutcome } from '../../skills/runtime.js';
import { replyActivity } from '../cards/adaptiveCard.js';
import { attachFile } from '../files/outbound.js';

/** What the bot learned about the current message, shared with the dialogs through turnState. */
export interface TurnInput {
  text: string;
  entities: SkillEntity[];
  intent?: string;
  confidence?: number;
  /** A card button's data (`Action.Submit`), when the message is a click. */
  submit?: CardSubmit;
}

const TURN_INPUT = Symbol('rpa.turnInput');

export function setTurnInput(context: TurnContext, input: TurnInput): void {
  context.turnState.set(TURN_INPUT, input);
}

export function getTurnInput(context: TurnContext): TurnInput {
  return (context.turnState.get(TURN_INPUT) as TurnInput | undefined) ?? { text: (context.activity.text ?? '').trim(), entities: [] };
}

/** A card click: `value` with a string `verb`. */
export function asSubmit(value: unknown): CardSubmit | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.verb !== 'string') return undefined;
  const out: CardSubmit = { verb: v.verb };
  for (const [k, x] of Object.entries(v)) if (typeof x === 'string' || typeof x === 'number') out[k] = x;
  return out;
}

const YES = /^\s*(y|yes|yeah|yep|yup|sure|ok|okay|confirm(?:ed)?|go(?: ahead)?|do it|please do|correct|that'?s right|right|affirmative|place it|approve it|send it)\s*[.!]*\s*(?:please)?\s*[.!]*\s*$/i;
const NO = /^\s*(n|no|nope|nah|don'?t|do not|not now|negative|no thanks|no,? thank you|keep it)\s*[.!]*\s*$/i;
const CANCEL = /^\s*(cancel|stop|abort|quit|exit|never\s*mind|nevermind|forget (?:it|that|about it)|cancel (?:it|that|this|everything))\s*[.!]*\s*$/i;
const HELP = /^\s*(help|\?|what can i (?:say|do)|what do you need(?: from me)?|options)\s*[.!?]*\s*$/i;

export const isAffirmative = (text: string): boolean => YES.test(text);
export const isNegative = (text: string): boolean => NO.test(text);
export const isCancel = (text: string): boolean => CANCEL.test(text);
export const isHelp = (text: string): boolean => HELP.test(text);

/** Sends a skill reply; resolves to the id the channel gave the message, when it gave one (not with expectReplies). */
export async function sendReply(context: TurnContext, reply: SkillReply): Promise<string | undefined> {
  const activity = replyActivity(reply, context.activity.channelId, context.activity.serviceUrl);
  if (reply.file) await attachFile(context, activity, reply.file);
  const sent = await context.sendActivity(activity);
  return sent?.id || undefined;
}

/**
 * Sends a write's outcome. A repeat of a request that was already answered (a channel re-delivery)
 * gets the stored first outcome in its own HTTP body (`expectReplies`), but nothing is posted to
 * the conversation again: the user sees one reply per request.
 */
export async function deliverOutcome(context: TurnContext, outcome: WriteOutcome): Promise<void> {
  if (!outcome.replayed || context.activity.deliveryMode === 'expectReplies') await sendReply(context, outcome.reply);
}
