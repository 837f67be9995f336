import { tool, type StructuredToolInterface } from '@langchain/core/tools';
import type { z } from 'zod';
import { toolNameOf, type SkillRegistry } from './registry.js';
import type { ActionDef, Draft, SkillContext } from './types.js';

/** Pass the asking user's context when invoking a tool: `tool.invoke(args, { configurable: { skillContext } })`. */
export interface SkillToolConfig {
  skillContext: SkillContext;
}

/**
 * Every skill action as a LangChain structured tool, built from the action's zod schema. Read
 * tools answer; write tools never write: they validate and return the confirmation the user
 * would have to accept (writes only run after a confirmation in the conversation).
 */
export function skillTools(registry: SkillRegistry): StructuredToolInterface[] {
  return registry.actions.map((action) => actionTool(action));
}

export function actionTool(action: ActionDef): StructuredToolInterface {
  return tool(
    async (input: Record<string, unknown>, config) => {
      const ctx = (config?.configurable as Partial<SkillToolConfig> | undefined)?.skillContext;
      if (!ctx) throw new Error(`${action.name}: invoke with configurable.skillContext`);
      const check = await action.check(input as Draft, ctx);
      if (check.status === 'refuse') return check.reply.text;
      if (check.status === 'ask') return `More information needed: ${check.text}`;
      if (action.kind === 'read') return (await action.answer(check.slots, ctx)).text;
      const confirmation = await action.confirm(check.slots, ctx);
      return `Not done yet — this needs the user's confirmation first:\n${confirmation.text}`;
    },
    {
      name: toolNameOf(action.name),
      description: action.description,
      schema: action.schema as unknown as z.ZodObject<z.ZodRawShape>,
    },
  ) as unknown as StructuredToolInterface;
}
