import type { Attachment, BotState, StatePropertyAccessor, TurnContext } from 'botbuilder';
import type { DialogSet } from 'botbuilder-dialogs';
import type { Logger } from '../../logger.js';
import { currentTrace } from '../../tracing/turnTrace.js';
import { CANCEL_VERB, EXCEL_LIMITS, ExcelImports, looksLikeSpreadsheet, RUN_VERB } from '../../skills/excel/index.js';
import { assertXlsxName, ExcelFileError } from '../../skills/excel/workbook.js';
import type { SkillRegistry } from '../../skills/registry.js';
import type { CardSpec, CardSubmit, SkillContext, SkillReply } from '../../skills/types.js';
import { settleCard } from '../cards/cardOutcome.js';
import { isAffirmative, isCancel, isNegative, sendReply } from '../dialogs/turnInput.js';
import { describeAttachment, fileAttachments, InboundFileError, readAttachment, type FetchPolicy } from './inbound.js';
import type { FileLinks } from './links.js';
import { useFileLinks } from './outbound.js';

/** The conversation's import waiting for a yes/no (the import itself is in excel_imports). */
interface PendingImport {
  id?: string;
  at?: number;
  /** The report card's activity id and content, to replace it by its outcome once decided. */
  cardId?: string;
  card?: CardSpec;
}

/** What the server gives the bot for files: where exports are served, how inbound files are fetched. */
export interface BotFiles {
  /** Where exports are served (absent → replies say the file can't be attached). */
  links?: FileLinks;
  /** Downloads of inbound files (Teams links, the channel's own file URLs). */
  fetchPolicy?: FetchPolicy;
}

export interface FileTurnDeps extends BotFiles {
  registry: SkillRegistry;
  conversationState: BotState;
  logger: Logger;
  skillContext(context: TurnContext): SkillContext;
  /** The bot's dialogs: a file that arrives mid-dialog puts that dialog aside. */
  dialogs?: DialogSet;
}

function isSpreadsheet(attachment: Attachment): boolean {
  const { name, contentType } = describeAttachment(attachment);
  return looksLikeSpreadsheet(name, contentType);
}

/** Without a policy from the server: Teams links to the default Teams hosts, same-origin https files on public addresses. */
const DEFAULT_FETCH_POLICY: FetchPolicy = { maxBytes: EXCEL_LIMITS.maxFileBytes };

/**
 * The bot edge of the Excel workflows, called at the start of every message turn:
 * - a message with a file → download it (whatever the channel), check every row, show the report;
 * - the report's buttons (`excel.run` / `excel.cancel` with the import id) → run or cancel it;
 * - "yes" / "no" right after a report → the same (any other message ends that, the buttons stay);
 * and makes the export link store available to the turn's replies.
 * Returns true when it answered the message.
 */
export class FileTurns {
  private readonly pending: StatePropertyAccessor<PendingImport>;
  private readonly imports: ExcelImports;

  constructor(private readonly deps: FileTurnDeps) {
    this.pending = deps.conversationState.createProperty<PendingImport>('excelImport');
    this.imports = new ExcelImports(deps.registry);
  }

  async handle(context: TurnContext, input: { text: string; submit?: CardSubmit }): Promise<boolean> {
    if (this.deps.links) useFileLinks(context, this.deps.links);
    if (context.activity.type !== 'message') return false;
    const files = fileAttachments(context.activity);
    // A spreadsheet is always read (and a .csv/.xls told to be saved as .xlsx); any other file only
    // when it comes alone (it gets the "only .xlsx" answer) — with text, the text is the message.
    if (files.some(isSpreadsheet) || (files.length > 0 && !input.text && !input.submit)) {
      await this.receive(context, files, input.text);
      return true;
    }
    const submit = input.submit;
    if ((submit?.verb === RUN_VERB || submit?.verb === CANCEL_VERB) && typeof submit.ref === 'string') {
      await this.decide(context, submit.ref, submit.verb === RUN_VERB);
      return true;
    }
    const pending = await this.pending.get(context, {});
    if (!pending.id) return false;
    const answer = isAffirmative(input.text) ? 'run' : isNegative(input.text) || isCancel(input.text) ? 'cancel' : undefined;
    if (!submit && answer && Date.now() - (pending.at ?? 0) < EXCEL_LIMITS.textConfirmMs) {
      await this.decide(context, pending.id, answer === 'run');
      return true;
    }
    // Something else was said: a later "yes" is about that, not the import (its buttons still work).
    await this.pending.delete(context);
    return false;
  }

  private async receive(context: TurnContext, files: ReturnType<typeof fileAttachments>, text: string): Promise<void> {
    currentTrace()?.setIntent('excel.import', 1);
    await this.pending.delete(context);
    const notes: string[] = [];
    const dc = await this.deps.dialogs?.createContext(context);
    if (dc?.activeDialog) {
      await dc.cancelAllDialogs();
      notes.push("I've put the unfinished request aside; nothing was changed.");
    }
    // One file per message: the first spreadsheet, or else the first file (to say what is wrong with it).
    const chosen = files.find(isSpreadsheet) ?? files[0]!;
    const described = describeAttachment(chosen);
    if (files.length > 1) notes.push(`I read one file at a time, so I took "${described.name}".`);
    let reply: SkillReply;
    let importId: string | undefined;
    try {
      assertXlsxName(described); // before downloading anything
      const file = await readAttachment(chosen, context.activity, this.deps.fetchPolicy ?? DEFAULT_FETCH_POLICY);
      const received = await this.imports.receive(file, text, this.deps.skillContext(context));
      reply = received.reply;
      if (received.importId) importId = received.importId;
    } catch (err) {
      if (err instanceof ExcelFileError || err instanceof InboundFileError) {
        this.deps.logger.info({ file: described.name, reason: err.message }, 'excel: file not imported');
        reply = { text: err.userText };
      } else throw err;
    }
    if (notes.length > 0) reply = { ...reply, text: `${notes.join(' ')}\n${reply.text}`, ...(reply.cardText ? { cardText: `${notes.join(' ')} ${reply.cardText}` } : {}) };
    const cardId = await sendReply(context, reply);
    if (importId) await this.pending.set(context, { id: importId, at: Date.now(), cardId, card: reply.card });
  }

  private async decide(context: TurnContext, importId: string, run: boolean): Promise<void> {
    currentTrace()?.setIntent(run ? 'excel.run' : 'excel.cancel', 1);
    const ctx = this.deps.skillContext(context);
    const decision = run ? await this.imports.confirm(importId, ctx) : await this.imports.cancel(importId, ctx);
    // Someone else's click (or an unknown import) leaves the conversation's pending import as it was.
    const pending = await this.pending.get(context, {});
    if (decision.settled && pending.id === importId) {
      await this.pending.delete(context);
      // The report card says who decided, without its buttons (as confirmation cards do).
      await settleCard(context, { id: pending.cardId, card: pending.card }, { kind: 'decided', verb: run ? 'confirm' : 'cancel' });
    }
    await sendReply(context, decision.reply);
  }
}
