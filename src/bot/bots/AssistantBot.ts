import { randomUUID } from 'node:crypto';
import { TeamsActivityHandler, type BotState, type StatePropertyAccessor, type TurnContext } from 'botbuilder';
import { DialogSet, DialogTurnStatus, type DialogContext } from 'botbuilder-dialogs';
import type { Logger } from '../../logger.js';
import { currentTrace } from '../../tracing/turnTrace.js';
import type { LlmFallback } from '../../skills/llmFallback.js';
import type { SkillRegistry } from '../../skills/registry.js';
import type { RoleDirectory } from '../../skills/roles.js';
import { auditRefusal, executeWrite, findOutcome, idempotencyKey } from '../../skills/runtime.js';
import type { CardSubmit, SkillContext, SkillEnv } from '../../skills/types.js';
import { ActionDialog, type ActionDialogOptions } from '../dialogs/ActionDialog.js';
import { isSwitch, type DialogDeps, type LastConfirmation } from '../dialogs/deps.js';
import { asSubmit, deliverOutcome, isAffirmative, sendReply, setTurnInput, type TurnInput } from '../dialogs/turnInput.js';
import type { ConversationReferenceStore } from '../proactive/conversationReferences.js';
import { FileTurns, type BotFiles } from '../files/fileTurns.js';
import { settleCard } from '../cards/cardOutcome.js';
import { InboundTurns } from '../teams/inboundTurns.js';
import { membersToWelcome } from '../teams/mentions.js';
import { InboundActivityStore } from '../teams/redelivery.js';
import type { BotRecognizer } from './recognizer.js';
import { isBusyError } from '../../inference/pool/errors.js';
import {
  BUSY_TEXT,
  GREETING_TEXT,
  HELP_TEXT,
  NON_TEXT_TEXT,
  NOT_SURE_TEXT,
  THANKS_TEXT,
  WELCOME_TEXT,
  skillComingText,
} from './replies.js';

export interface ConversationData {
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
}

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

  constructor(private readonly deps: AssistantBotDeps) {
    super();
    this.inbound = new InboundTurns({
      references: deps.skills?.references,
      redelivery: deps.skills ? new InboundActivityStore(deps.skills.env.db) : undefined,
      logger: deps.logger,
    });
    this.conversationData = deps.conversationState.createProperty<ConversationData>('conversationData');
    this.lastConfirmation = deps.conversationState.createProperty<LastConfirmation>('lastConfirmation');
    if (deps.skills) {
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
    await this.inbound.run(context, async () => {
      await super.run(context);
      await this.saveState(context);
    });
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
    try {
      result =
        text && recognizer
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
    const input: TurnInput = { text, entities: result?.entities ?? [], intent: result?.intent, confidence: result?.confidence, submit };
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
      await this.runDirect(context, input.submit);
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
    const action = skills.registry.forIntent(intent);
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

  /** `{verb: 'do', action, nonce, ref, …slots}`: validate, then run exactly once per nonce. */
  private async runDirect(context: TurnContext, submit: CardSubmit): Promise<void> {
    const skills = this.deps.skills!;
    const { verb: _verb, action: actionName, nonce, ref, ...slots } = submit;
    const action = typeof actionName === 'string' ? skills.registry.action(actionName) : undefined;
    if (!action || action.kind !== 'write' || typeof nonce !== 'string' || typeof ref !== 'string') {
      await sendReply(context, { text: "I can't do anything with that button, sorry." });
      return;
    }
    const ctx = this.skillContext(context);
    const key = idempotencyKey(ctx.origin, ref, nonce);
    const stored = await findOutcome(ctx.env.db, key);
    if (stored) {
      await deliverOutcome(context, stored);
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
    default:
      return skillComingText(intent);
  }
}
