import { randomUUID } from 'node:crypto';
import { ConversationState, TeamsActivityHandler, type BotState, type StatePropertyAccessor, type TurnContext } from 'botbuilder';
import { DialogSet, DialogTurnStatus, type DialogContext, type DialogInstance } from 'botbuilder-dialogs';
import type { Logger } from '../../logger.js';
import { currentTrace } from '../../tracing/turnTrace.js';
import type { LlmFallback } from '../../skills/llmFallback.js';
import type { SkillRegistry } from '../../skills/registry.js';
import type { RoleDirectory } from '../../skills/roles.js';
import { auditRefusal, executeWrite, findOutcome, idempotencyKey } from '../../skills/runtime.js';
import type { CardSubmit, SkillContext, SkillEnv } from '../../skills/types.js';
import { ActionDialog, type ActionDialogOptions } from '../dialogs/ActionDialog.js';
import { isSwitch, type DialogDeps, type LastConfirmation } from '../dialogs/deps.js';
import { asSubmit, deliverOutcome, isAffirmative, isCancel, isNegative, sendReply, setTurnInput, type TurnInput } from '../dialogs/turnInput.js';
import { ConfirmActionDialog } from '../dialogs/ConfirmActionDialog.js';
import { shareDialogStateConfig } from '../dialogs/dialogStateConfig.js';
import type { ConversationReferenceStore } from '../proactive/conversationReferences.js';
import { FileTurns, type BotFiles } from '../files/fileTurns.js';
import { settleCard } from '../cards/cardOutcome.js';
import { CardNonceStore, submitSlots } from '../cards/cardNonces.js';
import { InboundTurns } from '../teams/inboundTurns.js';
import { membersToWelcome } from '../teams/mentions.js';
import { InboundActivityStore } from '../teams/redelivery.js';
import { isTurnLockTimeout, LocalConversationLock, type ConversationLock } from '../state/conversationLock.js';
import { conversationLockKey } from '../proactive/afterTurn.js';
import { excludeFromAdmissionLatency } from '../http/admission.js';
import type { BotRecognizer } from './recognizer.js';
import { rejectsOrder, REJECT_ACTION, routedIntent } from '../../nlu/decision.js';
import { withRecentEntities, type RecentEntitiesState } from '../../nlu/context/recentEntities.js';
import { NON_ENGLISH } from '../../nlu/types.js';
import { isBusyError } from '../../inference/pool/errors.js';
import {
  BUSY_TEXT,
  CONVERSATION_BUSY_TEXT,
  GREETING_TEXT,
  HELP_TEXT,
  NON_TEXT_TEXT,
  NOT_SURE_TEXT,
  NON_ENGLISH_TEXT,
  THANKS_TEXT,
  WELCOME_TEXT,
  skillComingText,
} from './replies.js';

export interface ConversationData extends RecentEntitiesState {
  turns: number;
  lastIntent?: string;
}

/** The skills side of the bot (absent → intents get the "not available yet" replies only). */
export interface BotSkills {
  registry: SkillRegistry;
  env: SkillEnv;
  roles: RoleDirectory;
  references: ConversationReferenceStore;
  /** Optional LLM fallback for out-of-scope messages. */
  fallback?: LlmFallback;
}

export interface AssistantBotDeps {
  conversationState: BotState;
  userState: BotState;
  logger: Logger;
  /** Absent when no model is loaded: the bot then answers with help only. */
  recognizer?: BotRecognizer;
  skills?: BotSkills;
  /** Files in and out (Excel imports and exports, src/bot/files); needs `skills`. */
  files?: BotFiles;
  /**
   * Serializes the turns of each conversation (state/conversationLock.ts). Default: an in-process
   * lock, which is only enough when one process serves the conversation.
   */
  turnLock?: ConversationLock;
}

/** Default longest wait for an earlier turn of the same conversation (TURN_LOCK_TIMEOUT_MS). */
const DEFAULT_TURN_LOCK_TIMEOUT_MS = 5_000;

/** A late duplicate "yes" within this window gets the stored outcome of the last confirmation. */
const LATE_CONFIRMATION_MS = 2 * 60_000;

/**
 * Greets new members and answers messages: an action in progress (a dialog) gets the message
 * first; otherwise the recognized intent starts the skill action that handles it. A
 * TeamsActivityHandler (Teams events dispatch as such; other channels as a plain ActivityHandler);
 * what every inbound activity goes through first — references, Teams mentions, re-deliveries —
 * is in teams/inboundTurns.ts.
 */
export class AssistantBot extends TeamsActivityHandler {
  private readonly conversationData: StatePropertyAccessor<ConversationData>;
  private readonly lastConfirmation: StatePropertyAccessor<LastConfirmation>;
  private readonly dialogs?: DialogSet;
  private readonly inbound: InboundTurns;
  private readonly files?: FileTurns;
  private readonly turnLock: ConversationLock;
  private readonly nonces?: CardNonceStore;

  constructor(private readonly deps: AssistantBotDeps) {
    super();
    this.turnLock = deps.turnLock ?? new LocalConversationLock({ timeoutMs: DEFAULT_TURN_LOCK_TIMEOUT_MS, logger: deps.logger });
    this.inbound = new InboundTurns({
      references: deps.skills?.references,
      redelivery: deps.skills ? new InboundActivityStore(deps.skills.env.db) : undefined,
      logger: deps.logger,
    });
    this.conversationData = deps.conversationState.createProperty<ConversationData>('conversationData');
    this.lastConfirmation = deps.conversationState.createProperty<LastConfirmation>('lastConfirmation');
    if (deps.skills) {
      this.nonces = new CardNonceStore(deps.skills.env.db);
      const dialogDeps: DialogDeps = {
        registry: deps.skills.registry,
        skillContext: (context) => this.skillContext(context),
        lastConfirmation: this.lastConfirmation,
      };
      this.dialogs = new DialogSet(deps.conversationState.createProperty('dialogState'));
      this.dialogs.add(new ActionDialog(dialogDeps));
      this.files = new FileTurns({ ...deps.files, registry: deps.skills.registry, conversationState: deps.conversationState, logger: deps.logger, skillContext: (context) => this.skillContext(context), dialogs: this.dialogs });
    }

    this.onMembersAdded(async (context, next) => {
      for (const _member of membersToWelcome(context.activity)) await context.sendActivity(WELCOME_TEXT);
      await next();
    });

    this.onMessage(async (context, next) => {
      await this.handleMessage(context);
      await next();
    });
  }

  override async run(context: TurnContext): Promise<void> {
    shareDialogStateConfig(context);
    await this.inbound.run(context, () => this.runLocked(context));
  }

  /**
   * The whole turn — state load, handlers, state save — holding the conversation's lock, so two
   * turns of one conversation never interleave and none overwrites the other's state.
   */
  private async runLocked(context: TurnContext): Promise<void> {
    const turn = async () => {
      await super.run(context);
      await this.saveState(context);
    };
    const key = conversationKey(context);
    if (!key) return turn();
    const asked = Date.now();
    try {
      await this.turnLock.run(
        key,
        () => {
          // How long earlier turns of this conversation held this one back (on the turn's trace); not
          // load, so left out of the admission gate's latency sample.
          const waited = Date.now() - asked;
          currentTrace()?.setAttribute('turn_lock_wait_ms', waited);
          excludeFromAdmissionLatency(waited);
          return turn();
        },
        // The conversation's state row comes with the lock, and its save releases the lock.
        { stateKey: this.deps.conversationState instanceof ConversationState ? this.deps.conversationState.getStorageKey(context) : undefined },
      );
    } catch (err) {
      if (!isTurnLockTimeout(err)) throw err;
      // Earlier turns of this conversation are still running: this one did nothing at all.
      excludeFromAdmissionLatency(err.waitedMs);
      const trace = currentTrace();
      trace?.setAttribute('busy_reason', 'conversation_lock');
      trace?.setOutcome('busy');
      this.deps.logger.warn({ conversationId: context.activity.conversation?.id, waitedMs: err.waitedMs }, 'turn lock wait timed out');
      await context.sendActivity(CONVERSATION_BUSY_TEXT);
    }
  }

  private async handleMessage(context: TurnContext): Promise<void> {
    const trace = currentTrace();
    const data = await this.conversationData.get(context, { turns: 0 });
    data.turns += 1;

    const text = (context.activity.text ?? '').trim();
    const submit = asSubmit(context.activity.value);
    // Spreadsheets sent in, and the answers to their import reports (src/bot/files), come first.
    if (this.files && (await this.files.handle(context, { text, submit }))) return;
    if (!text && !submit) {
      await context.sendActivity(NON_TEXT_TEXT);
      return;
    }
    const recognizer = this.deps.recognizer;
    const dc = this.dialogs ? await this.dialogs.createContext(context) : undefined;
    if (!recognizer && !submit && !dc?.activeDialog) {
      await context.sendActivity(HELP_TEXT);
      return;
    }
    let result: Awaited<ReturnType<BotRecognizer['recognize']>> | undefined;
    // A yes / no / cancel to a pending confirmation is decided by the dialog from the words alone
    // (ConfirmActionDialog, ActionDialog): what the model would say is never read, so it is not asked.
    const decidedByWords = !submit && !!dc && answersConfirmation(dc, text);
    if (decidedByWords) trace?.setAttribute('nlu_skipped', 'confirmation_answer');
    try {
      result =
        text && recognizer && !decidedByWords
          ? trace
            ? await trace.stage('nlu', () => recognizer.recognize(text))
            : await recognizer.recognize(text)
          : undefined;
    } catch (err) {
      if (!isBusyError(err)) throw err;
      // Inference is saturated (queue full or deadline passed): say so at once, do nothing else.
      trace?.setAttribute('busy_reason', err.reason);
      trace?.setOutcome('busy');
      await context.sendActivity(BUSY_TEXT);
      return;
    }
    if (result) {
      trace?.setIntent(result.intent, result.confidence);
      data.lastIntent = result.intent;
    }
    // NLU (issue 14): "has it cleared?" gets the shipment just discussed; price questions get the catalog price.
    const intent = result && routedIntent(result);
    const entities = result ? withRecentEntities(data, { intent, text, entities: result.entities }, { turn: data.turns, now: Date.now(), resolve: !dc?.activeDialog }) : [];
    const input: TurnInput = { text, entities, intent, confidence: result?.confidence, submit };
    setTurnInput(context, input);
    const route = () => this.route(context, dc, input);
    if (trace) await trace.stage('dialog', route);
    else await route();
  }

  private async route(context: TurnContext, dc: DialogContext | undefined, input: TurnInput): Promise<void> {
    if (!dc || !this.deps.skills) {
      await context.sendActivity(replyFor(input.intent ?? 'assistant.help'));
      return;
    }
    // A button that runs an action directly (an approver's Approve / Reject).
    if (input.submit?.verb === 'do') {
      await this.runDirect(context, dc, input.submit);
      return;
    }
    if (dc.activeDialog) {
      const turn = await dc.continueDialog();
      if (turn.status === DialogTurnStatus.complete && isSwitch(turn.result)) {
        await this.startIntent(context, dc, turn.result.switchTo, input);
      }
      return;
    }
    if (input.submit) {
      await this.replayOrExpire(context, input.submit);
      return;
    }
    if (isAffirmative(input.text) && (await this.replayLateConfirmation(context))) return;
    if (!input.intent) {
      await context.sendActivity(HELP_TEXT);
      return;
    }
    await this.startIntent(context, dc, input.intent, input);
  }

  private async startIntent(context: TurnContext, dc: DialogContext, intent: string, input: TurnInput): Promise<void> {
    const skills = this.deps.skills!;
    const ref = context.activity.id ?? randomUUID();
    // NLU (issue 14): approve_order is the decision intent; its decision=reject slot runs the reject action.
    const action = rejectsOrder(intent, input.entities) ? skills.registry.action(REJECT_ACTION) : skills.registry.forIntent(intent);
    if (action) {
      await dc.beginDialog(ActionDialog.id, {
        action: action.name,
        initial: { text: input.text, entities: input.entities },
        ref,
      } satisfies ActionDialogOptions);
      return;
    }
    if (intent === 'out_of_scope' && skills.fallback && input.text) {
      const fallback = skills.fallback;
      const trace = currentTrace();
      try {
        const proposal = trace ? await trace.stage('llm', () => fallback.propose(input.text)) : await fallback.propose(input.text);
        if (proposal) {
          trace?.setAttribute('llm_fallback', proposal.action.name);
          await dc.beginDialog(ActionDialog.id, { action: proposal.action.name, draft: proposal.draft, ref } satisfies ActionDialogOptions);
          return;
        }
      } catch (err) {
        this.deps.logger.warn({ err }, 'LLM fallback failed');
      }
    }
    await context.sendActivity(replyFor(intent));
  }

  /**
   * `{verb: 'do', action, nonce, ref, …slots}`: a button that runs a write at once. It counts only
   * with the nonce issued when its card was sent to this conversation and user, for this action
   * and these slots, consumed here once (cards/cardNonces.ts); then it runs exactly once per
   * nonce. Without one the write never runs: the normal dialog asks to confirm instead.
   */
  private async runDirect(context: TurnContext, dc: DialogContext, submit: CardSubmit): Promise<void> {
    const skills = this.deps.skills!;
    const { action: actionName, nonce, ref } = submit;
    const slots = submitSlots(submit);
    const action = typeof actionName === 'string' ? skills.registry.action(actionName) : undefined;
    if (!action || action.kind !== 'write') {
      await sendReply(context, { text: "I can't do anything with that button, sorry." });
      return;
    }
    const ctx = this.skillContext(context);
    const key = typeof nonce === 'string' && typeof ref === 'string' ? idempotencyKey(ctx.origin, ref, nonce) : undefined;
    // A re-delivery or second click of a press that already ran: its first outcome, nothing new.
    const stored = key ? await findOutcome(ctx.env.db, key) : undefined;
    if (stored) {
      await deliverOutcome(context, stored);
      return;
    }
    const press = { channelId: ctx.origin.channelId, conversationId: ctx.origin.conversationId, userId: ctx.actor.id, action: action.name, slots };
    if (!key || !(await this.nonces!.consume(nonce, press))) {
      currentTrace()?.setAttribute('card_nonce', 'invalid');
      await this.askInstead(context, dc, action.name, slots);
      return;
    }
    const check = await action.check(slots, ctx);
    if (check.status === 'refuse') {
      await auditRefusal(ctx, action.name, check.reply, typeof slots.order === 'string' ? slots.order : undefined);
      await settleCard(context, {}, { kind: 'refused', text: check.reply.text });
      await sendReply(context, check.reply);
      return;
    }
    if (check.status === 'ask') {
      await sendReply(context, { text: check.text, choices: check.choices });
      return;
    }
    const trace = currentTrace();
    const run = () => executeWrite(action, check.slots, ctx, key);
    const outcome = trace ? await trace.stage('skill', run) : await run();
    // The clicked card (its replyToId) now says "Approved by …": nobody clicks it again.
    if (!outcome.replayed) await settleCard(context, {}, { kind: 'decided', verb: 'do', action: action.name });
    await deliverOutcome(context, outcome);
  }

  /**
   * A write button without a valid nonce (forged, copied, reused or expired): nothing runs. With
   * no request in progress, the request goes through the normal dialog, which asks to confirm;
   * with one in progress, that one stays and the button is refused.
   */
  private async askInstead(context: TurnContext, dc: DialogContext, action: string, slots: Record<string, unknown>): Promise<void> {
    if (dc.activeDialog) {
      await sendReply(context, { text: "That button is no longer valid here, so nothing was done. Let's finish the request in progress first." });
      await dc.repromptDialog();
      return;
    }
    await sendReply(context, { text: "I couldn't verify that button, so I haven't done anything." });
    await dc.beginDialog(ActionDialog.id, { action, draft: slots, ref: context.activity.id ?? randomUUID() } satisfies ActionDialogOptions);
  }

  /** A confirmation button pressed after its dialog ended (re-delivery, or an old card). */
  private async replayOrExpire(context: TurnContext, submit: CardSubmit): Promise<void> {
    const ctx = this.skillContext(context);
    const stored =
      typeof submit.nonce === 'string' && typeof submit.ref === 'string'
        ? await findOutcome(ctx.env.db, idempotencyKey(ctx.origin, submit.ref, submit.nonce))
        : undefined;
    // Nothing is changed on the card: it may already say who decided (a double click, a cancel).
    if (stored) await deliverOutcome(context, stored);
    else await sendReply(context, { text: 'That confirmation has expired, so nothing was done. Just ask again if you still need it.' });
  }

  private async replayLateConfirmation(context: TurnContext): Promise<boolean> {
    const last = await this.lastConfirmation.get(context, {});
    if (!last.key || !last.at || Date.now() - last.at > LATE_CONFIRMATION_MS) return false;
    const stored = await findOutcome(this.deps.skills!.env.db, last.key);
    if (!stored) return false;
    await deliverOutcome(context, stored);
    return true;
  }

  private skillContext(context: TurnContext): SkillContext {
    const skills = this.deps.skills!;
    const activity = context.activity;
    return {
      actor: { id: activity.from.id, name: activity.from.name, roles: skills.roles.rolesOf(activity.from.id) },
      origin: { channelId: activity.channelId, conversationId: activity.conversation.id, activityId: activity.id },
      env: skills.env,
    };
  }

  /** Persists state; a concurrent write to the same conversation is logged, not turned into an error reply. */
  private async saveState(context: TurnContext): Promise<void> {
    for (const state of [this.deps.conversationState, this.deps.userState]) {
      try {
        await state.saveChanges(context, false);
      } catch (err) {
        currentTrace()?.setAttribute('state_conflict', true);
        this.deps.logger.warn({ err, conversationId: context.activity.conversation?.id }, 'state not saved');
      }
    }
  }
}

/** The dialog that receives the next message: the top of the innermost active stack (component dialogs nest theirs under `dialogs`). */
function innermostDialogId(dc: DialogContext): string | undefined {
  let instance: DialogInstance | undefined = dc.activeDialog;
  for (;;) {
    const inner = (instance?.state as { dialogs?: { dialogStack?: DialogInstance[] } } | undefined)?.dialogs?.dialogStack;
    if (!inner || inner.length === 0) return instance?.id;
    instance = inner[inner.length - 1];
  }
}

/** The message answers a confirmation card in progress with words the dialog reads by themselves. */
function answersConfirmation(dc: DialogContext, text: string): boolean {
  return innermostDialogId(dc) === ConfirmActionDialog.id && (isAffirmative(text) || isNegative(text) || isCancel(text));
}

/** The lock key of a turn's conversation (as ConversationState keys it); none without a conversation id. */
function conversationKey(context: TurnContext): string | undefined {
  const { channelId, conversation } = context.activity;
  return conversation?.id ? conversationLockKey(channelId ?? '', conversation.id) : undefined;
}

function replyFor(intent: string): string {
  switch (intent) {
    case 'assistant.greet':
      return GREETING_TEXT;
    case 'assistant.help':
      return HELP_TEXT;
    case 'assistant.thanks':
      return THANKS_TEXT;
    case 'out_of_scope':
      return NOT_SURE_TEXT;
    case NON_ENGLISH:
      return NON_ENGLISH_TEXT;
    default:
      return skillComingText(intent);
  }
}
