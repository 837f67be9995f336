/**
 * TEST DOUBLE FOR THE INTENT CLASSIFIER ONLY. The conversation tests need a deterministic intent
 * for each utterance and must not depend on a trained model being present, so the intent comes
 * from an explicit table keyed by the test utterances (anything else → out_of_scope). Everything
 * else is real: entities come from the production `EntityExtractor` fed with the master data from
 * the database (`setMasterData`, as the app does for the real NLU), and dialogs, database, jobs
 * and notifications run unchanged.
 */
import type { BotRecognizer } from '../../src/bot/bots/recognizer.js';
import { EntityExtractor } from '../../src/nlu/entities/EntityExtractor.js';
import type { MasterData } from '../../src/nlu/entities/masterData.js';

export class IntentTableRecognizer implements BotRecognizer {
  private readonly extractor = new EntityExtractor();
  private readonly table = new Map<string, string>();
  /** Utterances it was asked about (to check a test's table covers what it says). */
  readonly seen: string[] = [];

  /**
   * `table`: exact test utterances → intent. `patterns`: for utterances that embed an id only
   * known at run time ("what is the status of PO-1101"), anchored regexes → intent.
   */
  constructor(
    table: Record<string, string>,
    private readonly patterns: [RegExp, string][] = [],
  ) {
    for (const [utterance, intent] of Object.entries(table)) this.table.set(normalize(utterance), intent);
  }

  setMasterData(data: MasterData): void {
    this.extractor.setMasterData(data);
  }

  /** The intent the table gives `text`, if the table knows it. */
  intentFor(text: string): string | undefined {
    return this.table.get(normalize(text)) ?? this.patterns.find(([re]) => re.test(text.trim()))?.[1];
  }

  async recognize(text: string) {
    this.seen.push(text);
    const intent = this.intentFor(text) ?? 'out_of_scope';
    return { intent, confidence: intent === 'out_of_scope' ? 0.3 : 0.97, entities: this.extractor.extract(text) };
  }
}

function normalize(text: string): string {
  return text.trim().toLowerCase().replace(/\s+/g, ' ');
}
