import type { JobHandler } from '../jobs/types.js';
import type { ActionDef, Skill } from './types.js';

/** LangChain/OpenAI tool names allow [a-zA-Z0-9_-]: `procurement.create_order` → `procurement_create_order`. */
export function toolNameOf(action: string): string {
  return action.replace(/[^a-zA-Z0-9_-]/g, '_');
}

/** All skills: which action answers an intent, and every action and job handler by name. */
export class SkillRegistry {
  private readonly byIntent = new Map<string, ActionDef>();
  private readonly byName = new Map<string, ActionDef>();
  private readonly byTool = new Map<string, ActionDef>();
  readonly skills: readonly Skill[];

  constructor(skills: readonly Skill[]) {
    this.skills = skills;
    for (const skill of skills) {
      for (const action of skill.actions) {
        if (this.byName.has(action.name)) throw new Error(`duplicate action ${action.name}`);
        this.byName.set(action.name, action);
        this.byTool.set(toolNameOf(action.name), action);
      }
      for (const [intent, name] of Object.entries(skill.intents)) {
        const action = this.byName.get(name);
        if (!action) throw new Error(`${skill.name}: intent ${intent} maps to unknown action ${name}`);
        this.byIntent.set(intent, action);
      }
    }
  }

  forIntent(intent: string): ActionDef | undefined {
    return this.byIntent.get(intent);
  }

  action(name: string): ActionDef | undefined {
    return this.byName.get(name);
  }

  forTool(toolName: string): ActionDef | undefined {
    return this.byTool.get(toolName);
  }

  get actions(): ActionDef[] {
    return [...this.byName.values()];
  }

  get intents(): string[] {
    return [...this.byIntent.keys()];
  }

  get jobHandlers(): JobHandler[] {
    return this.skills.flatMap((s) => s.jobHandlers);
  }
}
