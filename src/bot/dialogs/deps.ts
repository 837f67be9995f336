import type { StatePropertyAccessor, TurnContext } from 'botbuilder';
import type { SkillRegistry } from '../../skills/registry.js';
import type { SkillContext } from '../../skills/types.js';

/** The last confirmed write of a conversation, so a late duplicate "yes" gets its stored outcome. */
export interface LastConfirmation {
  key?: string;
  at?: number;
}

export interface DialogDeps {
  registry: SkillRegistry;
  /** Who is asking and from where, for the current turn. */
  skillContext(context: TurnContext): SkillContext;
  lastConfirmation: StatePropertyAccessor<LastConfirmation>;
}

/** What a dialog hands back to the bot when the user changed the subject. */
export interface SwitchRequest {
  switchTo: string;
}

export function isSwitch(result: unknown): result is SwitchRequest {
  return typeof result === 'object' && result !== null && typeof (result as SwitchRequest).switchTo === 'string';
}
