import { ActivityHandler, type BotState, type StatePropertyAccessor, type TurnContext } from 'botbuilder';
import type { Logger } from '../../logger.js';
import { currentTrace } from '../../tracing/turnTrace.js';
import type { BotRecognizer } from './recognizer.js';
import {
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

export interface AssistantBotDeps {
  conversationState: BotState;
  userState: BotState;
  logger: Logger;
  /** Absent when no model is loaded: the bot then answers with help only. */
  recognizer?: BotRecognizer;
}

/** Greets new members and answers messages; routes recognized intents to replies. */
export class AssistantBot extends ActivityHandler {
  private readonly conversationData: StatePropertyAccessor<ConversationData>;

  constructor(private readonly deps: AssistantBotDeps) {
    super();
    this.conversationData = deps.conversationState.createProperty<ConversationData>('conversationData');

    this.onMembersAdded(async (context, next) => {
      const botId = context.activity.recipient?.id;
      for (const member of context.activity.membersAdded ?? []) {
        if (member.id !== botId) await context.sendActivity(WELCOME_TEXT);
      }
      await next();
    });

    this.onMessage(async (context, next) => {
      await this.handleMessage(context);
      await next();
    });
  }

  override async run(context: TurnContext): Promise<void> {
    await super.run(context);
    await this.saveState(context);
  }

  private async handleMessage(context: TurnContext): Promise<void> {
    const trace = currentTrace();
    const data = await this.conversationData.get(context, { turns: 0 });
    data.turns += 1;

    const text = (context.activity.text ?? '').trim();
    if (!text) {
      await context.sendActivity(NON_TEXT_TEXT);
      return;
    }
    const recognizer = this.deps.recognizer;
    if (!recognizer) {
      await context.sendActivity(HELP_TEXT);
      return;
    }
    const result = trace ? await trace.stage('nlu', () => recognizer.recognize(text)) : await recognizer.recognize(text);
    trace?.setIntent(result.intent, result.confidence);
    data.lastIntent = result.intent;
    const reply = trace ? await trace.stage('dialog', () => replyFor(result.intent)) : replyFor(result.intent);
    await context.sendActivity(reply);
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
