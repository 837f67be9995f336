import {
  ComponentDialog,
  Dialog,
  WaterfallDialog,
  type DialogContext,
  type DialogTurnResult,
  type WaterfallStepContext,
} from 'botbuilder-dialogs';
import { currentTrace } from '../../tracing/turnTrace.js';
import { executeWrite, idempotencyKey } from '../../skills/runtime.js';
import type { Draft, ExtractInput } from '../../skills/types.js';
import { settleCard } from '../cards/cardOutcome.js';
import { ConfirmActionDialog, type ConfirmOptions, type ConfirmResult } from './ConfirmActionDialog.js';
import type { DialogDeps } from './deps.js';
import { SlotFillingDialog, type SlotFillingOptions, type SlotFillingResult } from './SlotFillingDialog.js';
import { deliverOutcome, getTurnInput, isCancel, isHelp, sendReply } from './turnInput.js';

export interface ActionDialogOptions {
  action: string;
  draft?: Draft;
  initial?: ExtractInput;
  expecting?: string;
  /** The activity the request started from. */
  ref: string;
}

const FLOW = 'action.flow';

/**
 * One skill action from request to result: fill the slots → (writes) confirm → run, or (reads)
 * answer. "cancel" and "help" work at any step; Edit or a correction goes back to slot filling
 * with what was already said; a confirmed write runs exactly once per confirmation.
 */
export class ActionDialog extends ComponentDialog<ActionDialogOptions> {
  static readonly id = 'action';

  constructor(private readonly deps: DialogDeps) {
    super(ActionDialog.id);
    this.addDialog(new SlotFillingDialog(deps));
    this.addDialog(new ConfirmActionDialog(deps));
    this.addDialog(
      new WaterfallDialog<ActionDialogOptions>(FLOW, [
        (step) => this.collect(step),
        (step) => this.confirmOrAnswer(step),
        (step) => this.act(step),
      ]),
    );
    this.initialDialogId = FLOW;
  }

  /** Interruptions, checked before the active step sees the message. */
  protected override async onContinueDialog(inner: DialogContext): Promise<DialogTurnResult> {
    const input = getTurnInput(inner.context);
    if (!input.submit && isCancel(input.text)) {
      await inner.cancelAllDialogs();
      await sendReply(inner.context, { text: "OK, I've stopped. Nothing was changed." });
      return inner.endDialog({ cancelled: true });
    }
    // The classifier's assistant.help counts only when the words ask for help: short answers
    // ("no", "300") must never be taken for a help request.
    const asksForHelp = input.intent === 'assistant.help' && /\b(help|how do|how can|what do|what can|what should)\b/i.test(input.text);
    if (!input.submit && (isHelp(input.text) || asksForHelp)) {
      const options = this.flowOptions(inner);
      const help = (options ? this.deps.registry.action(options.action)?.help : undefined) ?? '';
      await sendReply(inner.context, { text: /cancel/i.test(help) ? help : `${help} Say "cancel" to stop.`.trim() });
      await inner.repromptDialog();
      return Dialog.EndOfTurn;
    }
    return super.onContinueDialog(inner);
  }

  private flowOptions(inner: DialogContext): ActionDialogOptions | undefined {
    const flow = inner.stack.find((i) => i.id === FLOW);
    return flow?.state?.options as ActionDialogOptions | undefined;
  }

  private async collect(step: WaterfallStepContext<ActionDialogOptions>): Promise<DialogTurnResult> {
    const o = step.options;
    return step.beginDialog(SlotFillingDialog.id, {
      action: o.action,
      draft: o.draft ?? {},
      initial: o.initial,
      expecting: o.expecting,
    } satisfies SlotFillingOptions);
  }

  private async confirmOrAnswer(step: WaterfallStepContext<ActionDialogOptions>): Promise<DialogTurnResult> {
    const filled = step.result as SlotFillingResult;
    if (filled.status === 'switch') return step.endDialog({ switchTo: filled.switchTo });
    if (filled.status !== 'ready') return step.endDialog();
    const action = this.deps.registry.action(step.options.action)!;
    if (action.kind === 'read') {
      const ctx = this.deps.skillContext(step.context);
      const trace = currentTrace();
      const reply = trace ? await trace.stage('skill', () => action.answer(filled.slots, ctx)) : await action.answer(filled.slots, ctx);
      await sendReply(step.context, reply);
      return step.endDialog();
    }
    return step.beginDialog(ConfirmActionDialog.id, {
      action: action.name,
      slots: filled.slots,
      draft: filled.draft,
      ref: step.options.ref,
    } satisfies ConfirmOptions);
  }

  private async act(step: WaterfallStepContext<ActionDialogOptions>): Promise<DialogTurnResult> {
    const decision = step.result as ConfirmResult;
    const o = step.options;
    switch (decision.decision) {
      case 'cancel':
        await sendReply(step.context, { text: 'OK, cancelled. Nothing was changed.' });
        return step.endDialog();
      case 'switch':
        // Only a new write replaces a pending confirmation (questions are answered beside it).
        await sendReply(step.context, { text: "Your new request replaces the one that was waiting for your yes/no: I've dropped that one, and nothing was changed." });
        return step.endDialog({ switchTo: decision.switchTo });
      case 'edit':
      case 'change':
        return step.replaceDialog(FLOW, {
          action: o.action,
          draft: decision.draft,
          ref: o.ref,
          expecting: decision.decision === 'edit' ? 'edit' : undefined,
        } satisfies ActionDialogOptions);
      case 'confirm': {
        const action = this.deps.registry.action(o.action);
        if (!action || action.kind !== 'write') return step.endDialog();
        const ctx = this.deps.skillContext(step.context);
        const key = idempotencyKey(ctx.origin, decision.ref, decision.nonce);
        const trace = currentTrace();
        const run = () => executeWrite(action, decision.slots, ctx, key);
        const outcome = trace ? await trace.stage('skill', run) : await run();
        await this.deps.lastConfirmation.set(step.context, { key, at: Date.now() });
        // The card says "Confirmed by …" from now on (no second click); then the outcome itself.
        await settleCard(step.context, decision.card, { kind: 'decided', verb: 'confirm' });
        await deliverOutcome(step.context, outcome);
        return step.endDialog({ done: true });
      }
    }
  }
}
