import { Dialog, DialogTurnStatus, type DialogContext, type DialogInstance, type DialogTurnResult } from 'botbuilder-dialogs';
import type { TurnContext } from 'botbuilder';
import { auditRefusal } from '../../skills/runtime.js';
import type { ActionDef, CheckResult, Draft, ExtractInput, Suggestion } from '../../skills/types.js';
import type { DialogDeps } from './deps.js';
import { getTurnInput, isAffirmative, isNegative, sendReply } from './turnInput.js';

export interface SlotFillingOptions {
  action: string;
  draft: Draft;
  /** The message that started the action (its entities fill what they can). */
  initial?: ExtractInput;
  /** Ask this first (`edit` after the user pressed Edit). */
  expecting?: string;
}

export type SlotFillingResult =
  | { status: 'ready'; slots: unknown; draft: Draft }
  | { status: 'stopped' }
  | { status: 'switch'; switchTo: string };

interface State {
  action: string;
  draft: Draft;
  expecting?: string;
  question?: string;
  choices?: string[];
  suggestion?: Suggestion;
  misses: number;
}

const MAX_MISSES = 3;
const editQuestion = (action: ActionDef) =>
  action.editExamples ? `What would you like to change? For example ${action.editExamples}.` : 'What would you like to change?';

/**
 * Fills an action's slots: reads what the first message already says, then asks only for what is
 * still missing or invalid, one question at a time, validating each answer against master data
 * (with "Did you mean …?" suggestions a "yes" accepts). Corrections ("make it 300") are read at
 * every step. Ends with the complete slots, or stops (refused, or the user switched subject).
 */
export class SlotFillingDialog extends Dialog<SlotFillingOptions> {
  static readonly id = 'action.slots';

  constructor(private readonly deps: DialogDeps) {
    super(SlotFillingDialog.id);
  }

  override async beginDialog(dc: DialogContext, options?: SlotFillingOptions): Promise<DialogTurnResult> {
    if (!options) throw new Error('SlotFillingDialog needs options');
    const action = this.action(options.action);
    const state: State = { action: options.action, draft: { ...options.draft }, misses: 0 };
    dc.activeDialog!.state = state;
    if (options.initial) state.draft = action.extract(options.initial, state.draft);
    if (options.expecting === 'edit') return this.ask(dc, state, 'edit', editQuestion(action));
    return this.step(dc, state);
  }

  override async continueDialog(dc: DialogContext): Promise<DialogTurnResult> {
    const state = dc.activeDialog!.state as State;
    const action = this.action(state.action);
    const input = getTurnInput(dc.context);
    if (input.submit) {
      // A button of an older card while we wait for an answer.
      await sendReply(dc.context, { text: `Let's finish this first. ${state.question ?? ''}`.trim() });
      return Dialog.EndOfTurn;
    }
    let changed = false;
    if (state.suggestion) {
      const suggestion = state.suggestion;
      state.suggestion = undefined;
      if (isAffirmative(input.text)) {
        state.draft = merge(state.draft, suggestion.patch);
        changed = true;
      } else if (isNegative(input.text)) {
        // A clear answer: forget what was not recognised and ask again.
        state.draft = merge(state.draft, suggestion.onReject ?? {});
        changed = true;
      }
    }
    if (!changed) {
      const before = JSON.stringify(state.draft);
      state.draft = action.extract({ text: input.text, entities: input.entities, expecting: state.expecting }, state.draft);
      changed = JSON.stringify(state.draft) !== before;
    }
    if (!changed) {
      if (this.isOtherRequest(input.intent, input.confidence, state.action)) {
        return dc.endDialog({ status: 'switch', switchTo: input.intent! } satisfies SlotFillingResult);
      }
      state.misses += 1;
      if (state.misses >= MAX_MISSES) {
        await sendReply(dc.context, { text: "I still can't tell, so I've stopped here. Nothing was changed — just ask again when you're ready." });
        return dc.endDialog({ status: 'stopped' } satisfies SlotFillingResult);
      }
      await sendReply(dc.context, { text: `Sorry, I didn't get that. ${state.question ?? ''}`.trim(), choices: state.choices });
      return Dialog.EndOfTurn;
    }
    state.misses = 0;
    return this.step(dc, state);
  }

  override async repromptDialog(context: TurnContext, instance: DialogInstance): Promise<void> {
    const state = instance.state as State;
    if (state.question) await sendReply(context, { text: state.question, choices: state.choices });
  }

  private async step(dc: DialogContext, state: State): Promise<DialogTurnResult> {
    const action = this.action(state.action);
    const ctx = this.deps.skillContext(dc.context);
    const check: CheckResult<unknown> = await action.check(state.draft, ctx);
    if (check.status === 'ready') {
      return dc.endDialog({ status: 'ready', slots: check.slots, draft: state.draft } satisfies SlotFillingResult);
    }
    if (check.status === 'refuse') {
      if (action.kind === 'write') await auditRefusal(ctx, action.name, check.reply, typeof state.draft.order === 'string' ? state.draft.order : undefined);
      await sendReply(dc.context, check.reply);
      return dc.endDialog({ status: 'stopped' } satisfies SlotFillingResult);
    }
    state.suggestion = check.suggestion;
    return this.ask(dc, state, check.slot, check.text, check.choices);
  }

  private async ask(dc: DialogContext, state: State, slot: string, question: string, choices?: string[]): Promise<DialogTurnResult> {
    state.expecting = slot;
    state.question = question;
    state.choices = choices;
    await sendReply(dc.context, { text: question, choices });
    return { status: DialogTurnStatus.waiting };
  }

  /** A confident request for something else ("what's the status of PO-1002?" mid-order). */
  private isOtherRequest(intent: string | undefined, confidence: number | undefined, current: string): boolean {
    if (!intent || intent === current || (confidence ?? 0) < 0.5) return false;
    return this.deps.registry.forIntent(intent) !== undefined && this.deps.registry.forIntent(intent)?.name !== current;
  }

  private action(name: string): ActionDef {
    const action = this.deps.registry.action(name);
    if (!action) throw new Error(`unknown action ${name}`);
    return action;
  }
}

/** Applies a patch; `null` values delete the key (the state is JSON: `undefined` would vanish). */
function merge(draft: Draft, patch: Draft): Draft {
  const out: Draft = { ...draft, ...patch };
  for (const [k, v] of Object.entries(patch)) if (v === null || v === undefined) delete out[k];
  return out;
}
