import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { HumanMessage, SystemMessage, type AIMessageChunk, type BaseMessage } from '@langchain/core/messages';
import type { Runnable } from '@langchain/core/runnables';
import { z } from 'zod';
import type { SkillRegistry } from './registry.js';
import { skillTools } from './tools.js';
import type { ActionDef, Draft } from './types.js';

export interface FallbackProposal {
  action: ActionDef;
  /** The tool call's arguments that fit the action's schema; the dialog asks for the rest. */
  draft: Draft;
}

export interface LlmFallbackOptions {
  /** Give up on the model after this long (ms). Default 8000. */
  timeoutMs?: number;
}

const SYSTEM = [
  'You route requests of operations staff (buyers, customs brokers, warehouse clerks) to tools.',
  'Call exactly one tool when the request matches one; otherwise answer with no tool call.',
  'Never invent order numbers, product codes or suppliers the user did not mention.',
].join(' ');

/**
 * Optional fallback for messages the intent classifier marks out of scope: a tool-calling chat
 * model (any LangChain chat model with `bindTools`) picks one of the skill tools. Its choice only
 * *starts* the normal dialog with the arguments it extracted, so validation, missing slots and
 * the confirmation before a write all still happen. Without a tool call, nothing happens.
 */
export class LlmFallback {
  private readonly bound: Runnable<BaseMessage[], AIMessageChunk>;
  private readonly timeoutMs: number;

  constructor(
    model: BaseChatModel,
    private readonly registry: SkillRegistry,
    options: LlmFallbackOptions = {},
  ) {
    if (!model.bindTools) throw new Error('the LLM fallback needs a chat model that supports tool calling (bindTools)');
    this.bound = model.bindTools(skillTools(registry)) as unknown as Runnable<BaseMessage[], AIMessageChunk>;
    this.timeoutMs = options.timeoutMs ?? 8_000;
  }

  async propose(text: string): Promise<FallbackProposal | undefined> {
    const response = await this.bound.invoke([new SystemMessage(SYSTEM), new HumanMessage(text)], {
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const call = response.tool_calls?.[0];
    if (!call) return undefined;
    const action = this.registry.forTool(call.name);
    if (!action) return undefined;
    return { action, draft: fittingArgs(action, call.args) };
  }
}

/** Keeps each argument that passes the schema on its own (the rest is asked for). */
function fittingArgs(action: ActionDef, args: Record<string, unknown>): Draft {
  const schema = action.schema as unknown as z.ZodObject<z.ZodRawShape>;
  const shape = schema.shape ?? {};
  const draft: Draft = {};
  for (const [key, value] of Object.entries(args ?? {})) {
    const field = shape[key] as z.ZodType | undefined;
    if (field && field.safeParse(value).success) draft[key] = value;
  }
  return draft;
}
